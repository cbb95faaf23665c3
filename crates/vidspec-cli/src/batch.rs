//! `vidspec batch run | plan | status`: a manifest of many requests run
//! through vidspec-batch, estimated with its price book, summarised from the
//! ledger.
//!
//! This module parses the arguments, opens the task store, wires the
//! library's runner to the display (`batch_display`), the webhook receiver
//! and Ctrl-C, prints the report and picks the exit code. It must not decide
//! what happens to a job (submit, resend, wait, retry, stop: that is
//! vidspec-batch's) and must not know any model.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use serde::Serialize;
use vidspec_journal::{Entry, State, TaskStore};

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

/// The task store `--ledger` names: a PostgreSQL URL, or an SQLite file
/// (by default the ledger the other commands use).
pub fn open_store(args: &LedgerArgs) -> anyhow::Result<Arc<dyn TaskStore>> {
    if let Some(location) = &args.ledger
        && (location.starts_with("postgres://") || location.starts_with("postgresql://"))
    {
        anyhow::bail!(
            "--ledger {}: this vidspec cannot open a PostgreSQL ledger",
            terminal(&shown_location(location))
        );
    }
    let journal = JournalArgs {
        journal: args.ledger.as_ref().map(Into::into),
    };
    let ledger = record::ledger(&journal)?;
    Ok(Arc::new(ledger))
}

/// A ledger location for messages: a URL's password is never shown.
pub fn shown_location(location: &str) -> String {
    match url::Url::parse(location) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => location.to_owned(),
    }
}

/// What `batch status` prints with `--json`.
#[derive(Debug, Serialize)]
struct RunSummary {
    run: String,
    store: String,
    jobs: u64,
    /// Jobs per state of their newest entry, every state named.
    states: BTreeMap<&'static str, u64>,
    /// What the gateway reported for the run's tasks, in USD.
    spent: f64,
    /// Jobs that need a person: unknown (maybe charged), failed.
    attention: Vec<AttentionJob>,
}

#[derive(Debug, Serialize)]
struct AttentionJob {
    job: String,
    state: &'static str,
    task_id: Option<String>,
    reason: Option<String>,
}

/// The summary of run `run` from its entries: each job counted once, in the
/// state of its newest entry; the cost of every entry counted.
fn summarise(run: &str, store: String, entries: &[Entry]) -> RunSummary {
    let mut newest: BTreeMap<&str, &Entry> = BTreeMap::new();
    let mut spent = 0.0;
    for entry in entries {
        let Some(job) = &entry.job else { continue };
        if let Some(cost) = entry.cost.filter(|cost| cost.is_finite()) {
            spent += cost;
        }
        // Oldest first: a later entry of the same job replaces an earlier one.
        newest.insert(job.job.as_str(), entry);
    }
    let mut states: BTreeMap<&'static str, u64> =
        State::ALL.iter().map(|state| (state.name(), 0)).collect();
    let mut attention = Vec::new();
    for (job, entry) in &newest {
        *states.entry(entry.state.name()).or_default() += 1;
        if matches!(entry.state, State::Unknown | State::Failed) {
            attention.push(AttentionJob {
                job: (*job).to_owned(),
                state: entry.state.name(),
                task_id: entry.task_id.clone(),
                reason: entry.reason.clone(),
            });
        }
    }
    RunSummary {
        run: run.to_owned(),
        store,
        jobs: newest.len() as u64,
        states,
        spent,
        attention,
    }
}

/// `batch status`: the run's jobs per state, from the ledger alone.
fn status(args: &BatchStatusArgs) -> anyhow::Result<Exit> {
    let run = run_name(args.run.as_deref(), args.manifest.as_deref())?;
    let store = open_store(&args.ledger)?;
    let runtime = runtime()?;
    let entries = runtime
        .block_on(vidspec_journal::all_run_entries(store.as_ref(), &run))
        .with_context(|| format!("cannot read run {} from the ledger", terminal(&run)))?;
    let summary = summarise(&run, shown_location(&store.location()), &entries);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &summary)?;
        writeln!(out)?;
        return Ok(Exit::Valid);
    }
    if summary.jobs == 0 {
        writeln!(
            out,
            "run {}: no jobs in {} (a run is named by --run, else by its manifest's file stem)",
            terminal(&summary.run),
            terminal(&summary.store)
        )?;
        return Ok(Exit::Valid);
    }
    let states: Vec<String> = summary
        .states
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(state, count)| format!("{state} {count}"))
        .collect();
    writeln!(
        out,
        "run {}: {} jobs: {}; spent ${:.2}",
        terminal(&summary.run),
        summary.jobs,
        states.join(", "),
        summary.spent
    )?;
    for job in &summary.attention {
        let task = job.task_id.as_deref().unwrap_or("no task id");
        let reason = job
            .reason
            .as_deref()
            .map(|reason| format!(": {reason}"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {} {} ({task}){reason}",
            job.state,
            terminal(&job.job),
        )?;
    }
    let unfinished = summary.states.get("running").copied().unwrap_or(0)
        + summary.states.get("succeeded").copied().unwrap_or(0)
        + summary.states.get("not_sent").copied().unwrap_or(0);
    if unfinished > 0 {
        writeln!(
            out,
            "{unfinished} job(s) are not finished: `vidspec batch run` with the same manifest continues"
        )?;
    }
    if summary.states.get("unknown").copied().unwrap_or(0) > 0 {
        writeln!(
            out,
            "unknown jobs were sent but their answer was lost: they may have been charged and are never resubmitted; check the gateway's console"
        )?;
    }
    Ok(Exit::Valid)
}
