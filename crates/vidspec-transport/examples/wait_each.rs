//! Waits on many tasks and handles each result as soon as its task ends, not
//! when all are done: `Client::wait_each` against the in-process simulator,
//! with paused tokio time, so five tasks of 30 to 90 simulated seconds finish
//! in well under a second of real time, in the order they end. Then one more
//! task is watched event by event (`Client::watch`). Run it with
//! `cargo run -p vidspec-transport --example wait_each`.

use futures_util::StreamExt;
use serde_json::json;
use vidspec_core::Registry;
use vidspec_sim::{Sim, SimConfig};
use vidspec_transport::{ApiKey, Client, ClientOptions, TaskRef, WaitEvent, WaitOptions};

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Tasks take 60 s ± 50%, each its own length, so they end out of order.
    let sim = Sim::start(
        "127.0.0.1:0".parse()?,
        SimConfig {
            duration_spread: 0.5,
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
    let registry = Registry::embedded();
    let model = registry.models().next().ok_or("no embedded model")?;

    let mut handles = Vec::new();
    for index in 0..5 {
        let plan = model
            .prepare(json!({"model": model.id(), "prompt": format!("a kite, take {index}")}))
            .map_err(|diagnostics| diagnostics.to_string())?;
        let handle = client.submit(&plan).await?;
        // What to store to re-attach later (`TaskHandle::from_ref`).
        println!(
            "submitted {}",
            serde_json::to_string(&TaskRef::from(&handle))?
        );
        handles.push(handle);
    }

    let started = tokio::time::Instant::now();
    let mut results = client.wait_each(handles, &WaitOptions::default());
    while let Some((handle, result)) = results.next().await {
        let elapsed = started.elapsed().as_secs();
        match result {
            Ok(outcome) => println!(
                "after {elapsed:>3} s (tokio time): {} done, {} video(s)",
                handle.id,
                outcome.videos().len()
            ),
            Err(error) => println!("after {elapsed:>3} s (tokio time): {}: {error}", handle.id),
        }
    }
    // One more task, watched event by event.
    let plan = model
        .prepare(json!({"model": model.id(), "prompt": "a kite, watched"}))
        .map_err(|diagnostics| diagnostics.to_string())?;
    let watched = client.submit(&plan).await?;
    let mut events = client.watch(&watched, &WaitOptions::default());
    while let Some(event) = events.next().await {
        match event {
            WaitEvent::Snapshot(snapshot) => println!(
                "  {} is {} ({}%)",
                snapshot.id,
                snapshot.raw_status,
                snapshot.progress.unwrap_or(0)
            ),
            WaitEvent::Retrying(retry) => {
                println!("  retrying in {:?}: {}", retry.delay, retry.error)
            }
            WaitEvent::Finished(result) => {
                println!("  watched task ended: ok = {}", result.is_ok())
            }
            _ => {}
        }
    }

    sim.shutdown().await;
    Ok(())
}
