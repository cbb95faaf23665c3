//! `status`, `wait`, `tasks` and `resume`: following tasks after submission,
//! from the gateway and from the ledger.
//!
//! Owns which task section reads an answer (the model's, or every spec's
//! merged when the model is unknown) and how `tasks` lists a ledger of any
//! size (streamed, never all in memory). It must not submit anything.

use std::io::Write as _;
use std::ops::ControlFlow;
use std::sync::Arc;

use anyhow::Context;
use serde_json::{Value, json};
use vidspec_core::Registry;
use vidspec_core::spec::Task;
use vidspec_journal::{
    Entry, LedgerError, PAGE, PageRequest, State, StateFilter, TaskStore, all_unfinished,
};
use vidspec_transport::TaskHandle;
use vidspec_workflow::{Recorder, Workflow, recorded_outcome};

use crate::Exit;
use crate::cli::{Format, ResumeArgs, StateArg, StatusArgs, TasksArgs, WaitArgs};
use crate::gateway::Finished;
use crate::gateway::{
    client, describe, download_options, error_json, exit_of, fail, report_finished, runtime,
    task_error_text, wait_and_download, wait_options,
};
use crate::output::terminal;
use crate::progress::Progress;
use crate::record;
use crate::registry;
use vidspec_core::text::thousands;

/// The task section to read tasks with: the model's, or every spec's merged.
fn task_section(registry: &Registry, model: Option<&str>) -> anyhow::Result<(String, Arc<Task>)> {
    match model {
        Some(id) => {
            let model = registry::find(registry, id).map_err(anyhow::Error::msg)?;
            Ok((model.id().to_owned(), Arc::clone(model.task())))
        }
        None => {
            let merged = registry.merged_task().context("no specs are loaded")?;
            Ok(("unknown".to_owned(), Arc::new(merged)))
        }
    }
}

fn handles(ids: &[String], model: &str, task: &Arc<Task>) -> Vec<TaskHandle> {
    ids.iter()
        .map(|id| TaskHandle {
            id: id.clone(),
            model: model.to_owned(),
            task: Arc::clone(task),
            request_id: None,
        })
        .collect()
}

/// Runs `status`.
pub fn status(args: &StatusArgs) -> anyhow::Result<Exit> {
    let registry = registry::load_for(args.specs.specs.as_deref())?;
    let (model, task) = task_section(&registry, args.model.as_deref())?;
    let client = match client(&args.gateway) {
        Ok(client) => client,
        Err(error) => return fail(args.gateway.format, &error, None),
    };
    let runtime = runtime()?;
    let mut exit = Exit::Valid;
    let mut results = Vec::new();
    for handle in handles(&args.tasks, &model, &task) {
        match runtime.block_on(client.task(&handle)) {
            Ok(snapshot) => {
                if args.gateway.format == Format::Text {
                    println!("{}", describe(&snapshot));
                }
                results.push(json!({"task_id": handle.id, "snapshot": snapshot, "error": null}));
            }
            Err(error) => {
                if args.gateway.format == Format::Text {
                    eprintln!("{}", task_error_text(&handle.id, &error));
                }
                results.push(
                    json!({"task_id": handle.id, "snapshot": null, "error": error_json(&error)}),
                );
                exit = exit_of(&error);
            }
        }
    }
    if args.gateway.format == Format::Json {
        println!("{}", Value::Array(results));
    }
    Ok(exit)
}

/// Runs `wait`.
pub fn wait(args: &WaitArgs) -> anyhow::Result<Exit> {
    let registry = registry::load_for(args.specs.specs.as_deref())?;
    let (model, task) = task_section(&registry, args.model.as_deref())?;
    let options = wait_options(&args.gateway)?;
    let download = download_options(args.force, &args.limits)?;
    let client = match client(&args.gateway) {
        Ok(client) => client,
        Err(error) => return fail(args.gateway.format, &error, None),
    };
    let runtime = runtime()?;
    let progress = Progress::new(args.gateway.format == Format::Json);
    let handles = handles(&args.tasks, &model, &task);
    let waits = handles.iter().map(|handle| {
        wait_and_download(
            &client,
            handle,
            &options,
            &progress,
            args.download.as_deref(),
            &download,
        )
    });
    let finished = runtime.block_on(futures_util::future::join_all(waits));
    // Opened after the wait: a ledger that cannot be used (the reason this
    // command may have been suggested) does not stop the videos.
    let recorded = match record::ledger(&args.journal) {
        Ok(ledger) => runtime.block_on(record_by_task_id(Arc::new(ledger), &handles, &finished)),
        Err(error) => {
            eprintln!("warning: {error}; the outcome of these tasks is not recorded in the ledger");
            Ok(())
        }
    };
    let mut exit = Exit::Valid;
    let mut results = Vec::new();
    for (handle, finished) in handles.iter().zip(&finished) {
        let mut result = json!({"task_id": handle.id, "status": null, "snapshot": null, "downloads": [], "error": null});
        let this = report_finished(handle, finished, args.gateway.format, &mut result);
        if exit == Exit::Valid {
            exit = this;
        }
        results.push(result);
    }
    if args.gateway.format == Format::Json {
        println!("{}", Value::Array(results));
    }
    if let Err(error) = recorded {
        eprintln!("error: {error}; `vidspec tasks` may show these tasks as unfinished");
        exit = Exit::Unrecorded.or(exit);
    }
    Ok(exit)
}

/// Records outcomes of tasks the ledger knows (by task id); others are left
/// out. Every task is tried; the first failure is returned.
async fn record_by_task_id(
    store: Arc<dyn TaskStore>,
    handles: &[TaskHandle],
    finished: &[Finished],
) -> Result<(), LedgerError> {
    let mut result = Ok(());
    for (handle, finished) in handles.iter().zip(finished) {
        let recorded = match store.find_by_task_id(handle.id.clone()).await {
            Ok(Some(entry)) => {
                Recorder::existing(Arc::clone(&store), &entry)
                    .finished(&finished.outcome, &finished.downloads)
                    .await
            }
            Ok(None) => Ok(()),
            Err(error) => Err(error),
        };
        result = result.and(recorded);
    }
    result
}

fn state_filter(filter: Option<StateArg>) -> StateFilter {
    match filter {
        None => StateFilter::Any,
        Some(StateArg::Unfinished) => StateFilter::Unfinished,
        Some(StateArg::Unknown) => StateFilter::Only(State::Unknown),
        Some(StateArg::Running) => StateFilter::Only(State::Running),
        Some(StateArg::Succeeded) => StateFilter::Only(State::Succeeded),
        Some(StateArg::Downloaded) => StateFilter::Only(State::Downloaded),
        Some(StateArg::Failed) => StateFilter::Only(State::Failed),
        Some(StateArg::NotSent) => StateFilter::Only(State::NotSent),
    }
}

/// `2026-11-24T06:40:00Z` for Unix seconds (UTC, proleptic Gregorian).
fn utc(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn text_line(entry: &Entry) -> String {
    let note = match entry.state {
        State::Downloaded => entry.paths.join(", "),
        _ => entry.reason.clone().unwrap_or_default(),
    };
    format!(
        "{:<10}  {:<30}  {:<24}  {}  {}",
        entry.state.name(),
        terminal(entry.task_id.as_deref().unwrap_or("-")),
        terminal(&entry.model),
        utc(entry.submitted_at),
        terminal(&note),
    )
}

/// Runs `tasks`: every unfinished entry, then the newest `--limit` finished
/// ones (or all), streamed, and a count of the finished ones not shown.
pub fn tasks(args: &TasksArgs) -> anyhow::Result<Exit> {
    let ledger = record::ledger(&args.journal)?;
    let store: &dyn TaskStore = &ledger;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let filter = state_filter(args.state);
    let newest = (!args.all).then_some(args.limit);
    let not_shown = match newest {
        Some(newest) => runtime
            .block_on(store.count_finished(filter))?
            .saturating_sub(newest),
        None => 0,
    };
    let json = args.format == Format::Json;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        write!(out, "{{\"journal\":{},\"entries\":[", json!(ledger.path()))?;
    }
    let mut listed = 0u64;
    let mut failure: Option<std::io::Error> = None;
    let mut visit = |entry: Entry| {
        if failure.is_some() {
            return ControlFlow::Break(());
        }
        let written = if json {
            let comma = if listed == 0 { "" } else { "," };
            serde_json::to_string(&entry)
                .map_err(std::io::Error::other)
                .and_then(|line| write!(out, "{comma}{line}"))
        } else {
            writeln!(out, "{}", text_line(&entry))
        };
        listed += 1;
        match written {
            Ok(()) => ControlFlow::Continue(()),
            Err(error) => {
                failure = Some(error);
                ControlFlow::Break(())
            }
        }
    };
    // Page by page, so a ledger of any size is listed in flat memory.
    for finished in [false, true] {
        let mut page = PageRequest::first(PAGE);
        loop {
            let found = if finished {
                runtime.block_on(store.finished(filter, newest, page))?
            } else {
                runtime.block_on(store.unfinished(filter, page))?
            };
            let stopped = found
                .entries
                .into_iter()
                .any(|entry| visit(entry).is_break());
            match found.next {
                Some(after) if !stopped => page.after = Some(after),
                _ => break,
            }
        }
    }
    if let Some(error) = failure {
        return Err(anyhow::Error::new(error).context("cannot write to standard output"));
    }
    if json {
        writeln!(out, "],\"not_shown\":{not_shown}}}")?;
    } else {
        if listed == 0 && not_shown == 0 {
            writeln!(out, "no submissions in {}", ledger.path().display())?;
        }
        if not_shown > 0 {
            writeln!(
                out,
                "… and {} earlier finished submissions not shown; --all lists every one, --limit N the newest N",
                thousands(not_shown)
            )?;
        }
    }
    out.flush().context("cannot write to standard output")?;
    Ok(Exit::Valid)
}

/// Runs `resume`: waits for running tasks and saves the videos of finished
/// ones; an `unknown` entry sent with an idempotency key is resent with that
/// key and the same body (the gateway replays the first answer if it
/// arrived), any other is left with a warning.
pub fn resume(args: &ResumeArgs) -> anyhow::Result<Exit> {
    let registry = registry::load_for(args.specs.specs.as_deref())?;
    let ledger = record::ledger(&args.journal)?;
    let store: Arc<dyn TaskStore> = Arc::new(ledger.clone());
    let runtime = runtime()?;
    let unfinished = runtime.block_on(all_unfinished(store.as_ref(), StateFilter::Unfinished))?;
    let text = args.gateway.format == Format::Text;
    let resendable = |entry: &Entry| entry.idempotency_key.is_some() && entry.body.is_some();
    let unknown: Vec<&Entry> = unfinished
        .iter()
        .filter(|entry| entry.state == State::Unknown && !resendable(entry))
        .collect();
    for entry in &unknown {
        if text {
            let line = format!(
                "warning: entry {} ({}): the submit's answer was lost ({}); it may have been charged — check the console before sending it again",
                entry.entry,
                entry.model,
                entry.reason.as_deref().unwrap_or("no reason recorded")
            );
            eprintln!("{}", terminal(&line));
        }
    }
    let resend: Vec<&Entry> = unfinished
        .iter()
        .filter(|entry| entry.state == State::Unknown && resendable(entry))
        .collect();
    let pending: Vec<&Entry> = unfinished
        .iter()
        .filter(|entry| {
            matches!(entry.state, State::Running | State::Succeeded) && entry.task_id.is_some()
        })
        .collect();
    if pending.is_empty() && resend.is_empty() {
        if text {
            println!("nothing to resume in {}", ledger.path().display());
        } else {
            println!("[]");
        }
        return Ok(Exit::Valid);
    }
    let options = wait_options(&args.gateway)?;
    let download = download_options(args.force, &args.limits)?;
    let client = match client(&args.gateway) {
        Ok(client) => client,
        Err(error) => return fail(args.gateway.format, &error, None),
    };
    let workflow = Workflow::new(registry.clone(), client.clone(), Arc::clone(&store));
    let mut exit = Exit::Valid;
    let mut pending: Vec<Entry> = pending.into_iter().cloned().collect();
    for entry in resend {
        match runtime.block_on(workflow.resend(entry)) {
            Ok(handle) => {
                if text {
                    let line = format!(
                        "note: entry {} ({}): resent with its idempotency key; task {}",
                        entry.entry, entry.model, handle.id
                    );
                    eprintln!("{}", terminal(&line));
                }
                let mut entry = entry.clone();
                entry.state = State::Running;
                entry.task_id = Some(handle.id);
                pending.push(entry);
            }
            Err(error) => {
                eprintln!(
                    "{}",
                    terminal(&format!("error: entry {}: {error}", entry.entry))
                );
                exit = Exit::Gateway;
            }
        }
    }
    let progress = Progress::new(!text);
    let merged = registry.merged_task().map(Arc::new);
    let mut jobs = Vec::new();
    for entry in &pending {
        let task_id = entry.task_id.clone().unwrap_or_default();
        let task = match registry.model(&entry.model) {
            Some(model) => Arc::clone(model.task()),
            None => match &merged {
                Some(task) => Arc::clone(task),
                None => continue,
            },
        };
        let handle = TaskHandle {
            id: task_id,
            model: entry.model.clone(),
            task,
            request_id: None,
        };
        let dir = args
            .download
            .clone()
            .or_else(|| entry.download_dir.clone().map(Into::into));
        jobs.push((entry, handle, dir));
    }
    let runs = jobs.iter().map(|(entry, handle, dir)| {
        let client = &client;
        let options = &options;
        let progress = &progress;
        let download = &download;
        async move {
            if entry.state == State::Succeeded {
                let outcome = recorded_outcome(entry, &handle.id);
                let downloads = match dir {
                    Some(dir) => client.download(&outcome, dir, download).await,
                    None => Ok(Vec::new()),
                };
                Finished {
                    outcome: Ok(outcome),
                    downloads,
                }
            } else {
                wait_and_download(client, handle, options, progress, dir.as_deref(), download).await
            }
        }
    });
    let finished = runtime.block_on(futures_util::future::join_all(runs));
    let mut results = Vec::new();
    let mut unrecorded = None;
    for ((entry, handle, dir), finished) in jobs.iter().zip(&finished) {
        let recorder = Recorder::existing(Arc::clone(&store), entry);
        if let Err(error) =
            runtime.block_on(recorder.finished(&finished.outcome, &finished.downloads))
        {
            unrecorded.get_or_insert(error);
        }
        let mut result = json!({"entry": entry.entry, "task_id": handle.id, "status": null, "snapshot": null, "downloads": [], "error": null});
        let this = report_finished(handle, finished, args.gateway.format, &mut result);
        if text && dir.is_none() && finished.outcome.is_ok() {
            println!(
                "{}: pass --download DIR to save its videos",
                terminal(&handle.id)
            );
        }
        if exit == Exit::Valid {
            exit = this;
        }
        results.push(result);
    }
    if !text {
        println!("{}", Value::Array(results));
    }
    if let Some(error) = unrecorded {
        eprintln!("error: {error}; `vidspec resume` again records what it could not");
        exit = Exit::Unrecorded.or(exit);
    }
    Ok(exit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_779_958_948), "2026-05-28T09:02:28Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
    }
}
