//! The ledger at a million entries: builds one (999,980 finished submissions,
//! 20 unfinished) in a temporary directory, then measures, in a fresh child
//! process as `submit` and `tasks` would be, opening it, the double-spend
//! guard (a claim of a new request and the early look for an identical one),
//! the `tasks` listing (every unfinished entry, the newest 20 finished ones
//! and the count of the rest) and the peak resident memory.
//!
//! Run with `cargo run --release -p vidspec-journal --example ledger_scale`
//! (`-- --entries N` for another size, `-- --keep DIR` to reuse a ledger).
//! Prints `ledger: entries=… open_ms=… claim_ms=… guard_ms=… recent_ms=…
//! count_ms=… peak_rss_mb=…`, measured through the async `TaskStore` trait. Goals: the guard and the listing under 100 ms
//! and 50 MB. A figure script, not a test: it asserts nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use vidspec_journal::{Claim, Intent, Ledger, PAGE, PageRequest, StateFilter, TaskStore};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--measure") {
        let path = args.get(at + 1).ok_or("--measure PATH")?;
        return measure(Path::new(path));
    }
    let entries: u64 = match args.iter().position(|arg| arg == "--entries") {
        Some(at) => args.get(at + 1).ok_or("--entries N")?.parse()?,
        None => 1_000_000,
    };
    let dir = match args.iter().position(|arg| arg == "--keep") {
        Some(at) => PathBuf::from(args.get(at + 1).ok_or("--keep DIR")?),
        None => std::env::temp_dir().join(format!("vidspec-ledger-scale-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("ledger-{entries}.sqlite3"));
    if !path.exists() {
        let started = Instant::now();
        build(&path, entries)?;
        eprintln!(
            "built {} with {entries} entries in {:.1} s ({} MB)",
            path.display(),
            started.elapsed().as_secs_f64(),
            std::fs::metadata(&path)?.len() / 1_000_000
        );
    }
    let status = Command::new(std::env::current_exe()?)
        .arg("--measure")
        .arg(&path)
        .status()?;
    if !args.iter().any(|arg| arg == "--keep") {
        let _ = std::fs::remove_dir_all(&dir);
    }
    if !status.success() {
        return Err("the measuring process failed".into());
    }
    Ok(())
}

/// A ledger of `entries` submissions, rows shaped like real ones, written in
/// one transaction (claiming them one by one would fsync a million times).
fn build(path: &Path, entries: u64) -> Result<(), Box<dyn std::error::Error>> {
    drop(Ledger::open(path)?);
    let mut connection = rusqlite::Connection::open(path)?;
    let transaction = connection.transaction()?;
    {
        let mut insert = transaction.prepare(
            "INSERT INTO entries (entry, state, model, spec, request, endpoint, task_id, \
             submitted_at, updated_at, download_dir, videos, paths, reason) \
             VALUES (?1, ?2, 'veo3.1-fast', ?3, ?4, '/v1/videos/generations', ?5, ?6, ?6, \
             'videos', ?7, ?8, ?9)",
        )?;
        let unfinished_from = entries.saturating_sub(20);
        for index in 0..entries {
            let (state, reason) = if index >= unfinished_from {
                ("running", None)
            } else {
                match index % 10 {
                    0 => ("failed", Some("content policy")),
                    1 => ("not_sent", Some("402 payment required")),
                    _ => ("downloaded", None),
                }
            };
            let task = format!("task_{index:012}");
            insert.execute(rusqlite::params![
                format!("j{index:x}-4242-{index}"),
                state,
                format!("sha256:{:064x}", 7),
                format!("sha256:{index:064x}"),
                task,
                1_779_958_948 + i64::try_from(index)?,
                format!(r#"[{{"url":"https://cdn.example/{task}.mp4","expires_at":1779990000}}]"#),
                format!(r#"["videos/{task}-0.mp4"]"#),
                reason,
            ])?;
        }
    }
    transaction.commit()?;
    Ok(())
}

fn measure(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(measure_store(path))
}

/// Measured through the async `TaskStore` trait, as the workflow and the CLI
/// use it (each call a hop to tokio's blocking pool and the ledger's mutex).
async fn measure_store(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let ledger = Ledger::open(path)?;
    let open_ms = started.elapsed().as_secs_f64() * 1e3;
    let store: &dyn TaskStore = &ledger;

    // The guard as `submit` runs it: the early look, then the claim.
    let request = format!("sha256:new-{}", std::process::id());
    let started = Instant::now();
    let early = store.unfinished_with_request(request.clone()).await?;
    let guard_ms = started.elapsed().as_secs_f64() * 1e3;
    let intent = Intent {
        model: "veo3.1-fast".into(),
        spec: "sha256:spec".into(),
        request,
        endpoint: "/v1/videos/generations".into(),
        download_dir: None,
        idempotency_key: None,
        body: None,
        ..Default::default()
    };
    let started = Instant::now();
    let claim = store
        .claim(intent, vidspec_journal::Guard::Unfinished)
        .await?;
    let claim_ms = started.elapsed().as_secs_f64() * 1e3;
    assert!(early.is_none() && matches!(claim, Claim::Claimed(_)));

    // The listing as `tasks` runs it: pages of unfinished entries, then the
    // newest 20 finished ones.
    let mut listed = 0u64;
    let started = Instant::now();
    let mut page = PageRequest::first(PAGE);
    loop {
        let found = store.unfinished(StateFilter::Any, page).await?;
        listed += found.entries.len() as u64;
        match found.next {
            Some(after) => page.after = Some(after),
            None => break,
        }
    }
    let recent = store
        .finished(StateFilter::Any, Some(20), PageRequest::first(PAGE))
        .await?;
    listed += recent.entries.len() as u64;
    let recent_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    let finished = store.count_finished(StateFilter::Any).await?;
    let count_ms = started.elapsed().as_secs_f64() * 1e3;
    let total = finished + listed.saturating_sub(20);
    println!(
        "ledger: entries={total} open_ms={open_ms:.2} claim_ms={claim_ms:.2} \
         guard_ms={guard_ms:.3} recent_ms={recent_ms:.2} count_ms={count_ms:.2} listed={listed} \
         peak_rss_mb={:.1}",
        peak_rss_mb()
    );
    Ok(())
}

/// The process's peak resident set (Linux `VmHWM`), in MB; 0 elsewhere.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
            let kilobytes: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kilobytes / 1024.0)
        })
        .unwrap_or(0.0)
}
