//! Validate and submit through the workflow, offline: the simulator runs in
//! this process on loopback, the ledger in a temporary directory.
//!
//! Run with `cargo run -p vidspec-workflow --example validate_and_submit`.
//! It prints each step: an invalid request refused with its diagnostics
//! (nothing recorded), a valid one submitted and recorded, the identical one
//! refused by the double-spend guard, the wait, the download, and what the
//! ledger holds at the end.

use std::sync::Arc;

use serde_json::json;
use vidspec_core::Registry;
use vidspec_journal::{Ledger, StateFilter, TaskStore};
use vidspec_transport::{ApiKey, Client, ClientOptions, DownloadOptions, WaitEvent, WaitOptions};
use vidspec_workflow::{Event, SubmitOptions, Workflow, WorkflowError};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = vidspec_sim::Sim::start(
        "127.0.0.1:0".parse()?,
        vidspec_sim::SimConfig {
            speed: 1000.0,
            task_seconds: 1.0,
            ..Default::default()
        },
    )
    .await?;
    println!("simulator on {}", sim.base_url());
    let client = Client::new(
        ApiKey::parse("sim-key")?,
        ClientOptions {
            base_url: sim.base_url(),
            allow_insecure_http: true,
            ..Default::default()
        },
    )?;
    let temporary = tempfile::tempdir()?;
    let dir = temporary.path();
    let ledger = Ledger::open(dir.join("ledger.sqlite3"))?;
    let store: Arc<dyn TaskStore> = Arc::new(ledger.clone());
    let workflow = Workflow::new(Registry::embedded(), client, store.clone());
    let mut print_event = |event: Event| println!("  event: {event:?}");

    // 1. An invalid request: refused before anything is sent or recorded.
    let invalid = json!({"model": "Omni-Flash-Ext", "prompt": "a red kite", "duration": 7});
    match workflow
        .submit(invalid, &SubmitOptions::new(), &mut print_event)
        .await
    {
        Err(WorkflowError::Invalid { model, diagnostics }) => {
            println!("refused for {model}:\n{diagnostics}");
        }
        other => println!("unexpected: {other:?}"),
    }

    // 2. A valid request: claimed, sent once, its task id recorded.
    let request = json!({"model": "Omni-Flash-Ext", "prompt": "a red kite over the sea"});
    let submitted = workflow
        .submit(request.clone(), &SubmitOptions::new(), &mut print_event)
        .await?;
    println!(
        "submitted {} as entry {} (mode {}, billed as {})",
        submitted.handle.id,
        submitted.entry,
        submitted.plan.mode(),
        submitted.plan.billing().key
    );

    // 3. The identical request again: the guard refuses it, nothing is sent.
    match workflow
        .submit(request, &SubmitOptions::new(), &mut print_event)
        .await
    {
        Err(error @ WorkflowError::Duplicate { .. }) => println!("refused: {error}"),
        other => println!("unexpected: {other:?}"),
    }

    // 4. Wait (the outcome is recorded), then download (the files are).
    let outcome = workflow
        .wait(
            &submitted.entry,
            &submitted.handle,
            &WaitOptions::default(),
            |event| {
                if let WaitEvent::Snapshot(snapshot) = event {
                    println!("  {}: {}", snapshot.id, snapshot.status.word());
                }
            },
        )
        .await?;
    let downloads = workflow
        .download(
            &submitted.entry,
            &outcome,
            &dir.join("videos"),
            &DownloadOptions::default(),
        )
        .await?;
    for download in &downloads {
        println!(
            "downloaded {} ({} bytes)",
            download.path.display(),
            download.bytes
        );
    }

    let finished = store
        .finished(
            StateFilter::Any,
            None,
            vidspec_journal::PageRequest::first(10),
        )
        .await?;
    for entry in finished.entries {
        println!(
            "ledger: entry {} {} task {}",
            entry.entry,
            entry.state.name(),
            entry.task_id.unwrap_or_default()
        );
    }
    println!("simulator counted {} submit(s)", sim.stats().submits);
    sim.shutdown().await;
    Ok(())
}
