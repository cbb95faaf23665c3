//! A program outside the workspace that uses the PACKAGED crates the way an
//! application would: `.ci/package-check` builds it in a temporary crate
//! depending on the unpacked `vidspec-core`, `-transport`, `-journal`,
//! `-workflow` and `-sim` packages by path, then drives it through a kill:
//!
//! - `serve`: the simulator, in this process, on loopback; it holds each
//!   submit's answer for a few seconds after creating the task (the window a
//!   kill lands in). Prints its base URL, then serves until killed.
//! - `submit BASE LEDGER SPECS`: validates a seed request with
//!   `Registry::prepare`, then submits a request of the made-up `idempotent`
//!   family (SPECS holds its spec; its endpoint declares `Idempotency-Key`)
//!   through the workflow. The script kills it with SIGKILL once the
//!   simulator has the body, before the answer comes.
//! - `stats BASE`: prints how many submits the simulator received.
//! - `resume BASE LEDGER SPECS`: reopens the ledger, shows the entry the
//!   killed process left (`unknown`, with its key), resumes through the
//!   workflow (the entry is resent with the same key and body, the gateway
//!   answers with the task it created), waits and downloads; then asserts
//!   one task id, one charge, the video saved, and nothing left unfinished.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use vidspec_core::Registry;
use vidspec_journal::{Ledger, State, StateFilter, TaskStore, all_unfinished};
use vidspec_sim::{FaultTarget, Scripted, Sim, SimConfig};
use vidspec_transport::{
    ApiKey, Client, ClientOptions, DownloadOptions, PollClock, WaitOptions,
};
use vidspec_workflow::{SubmitOptions, Workflow};

type Failure = Box<dyn std::error::Error>;

const SPEED: f64 = 50.0;

fn client(base: &str) -> Result<Client, Failure> {
    let client = Client::new(
        ApiKey::parse("sim-key")?,
        ClientOptions {
            base_url: base.to_owned(),
            allow_insecure_http: true,
            ..ClientOptions::default()
        },
    )?;
    Ok(client.with_poll_clock(PollClock::simulated(SPEED)))
}

fn workflow(base: &str, ledger: &Path, specs: &Path) -> Result<(Workflow, Ledger), Failure> {
    let registry = Registry::load_dir(specs)?;
    let ledger = Ledger::open(ledger)?;
    let workflow = Workflow::new(registry, client(base)?, Arc::new(ledger.clone()));
    Ok((workflow, ledger))
}

async fn serve() -> Result<(), Failure> {
    let sim = Sim::start(
        "127.0.0.1:0".parse()?,
        SimConfig {
            speed: SPEED,
            ..SimConfig::default()
        },
    )
    .await?;
    sim.script(vec![Scripted::Slow {
        ms: 5_000,
        on: FaultTarget::Submits,
    }]);
    println!("{}", sim.base_url());
    loop {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}

async fn submit(base: &str, ledger: &Path, specs: &Path) -> Result<(), Failure> {
    let (workflow, _) = workflow(base, ledger, specs)?;
    // Validation alone, routed by the request's model (a seed model).
    let plan = Registry::embedded().prepare(json!({
        "model": "Omni-Flash-Ext", "prompt": "a red kite", "resolution": "1080P"
    }))?;
    println!(
        "validated: {} mode {} billed as {}",
        plan.model(),
        plan.mode(),
        plan.billing().key
    );
    let request = json!({"model": "idempotent-1", "prompt": "a paper boat on a pond"});
    println!("submitting {request}");
    let submitted = workflow
        .submit(request, &SubmitOptions::new(), &mut |_| {})
        .await?;
    println!("submitted {} (not expected: this process is killed before the answer)", submitted.handle.id);
    Ok(())
}

async fn stats(base: &str) -> Result<vidspec_sim::Stats, Failure> {
    let url = url::Url::parse(base)?.join("/__sim/stats")?;
    Ok(reqwest::get(url).await?.error_for_status()?.json().await?)
}

async fn resume(base: &str, ledger_path: &Path, specs: &Path) -> Result<(), Failure> {
    let (workflow, ledger) = workflow(base, ledger_path, specs)?;
    let left = all_unfinished(&ledger, StateFilter::Unfinished).await?;
    for entry in &left {
        println!(
            "left by the killed process: entry {} state {} key {} task {}",
            entry.entry,
            entry.state.name(),
            entry.idempotency_key.as_deref().unwrap_or("-"),
            entry.task_id.as_deref().unwrap_or("-")
        );
    }
    if left.len() != 1 || left[0].state != State::Unknown {
        return Err(format!("expected one unknown entry, found {left:?}").into());
    }
    let videos = ledger_path.with_file_name("videos");
    let resumed = workflow
        .resume(
            &WaitOptions::default(),
            Some(&videos),
            &DownloadOptions::default(),
        )
        .await?;
    for one in &resumed {
        let task = one.handle.as_ref().map(|handle| handle.id.as_str()).unwrap_or("-");
        match &one.outcome {
            Some(Ok(outcome)) => println!("resumed: task {task} {}", outcome.snapshot.raw_status),
            Some(Err(error)) => println!("resumed: task {task}: {error}"),
            None => println!("resumed: task {task}: no outcome"),
        }
        if let Ok(downloads) = &one.downloads {
            for download in downloads {
                println!("downloaded {} ({} bytes)", download.path.display(), download.bytes);
            }
        }
        if let Some(error) = &one.error {
            return Err(format!("resume failed: {error}").into());
        }
    }
    let entry = TaskStore::find_by_task_id(
        &ledger,
        resumed
            .first()
            .and_then(|one| one.handle.as_ref())
            .map(|handle| handle.id.clone())
            .ok_or("no task after resume")?,
    )
    .await?
    .ok_or("the task is not in the ledger")?;
    println!(
        "ledger: entry {} state {} task {} files {}",
        entry.entry,
        entry.state.name(),
        entry.task_id.as_deref().unwrap_or("-"),
        entry.paths.len()
    );
    let counted = stats(base).await?;
    println!(
        "simulator: {} task(s) created (charged) from {} submit request(s), {} replayed from the key",
        counted.submits, counted.submit_attempts, counted.idempotent_replays
    );
    if entry.state != State::Downloaded || entry.paths.is_empty() {
        return Err("the resumed task's video was not saved".into());
    }
    if counted.submits != 1 {
        return Err(format!("expected one charge, the simulator created {}", counted.submits).into());
    }
    if !all_unfinished(&ledger, StateFilter::Unfinished).await?.is_empty() {
        return Err("entries are still unfinished".into());
    }
    println!("workflow-consumer: killed between send and answer, resumed from the ledger: one task, one charge, video saved");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = |index: usize| args.get(index).map(PathBuf::from).unwrap_or_default();
    let base = args.get(1).cloned().unwrap_or_default();
    let done = match args.first().map(String::as_str) {
        Some("serve") => serve().await,
        Some("submit") => submit(&base, &path(2), &path(3)).await,
        Some("stats") => stats(&base).await.map(|stats| println!("{}", stats.submit_attempts)),
        Some("resume") => resume(&base, &path(2), &path(3)).await,
        _ => Err("usage: workflow-consumer serve | submit BASE LEDGER SPECS | stats BASE | resume BASE LEDGER SPECS".into()),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("workflow-consumer: {error}");
            ExitCode::FAILURE
        }
    }
}
