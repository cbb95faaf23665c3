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
use vidspec_transport::TaskHandle;

use crate::Exit;
use crate::cli::{Format, StatusArgs, WaitArgs};
use crate::gateway::{
    client, describe, error_json, exit_of, fail, report_finished, runtime, wait_and_download,
    wait_options,
};
use crate::progress::Progress;
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
                    eprintln!("error: {}: {error}", handle.id);
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
