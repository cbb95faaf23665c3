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
use vidspec_journal::{Entry, LedgerError, State, StateFilter, TaskStore, collect};
use vidspec_transport::{Outcome, Status, TaskHandle, TaskSnapshot, Video};

use crate::Exit;
use crate::cli::{Format, ResumeArgs, StateArg, StatusArgs, TasksArgs, WaitArgs};
use crate::gateway::Finished;
use crate::gateway::{
    client, describe, download_options, error_json, exit_of, fail, report_finished, runtime,
    task_error_text, wait_and_download, wait_options,
};
use crate::output::terminal;
use crate::progress::Progress;
use crate::record::{self, Recorder};
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
        Ok(ledger) => record_by_task_id(&ledger, &handles, &finished),
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
fn record_by_task_id(
    store: &dyn TaskStore,
    handles: &[TaskHandle],
    finished: &[Finished],
) -> Result<(), LedgerError> {
    let mut result = Ok(());
    for (handle, finished) in handles.iter().zip(finished) {
        let recorded = match store.find_by_task_id(&handle.id) {
            Ok(Some(entry)) => Recorder::existing(store, &entry).finished(finished),
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
    let filter = state_filter(args.state);
    let newest = (!args.all).then_some(args.limit);
    let not_shown = match newest {
        Some(newest) => ledger.count_finished(filter)?.saturating_sub(newest),
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
    ledger.unfinished(filter, &mut visit)?;
    ledger.finished(filter, newest, &mut visit)?;
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

/// An outcome rebuilt from a journal entry's recorded videos.
fn recorded_outcome(entry: &Entry, task_id: &str) -> Outcome {
    let videos = entry
        .videos
        .iter()
        .filter_map(|video| {
            Some(Video {
                url: video.get("url")?.as_str()?.to_owned(),
                expires_at: video.get("expires_at").and_then(Value::as_i64),
            })
        })
        .collect();
    Outcome {
        task_id: task_id.to_owned(),
        model: entry.model.clone(),
        snapshot: TaskSnapshot {
            id: task_id.to_owned(),
            status: Status::Succeeded,
            raw_status: Status::Succeeded.word().to_owned(),
            progress: Some(100),
            cost: None,
            estimated_time_s: None,
            actual_time_s: None,
            videos,
            error: None,
            request_id: None,
            extras: Default::default(),
        },
    }
}

/// Runs `resume`.
pub fn resume(args: &ResumeArgs) -> anyhow::Result<Exit> {
    let registry = registry::load_for(args.specs.specs.as_deref())?;
    let ledger = record::ledger(&args.journal)?;
    let unfinished = collect(|visit| ledger.unfinished(StateFilter::Unfinished, visit))?;
    let text = args.gateway.format == Format::Text;
    let unknown: Vec<&Entry> = unfinished
        .iter()
        .filter(|entry| entry.state == State::Unknown)
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
    let pending: Vec<&Entry> = unfinished
        .iter()
        .filter(|entry| {
            matches!(entry.state, State::Running | State::Succeeded) && entry.task_id.is_some()
        })
        .collect();
    if pending.is_empty() {
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
    let runtime = runtime()?;
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
    let mut exit = Exit::Valid;
    let mut results = Vec::new();
    let mut unrecorded = None;
    for ((entry, handle, dir), finished) in jobs.iter().zip(&finished) {
        if let Err(error) = Recorder::existing(&ledger, entry).finished(finished) {
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
