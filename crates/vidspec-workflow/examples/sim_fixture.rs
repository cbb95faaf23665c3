//! The simulator as a test fixture, with paused tokio time: what a test of
//! your own service looks like when it drives vidspec. Tasks of ten
//! simulated minutes end in well under a second of real time, because the
//! wait's sleeps are tokio timers and paused time skips them; nothing leaves
//! loopback and no key is real.
//!
//! In a test, write the same body under
//! `#[tokio::test(flavor = "current_thread", start_paused = true)]` (tokio's
//! `test-util` feature). Run this one with
//! `cargo run -p vidspec-workflow --example sim_fixture`.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use vidspec_core::Registry;
use vidspec_journal::{Ledger, State, TaskStore};
use vidspec_sim::{Sim, SimConfig};
use vidspec_transport::{ApiKey, Client, ClientOptions, WaitEvent, WaitOptions};
use vidspec_workflow::{SubmitOptions, Workflow};

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let clock = tokio::time::Instant::now();
    // 1. The fixture: a simulated gateway on an ephemeral loopback port whose
    //    tasks take ten minutes of (tokio) time, and a ledger of its own.
    let sim = Sim::start(
        "127.0.0.1:0".parse()?,
        SimConfig {
            task_seconds: 600.0,
            ..SimConfig::default()
        },
    )
    .await?;
    let client = Client::new(
        ApiKey::new("sim-key"),
        ClientOptions {
            base_url: sim.base_url(),
            ..ClientOptions::default()
        },
    )?;
    let dir = tempfile::tempdir()?;
    let ledger = Ledger::open(dir.path().join("ledger.sqlite3"))?;
    let workflow = Workflow::new(Registry::embedded(), client, Arc::new(ledger.clone()));

    // 2. The code under test: submit, then wait for the task to end.
    let request = json!({"model": "Omni-Flash-Ext", "prompt": "a lighthouse at dusk"});
    let submitted = workflow
        .submit(request, &SubmitOptions::new(), &mut |_| {})
        .await?;
    let mut polls = 0;
    let outcome = workflow
        .wait(
            &submitted.entry,
            &submitted.handle,
            &WaitOptions::default(),
            |event| {
                if let WaitEvent::Snapshot(_) = event {
                    polls += 1;
                }
            },
        )
        .await?;

    // 3. The assertions a test makes: what was sent, charged and recorded.
    let stats = sim.stats();
    assert_eq!(stats.submits, 1, "one task created");
    assert!(!outcome.videos().is_empty(), "a video to download");
    let entry = TaskStore::find_by_task_id(&ledger, submitted.handle.id.clone())
        .await?
        .ok_or("the task is recorded")?;
    assert_eq!(entry.state, State::Succeeded);
    println!(
        "task {} succeeded after {polls} status changes and {} polls; {:.0} simulated s in {:.2} real s",
        submitted.handle.id,
        stats.polls,
        clock.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    sim.shutdown().await;
    Ok(())
}
