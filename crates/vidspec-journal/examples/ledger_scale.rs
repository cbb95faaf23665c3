//! The ledger at a million entries: builds one (999,980 finished submissions,
//! 20 unfinished; all of them jobs of batch runs of 10,000 jobs, the
//! succeeded ones with a billing and a reported cost) in a temporary
//! directory, then measures, in a fresh child process as `submit`, `tasks`
//! and `batch run` would be, opening it, the double-spend guard (a claim of
//! a new request and the early look for an identical one), the `tasks`
//! listing (every unfinished entry, the newest 20 finished ones and the
//! count of the rest), the batch operations (a claim of a new job with
//! `Guard::Once` and of a job already done, the first page of a run, a
//! take-over of a run's 20 unfinished entries whose leases ended, a
//! heartbeat, the learned prices) and the peak resident memory.
//!
//! Run with `cargo run --release -p vidspec-journal --example ledger_scale`
//! (`-- --entries N` for another size, `-- --keep DIR` to reuse a ledger).
//! Prints `ledger: entries=… open_ms=… claim_ms=… guard_ms=… recent_ms=…
//! count_ms=… listed=… peak_rss_mb=…` and `batch: claim_once_ms=…
//! claim_once_done_ms=… run_page_ms=… take_over_ms=… taken=… renew_ms=…
//! prices_ms=… keys=… peak_rss_mb=…`, measured through the async
//! `TaskStore` trait. Goals: the guard and the listing under 100 ms and
//! 50 MB. A figure script, not a test: it asserts nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use vidspec_journal::{
    Claim, Guard, Intent, JobRef, Lease, Ledger, PAGE, PageRequest, StateFilter, TaskStore,
};

/// Jobs per batch run in the built ledger.
const RUN_JOBS: u64 = 10_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--measure") {
        let path = args.get(at + 1).ok_or("--measure PATH BUILT")?;
        let built = args.get(at + 2).ok_or("--measure PATH BUILT")?.parse()?;
        return measure(Path::new(path), built);
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
        .arg(entries.to_string())
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
             submitted_at, updated_at, download_dir, videos, paths, reason, run, job, \
             billing_key, billing_multiplier, cost, owner, lease_until) \
             VALUES (?1, ?2, 'veo3.1-fast', ?3, ?4, '/v1/videos/generations', ?5, ?6, ?6, \
             'videos', ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 'worker-gone', 0)",
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
            let (billing_key, cost) = if state == "downloaded" {
                let key =
                    ["veo3.1-fast@720p", "veo3.1-fast@1080p", "kling@std"][(index % 3) as usize];
                (Some(key), Some(0.15 + (index % 7) as f64 * 0.01))
            } else {
                (None, None)
            };
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
                run_name(index / RUN_JOBS),
                format!("job-{}", index % RUN_JOBS),
                billing_key,
                billing_key.map(|_| 1),
                cost,
            ])?;
        }
    }
    transaction.commit()?;
    Ok(())
}

fn run_name(run: u64) -> String {
    format!("nightly-{run:03}")
}

fn measure(path: &Path, built: u64) -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(measure_store(path, built))
}

/// Measured through the async `TaskStore` trait, as the workflow and the CLI
/// use it (each call a hop to tokio's blocking pool and the ledger's mutex).
async fn measure_store(path: &Path, built: u64) -> Result<(), Box<dyn std::error::Error>> {
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
    let claim = store.claim(intent, Guard::Unfinished).await?;
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

    // The batch operations, on the newest run (its 20 unfinished entries
    // were leased by a worker that is gone).
    let run = run_name(built.saturating_sub(1) / RUN_JOBS);
    let job = |job: &str| Intent {
        model: "veo3.1-fast".into(),
        spec: "sha256:spec".into(),
        request: format!("sha256:{run}/{job}"),
        endpoint: "/v1/videos/generations".into(),
        job: Some(JobRef {
            run: run.clone(),
            job: job.into(),
        }),
        lease: Some(Lease {
            owner: "worker-measuring".into(),
            seconds: 60,
        }),
        ..Default::default()
    };
    let once = Guard::Once {
        retry_failed: false,
    };
    let started = Instant::now();
    let claim = store
        .claim(job(&format!("job-new-{}", std::process::id())), once)
        .await?;
    let claim_once_ms = started.elapsed().as_secs_f64() * 1e3;
    assert!(matches!(claim, Claim::Claimed(_)));
    // A job already done: the request key of a downloaded entry built above
    // (every tenth entry from the third on).
    let done = Intent {
        request: format!("sha256:{:064x}", built.saturating_sub(30) / 10 * 10 + 2),
        ..job("job-done")
    };
    let started = Instant::now();
    let claim = store.claim(done, once).await?;
    let claim_once_done_ms = started.elapsed().as_secs_f64() * 1e3;
    assert!(matches!(claim, Claim::Duplicate(_)));
    let started = Instant::now();
    let page = store
        .run_entries(run.clone(), PageRequest::first(PAGE))
        .await?;
    let run_page_ms = started.elapsed().as_secs_f64() * 1e3;
    assert!(!page.entries.is_empty());
    let started = Instant::now();
    let taken = store
        .take_over(run.clone(), "worker-measuring".into(), 60, 100)
        .await?;
    let take_over_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    store.renew_leases("worker-measuring".into(), 60).await?;
    let renew_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    let prices = store.learned_prices().await?;
    let prices_ms = started.elapsed().as_secs_f64() * 1e3;
    // A ledger kept for the next run (`--keep`) has them to take over again.
    store.release_leases("worker-measuring".into()).await?;
    println!(
        "batch: claim_once_ms={claim_once_ms:.2} claim_once_done_ms={claim_once_done_ms:.2} \
         run_page_ms={run_page_ms:.2} take_over_ms={take_over_ms:.2} taken={} \
         renew_ms={renew_ms:.2} prices_ms={prices_ms:.2} keys={} peak_rss_mb={:.1}",
        taken.len(),
        prices.len(),
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
