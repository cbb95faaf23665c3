//! Reads and checks a generated manifest of N jobs (default 10,000) and
//! prints the time it took and the process's peak resident memory, to show
//! that a run's jobs fit in little memory (`request` kept as a JSON value,
//! nothing else heavy).
//!
//! `cargo run --release -p vidspec-batch --example manifest_scale -- 10000`

use std::io::Write;
use std::time::Instant;

use vidspec_core::Registry;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let jobs: usize = match std::env::args().nth(1) {
        Some(count) => count.parse()?,
        None => 10_000,
    };
    let registry = Registry::embedded();
    let model = registry
        .models()
        .next()
        .ok_or("the embedded registry holds no model")?;
    let mut file = tempfile::NamedTempFile::new()?;
    for index in 0..jobs {
        // A long prompt, as real manifests have.
        let line = serde_json::json!({
            "id": format!("job-{index}"),
            "model": model.id(),
            "prompt": format!("shot {index}: {}", "a red kite over a grey sea at dawn, ".repeat(8)),
        });
        writeln!(file, "{line}")?;
    }
    file.flush()?;
    let started = Instant::now();
    let manifest = vidspec_batch::load(file.path(), registry)?;
    let elapsed = started.elapsed();
    println!(
        "manifest_scale: jobs={} invalid={} load_ms={} peak_rss_mb={}",
        manifest.jobs.len(),
        manifest.invalid.len(),
        elapsed.as_millis(),
        peak_rss_mb().map_or_else(|| "unknown".to_owned(), |mb| format!("{mb:.1}")),
    );
    Ok(())
}

/// The peak resident set size (`VmHWM` of `/proc/self/status`), on Linux.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kilobytes: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes / 1024.0)
}
