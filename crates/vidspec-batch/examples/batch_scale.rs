//! The 10,000-job figure: one `Batch` runs N jobs (default 10,000) in one
//! process against the in-process simulator on loopback (its clock 1000×
//! faster, the poller's clock scaled to match), with a real SQLite ledger
//! and real downloads into a temporary folder, and prints one line with the
//! peak RSS (`VmHWM` of `/proc/self/status`, Linux) and the wall time. The
//! target is a peak under 100 MB.
//!
//! Run it with
//! `cargo run --release -p vidspec-batch --example batch_scale [-- JOBS [CONCURRENCY]]`.
//! The simulator's task table and the ledger's connection live in the same
//! process, so the figure is an upper bound for the runner itself.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use vidspec_batch::{Batch, BatchEvent, BatchOptions, JobStatus, manifest};
use vidspec_core::Registry;
use vidspec_journal::Ledger;
use vidspec_sim::{Sim, SimConfig};
use vidspec_transport::{ApiKey, Backoff, Client, ClientOptions, PollClock};
use vidspec_workflow::Workflow;

/// The simulator's speed, and the poller's clock scale to match it.
const SPEED: f64 = 1000.0;
/// Simulated seconds per task: 60 ms of real time at `SPEED`.
const TASK_SECONDS: f64 = 60.0;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let jobs: usize = args
        .next()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(10_000);
    let concurrency: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(64);

    let dir = tempfile::tempdir()?;
    let manifest_path = dir.path().join("scale.jsonl");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&manifest_path)?);
        for n in 0..jobs {
            let line = json!({"id": format!("job-{n:05}"), "model": "Omni-Flash-Ext",
                "prompt": format!("a lighthouse at dusk, take {n}")});
            writeln!(file, "{line}")?;
        }
        file.flush()?;
    }
    let sim = Sim::start(
        "127.0.0.1:0".parse()?,
        SimConfig {
            speed: SPEED,
            task_seconds: TASK_SECONDS,
            duration_spread: 0.5,
            ..SimConfig::default()
        },
    )
    .await?;
    let client = Client::new(
        ApiKey::new("sim-key"),
        ClientOptions {
            base_url: sim.base_url(),
            requests_per_second: 0.0,
            timeout: Duration::from_secs(30),
            poll_backoff: Backoff::fast(),
            submit_backoff: Backoff::fast(),
            ..ClientOptions::default()
        },
    )?
    .with_poll_clock(PollClock::simulated(SPEED));
    let registry = Registry::embedded();
    let started = Instant::now();
    let manifest = manifest::load(&manifest_path, registry)?;
    let loaded = started.elapsed();
    let ledger = Ledger::open(dir.path().join("ledger.sqlite3"))?;
    let workflow = Workflow::new(registry, client, Arc::new(ledger));
    let mut options = BatchOptions::new("scale", dir.path().join("out"));
    options.concurrency = concurrency;
    options.rps = 0.0;
    options.skip_preflight = true;
    std::fs::create_dir_all(&options.out_dir)?;
    let batch = Batch::new(workflow, options);
    let report = batch.run(manifest.jobs, |_: &BatchEvent| {}).await?;
    let wall = started.elapsed();
    let downloaded = report
        .rows
        .iter()
        .filter(|row| row.status == JobStatus::Downloaded)
        .count();
    let stats = sim.stats();
    // The runner's client keeps idle connections open; dropped first, the
    // simulator stops at once instead of after its grace period.
    drop(batch);
    sim.shutdown().await;
    println!(
        "batch_scale: jobs={jobs} concurrency={concurrency} downloaded={downloaded} submits={} peak_rss_mb={:.1} wall_s={:.1} manifest_load_s={:.2}",
        stats.submits,
        peak_rss_kib() as f64 / 1024.0,
        wall.as_secs_f64(),
        loaded.as_secs_f64()
    );
    Ok(())
}

/// Peak resident set size of this process in KiB (`VmHWM`), 0 if unknown.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|value| value.parse().ok())
        })
        .unwrap_or(0)
}
