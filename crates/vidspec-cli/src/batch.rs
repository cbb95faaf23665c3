//! `vidspec batch run | plan | status`: a manifest of many requests run
//! through vidspec-batch, estimated with its price book, summarised from the
//! ledger.
//!
//! This module parses the arguments, opens the task store, wires the
//! library's runner to the display (`batch_display`), the webhook receiver
//! and Ctrl-C, prints the report and picks the exit code. It must not decide
//! what happens to a job (submit, resend, wait, retry, stop: that is
//! vidspec-batch's) and must not know any model.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use vidspec_batch::prices::format_usd;
use vidspec_journal::{State, TaskStore};

use crate::Exit;
use crate::cli::{BatchCommand, BatchStatusArgs, JournalArgs, LedgerArgs};
use crate::gateway::runtime;
use crate::output::terminal;
use crate::record;

/// Runs one `batch` subcommand.
pub fn run(command: &BatchCommand) -> anyhow::Result<Exit> {
    match command {
        BatchCommand::Run(args) => crate::batch_run::run(args),
        BatchCommand::Plan(args) => crate::batch_plan::plan(args),
        BatchCommand::Status(args) => status(args),
    }
}

/// The run's name: `--run`, else the manifest's file stem.
pub fn run_name(flag: Option<&str>, manifest: Option<&Path>) -> anyhow::Result<String> {
    let name = match (flag, manifest) {
        (Some(name), _) => name.to_owned(),
        (None, Some(manifest)) => manifest
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default(),
        (None, None) => String::new(),
    };
    anyhow::ensure!(
        !name.trim().is_empty(),
        "the run has no name: give --run NAME (a manifest's file stem names it otherwise)"
    );
    Ok(name)
}

/// The task store `--ledger` names: a PostgreSQL URL (`postgres://…`), or
/// an SQLite file; by default the ledger the other commands use (with an
/// older JSON-lines journal imported once).
pub fn open_store(
    runtime: &tokio::runtime::Runtime,
    args: &LedgerArgs,
) -> anyhow::Result<Arc<dyn TaskStore>> {
    match &args.ledger {
        Some(location) if vidspec_journal::is_postgres_url(location) => {
            let store = runtime
                .block_on(vidspec_journal::open_store(location))
                .with_context(|| {
                    format!(
                        "cannot open the ledger {}",
                        terminal(&shown_location(location))
                    )
                })?;
            Ok(store)
        }
        _ => {
            let journal = JournalArgs {
                journal: args.ledger.as_ref().map(Into::into),
            };
            Ok(Arc::new(record::ledger(&journal)?))
        }
    }
}

/// A ledger location for messages: a PostgreSQL URL without its user
/// name and password; a path as it is.
pub fn shown_location(location: &str) -> String {
    if vidspec_journal::is_postgres_url(location) {
        vidspec_journal::redacted_location(location)
    } else {
        location.to_owned()
    }
}

/// `batch status`: the run's jobs per state, from the ledger alone.
fn status(args: &BatchStatusArgs) -> anyhow::Result<Exit> {
    let run = run_name(args.run.as_deref(), args.manifest.as_deref())?;
    let runtime = runtime()?;
    let store = open_store(&runtime, &args.ledger)?;
    let status = runtime
        .block_on(vidspec_batch::status::run_status(store.as_ref(), &run))
        .with_context(|| format!("cannot read run {} from the ledger", terminal(&run)))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &status)?;
        writeln!(out)?;
        return Ok(Exit::Valid);
    }
    let location = shown_location(&store.location());
    if status.jobs == 0 {
        writeln!(
            out,
            "run {}: no jobs in {} (a run is named by --run, else by its manifest's file stem)",
            terminal(&status.run),
            terminal(&location)
        )?;
        return Ok(Exit::Valid);
    }
    let count = |state: State| status.by_state.get(&state).copied().unwrap_or(0);
    let states: Vec<String> = State::ALL
        .iter()
        .filter(|state| count(**state) > 0)
        .map(|state| format!("{} {}", state.name(), count(*state)))
        .collect();
    writeln!(
        out,
        "run {}: {} jobs: {}; spent {}",
        terminal(&status.run),
        status.jobs,
        states.join(", "),
        format_usd(status.spent)
    )?;
    for job in &status.unknown {
        let next = if job.resendable {
            "a run resends it under its idempotency key"
        } else {
            "never sent again: check the gateway's console"
        };
        let reason = job
            .reason
            .as_deref()
            .map(|reason| format!(" ({reason})"))
            .unwrap_or_default();
        writeln!(
            out,
            "{}",
            terminal(&format!("  unknown {}{reason}: {next}", job.job))
        )?;
    }
    for worker in &status.workers {
        writeln!(
            out,
            "{}",
            terminal(&format!(
                "  worker {} holds {} unfinished job(s)",
                worker.owner, worker.entries
            ))
        )?;
    }
    let unfinished = count(State::Running) + count(State::Succeeded) + count(State::NotSent);
    if unfinished > 0 {
        writeln!(
            out,
            "{unfinished} job(s) are not finished: `vidspec batch run` with the same manifest continues"
        )?;
    }
    if count(State::Failed) > 0 {
        writeln!(
            out,
            "{} job(s) failed: `vidspec batch run --retry-failed` submits them again (and pays again)",
            count(State::Failed)
        )?;
    }
    Ok(Exit::Valid)
}
