//! `status`, `wait`, `tasks` and `resume`: following tasks after submission,
//! from the gateway and from the journal.
//!
//! Owns which task section reads an answer (the model's, or every spec's
//! merged when the model is unknown). It must not submit anything.

use std::sync::Arc;

use anyhow::Context;
use serde_json::{Value, json};
use vidspec_core::Registry;
use vidspec_core::spec::Task;
use vidspec_journal::{Entry, Journal, State};
use vidspec_transport::{Outcome, Status, TaskHandle, TaskSnapshot, Video};

use crate::Exit;
use crate::cli::{Format, ResumeArgs, StateArg, StatusArgs, TasksArgs, WaitArgs};
use crate::gateway::Finished;
use crate::gateway::{
    client, describe, error_json, exit_of, fail, report_finished, runtime, wait_and_download,
    wait_options,
};
use crate::output::terminal;
use crate::progress::Progress;
use crate::record::{self, Recorder};
use crate::registry;

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
                    eprintln!("{}", terminal(&format!("error: {}: {error}", handle.id)));
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
            args.force,
        )
    });
    let finished = runtime.block_on(futures_util::future::join_all(waits));
    record_by_task_id(&record::journal(&args.journal), &handles, &finished);
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
    Ok(exit)
}

/// Records outcomes of tasks the journal knows (by task id); others are left out.
fn record_by_task_id(journal: &Journal, handles: &[TaskHandle], finished: &[Finished]) {
    let Ok(read) = journal.read() else { return };
    for (handle, finished) in handles.iter().zip(finished) {
        if let Some(entry) = read
            .entries
            .iter()
            .rev()
            .find(|entry| entry.task_id.as_deref() == Some(handle.id.as_str()))
        {
            Recorder::existing(journal, entry).finished(finished);
        }
    }
}

fn state_matches(filter: Option<StateArg>, state: State) -> bool {
    match filter {
        None => true,
        Some(StateArg::Unfinished) => state.is_unfinished(),
        Some(StateArg::Unknown) => state == State::Unknown,
        Some(StateArg::Running) => state == State::Running,
        Some(StateArg::Succeeded) => state == State::Succeeded,
        Some(StateArg::Downloaded) => state == State::Downloaded,
        Some(StateArg::Failed) => state == State::Failed,
        Some(StateArg::NotSent) => state == State::NotSent,
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

/// Runs `tasks`.
pub fn tasks(args: &TasksArgs) -> anyhow::Result<Exit> {
    let journal = record::journal(&args.journal);
    let read = journal.read()?;
    for warning in &read.warnings {
        eprintln!(
            "{}",
            terminal(&format!("warning: {}: {warning}", journal.path().display()))
        );
    }
    let entries: Vec<&Entry> = read
        .entries
        .iter()
        .filter(|entry| state_matches(args.state, entry.state))
        .collect();
    match args.format {
        Format::Json => println!(
            "{}",
            json!({"journal": journal.path(), "entries": entries, "warnings": read.warnings})
        ),
        Format::Text => {
            if entries.is_empty() {
                println!("no submissions in {}", journal.path().display());
            }
            for entry in entries {
                let note = match entry.state {
                    State::Downloaded => entry.paths.join(", "),
                    _ => entry.reason.clone().unwrap_or_default(),
                };
                let line = format!(
                    "{:<10}  {:<30}  {:<24}  {}  {note}",
                    entry.state.name(),
                    entry.task_id.as_deref().unwrap_or("-"),
                    entry.model,
                    utc(entry.submitted_at),
                );
                println!("{}", terminal(&line));
            }
        }
    }
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
            raw_status: "succeeded".to_owned(),
            progress: Some(100),
            cost: None,
            estimated_time_s: None,
            actual_time_s: None,
            videos,
            error: None,
            request_id: None,
        },
    }
}

/// Runs `resume`.
pub fn resume(args: &ResumeArgs) -> anyhow::Result<Exit> {
    let registry = registry::load_for(args.specs.specs.as_deref())?;
    let journal = record::journal(&args.journal);
    let read = journal.read()?;
    for warning in &read.warnings {
        eprintln!(
            "{}",
            terminal(&format!("warning: {}: {warning}", journal.path().display()))
        );
    }
    let text = args.gateway.format == Format::Text;
    let unknown: Vec<&Entry> = read
        .entries
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
    let pending: Vec<&Entry> = read
        .entries
        .iter()
        .filter(|entry| {
            matches!(entry.state, State::Running | State::Succeeded) && entry.task_id.is_some()
        })
        .collect();
    if pending.is_empty() {
        if text {
            println!("nothing to resume in {}", journal.path().display());
        } else {
            println!("[]");
        }
        return Ok(Exit::Valid);
    }
    let options = wait_options(&args.gateway)?;
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
        async move {
            if entry.state == State::Succeeded {
                let outcome = recorded_outcome(entry, &handle.id);
                let downloads = match dir {
                    Some(dir) => {
                        client
                            .download(
                                &outcome,
                                dir,
                                &vidspec_transport::DownloadOptions {
                                    overwrite: args.force,
                                },
                            )
                            .await
                    }
                    None => Ok(Vec::new()),
                };
                Finished {
                    outcome: Ok(outcome),
                    downloads,
                }
            } else {
                wait_and_download(
                    client,
                    handle,
                    options,
                    progress,
                    dir.as_deref(),
                    args.force,
                )
                .await
            }
        }
    });
    let finished = runtime.block_on(futures_util::future::join_all(runs));
    let mut exit = Exit::Valid;
    let mut results = Vec::new();
    for ((entry, handle, dir), finished) in jobs.iter().zip(&finished) {
        Recorder::existing(&journal, entry).finished(finished);
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
