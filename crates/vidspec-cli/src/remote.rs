//! `submit`, `status` and `wait`: the commands that talk to the gateway.
//!
//! Owns the order that keeps money safe — validate first (an invalid request
//! never reaches the network), upload local images only for a valid request,
//! submit once — and how outcomes map to output and exit codes. It must not
//! hold model knowledge: URL fields are found through the spec's field types,
//! answers are read through the spec's task section.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;
use serde_json::{Value, json};
use vidspec_core::spec::{Field, FieldType, Task};
use vidspec_core::{Model, Plan, Registry};
use vidspec_transport::{
    ApiKey, Client, ClientOptions, DEFAULT_BASE_URL, DownloadOptions, Downloaded, Error, Outcome,
    TaskHandle, TaskSnapshot, WaitOptions,
};

use crate::Exit;
use crate::check::{self, Report, Verdict};
use crate::cli::{Format, GatewayArgs, StatusArgs, SubmitArgs, WaitArgs};
use crate::output;
use crate::progress::Progress;
use crate::registry;

/// How a remote command ends.
fn exit_of(error: &Error) -> Exit {
    match error {
        Error::InvalidRequest(_) => Exit::Invalid,
        Error::Config(_) | Error::Io { .. } => Exit::Usage,
        Error::TaskFailed { .. } | Error::DeadlinePassed { .. } => Exit::TaskFailed,
        _ => Exit::Gateway,
    }
}

/// The kind of an error, for JSON output.
fn kind_of(error: &Error) -> &'static str {
    match error {
        Error::InvalidRequest(_) => "invalid_request",
        Error::Config(_) => "config",
        Error::Unauthorized { .. } => "unauthorized",
        Error::PaymentRequired { .. } => "payment_required",
        Error::RateLimited { .. } => "rate_limited",
        Error::Rejected { .. } => "rejected",
        Error::TaskNotFound { .. } => "task_not_found",
        Error::Server { .. } => "server_error",
        Error::Connect { .. } => "connect",
        Error::NoAnswer { .. } => "no_answer",
        Error::Undecodable { .. } => "undecodable",
        Error::TaskFailed { .. } => "task_failed",
        Error::DeadlinePassed { .. } => "deadline_passed",
        Error::Download { .. } => "download",
        Error::Io { .. } => "io",
    }
}

fn error_json(error: &Error) -> Value {
    json!({"kind": kind_of(error), "message": error.to_string(), "retryable": error.is_retryable()})
}

/// The client for these arguments: key from APIMART_API_KEY, base URL from
/// --base-url, APIMART_BASE_URL or the default.
fn client(gateway: &GatewayArgs) -> Result<Client, Error> {
    let key = std::env::var("APIMART_API_KEY")
        .map_err(|_| Error::Config("APIMART_API_KEY is not set: export your API key (for `vidspec sim`, the key it prints)".to_owned()))?;
    let base_url = gateway
        .base_url
        .clone()
        .or_else(|| std::env::var("APIMART_BASE_URL").ok())
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
    Client::new(
        ApiKey::new(key),
        ClientOptions {
            base_url,
            ..ClientOptions::default()
        },
    )
}

fn wait_options(gateway: &GatewayArgs) -> anyhow::Result<WaitOptions> {
    let scale = match gateway.poll_scale {
        Some(scale) => scale,
        None => match std::env::var("VIDSPEC_POLL_SCALE") {
            Ok(text) => text
                .trim()
                .parse()
                .with_context(|| format!("VIDSPEC_POLL_SCALE={text} is not a number"))?,
            Err(_) => 1.0,
        },
    };
    anyhow::ensure!(
        scale.is_finite() && scale > 0.0,
        "--poll-scale must be a positive number"
    );
    let deadline = match gateway.deadline {
        Some(seconds) if seconds.is_finite() && seconds > 0.0 => {
            Some(Duration::from_secs_f64(seconds))
        }
        Some(_) => anyhow::bail!("--deadline must be a positive number of seconds"),
        None => None,
    };
    Ok(WaitOptions {
        time_scale: scale,
        deadline,
        ..WaitOptions::default()
    })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// A local file put where a URL goes, and what it became.
#[derive(Debug, Serialize)]
struct Uploaded {
    path: String,
    url: String,
}

/// Is a value in a URL field a local path (not http(s), not a data URI)?
fn is_local(text: &str) -> bool {
    let lowered = text.to_ascii_lowercase();
    !(lowered.starts_with("http://")
        || lowered.starts_with("https://")
        || lowered.starts_with("data:"))
}

/// Every local path in the URL fields of `request`, as (JSON pointer, path).
fn local_paths(
    fields: &std::collections::BTreeMap<String, Field>,
    request: &Value,
) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (name, field) in fields {
        let url_items = field
            .items
            .as_ref()
            .is_some_and(|items| items.value.kind == FieldType::Url);
        let names = std::iter::once(name.clone()).chain(field.alias.clone());
        for key in names {
            match request.get(&key) {
                Some(Value::String(text)) if field.kind == FieldType::Url && is_local(text) => {
                    found.push((format!("/{key}"), text.clone()));
                }
                Some(Value::Array(items)) if url_items => {
                    for (index, item) in items.iter().enumerate() {
                        if let Some(text) = item.as_str().filter(|text| is_local(text)) {
                            found.push((format!("/{key}/{index}"), text.to_owned()));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    found
}

/// Runs `submit`.
pub fn submit(args: &SubmitArgs) -> anyhow::Result<Exit> {
    let registry = registry::load_for(args.specs.specs.as_deref())?;
    let (source, bytes) = check::read_input(&args.input)?;
    let options = wait_options(&args.gateway)?;

    // Validate with local paths stood in for by placeholder URLs: an invalid
    // request is refused before anything (an upload included) is sent.
    let mut request: Option<Value> = serde_json::from_slice(&bytes).ok();
    let model_id = args
        .model
        .clone()
        .or_else(|| request.as_ref()?.get("model")?.as_str().map(str::to_owned));
    let model = model_id.as_deref().and_then(|id| registry.model(id));
    let locals = match (model, &request) {
        (Some(model), Some(value)) => local_paths(model.fields(), value),
        _ => Vec::new(),
    };
    let mut stand_in = request.clone();
    if let Some(value) = stand_in.as_mut() {
        for (index, (pointer, _)) in locals.iter().enumerate() {
            if let Some(slot) = value.pointer_mut(pointer) {
                *slot = Value::String(format!("https://upload.invalid/local-{index}"));
            }
        }
    }
    let checked_bytes = match &stand_in {
        Some(value) => serde_json::to_vec(value).context("cannot re-encode the request")?,
        None => bytes.clone(),
    };
    let report = check::evaluate(
        &registry,
        source.clone(),
        &checked_bytes,
        args.model.as_deref(),
    );
    if let Verdict::Invalid(_) = report.verdict {
        print_report(&report, args.gateway.format)?;
        return Ok(Exit::Invalid);
    }
    let Some(model) = model else {
        print_report(&report, args.gateway.format)?;
        return Ok(Exit::Invalid);
    };

    let client = match client(&args.gateway) {
        Ok(client) => client,
        Err(error) => return fail(args.gateway.format, &error, None),
    };
    let runtime = runtime()?;
    let mut uploads = Vec::new();
    for (pointer, path) in &locals {
        let uploaded = match runtime.block_on(client.upload_image(Path::new(path))) {
            Ok(upload) => upload,
            Err(error) => return fail(args.gateway.format, &error, None),
        };
        if args.gateway.format == Format::Text {
            eprintln!("note: uploaded {path} for {pointer}: {}", uploaded.url);
        }
        if let Some(slot) = request
            .as_mut()
            .and_then(|value| value.pointer_mut(pointer))
        {
            *slot = Value::String(uploaded.url.clone());
        }
        uploads.push(Uploaded {
            path: path.clone(),
            url: uploaded.url,
        });
    }
    let plan = match prepare(&registry, model, &source, request, args.model.as_deref()) {
        Ok(plan) => plan,
        Err(report) => {
            print_report(&report, args.gateway.format)?;
            return Ok(Exit::Invalid);
        }
    };
    for warning in &plan.warnings {
        if args.gateway.format == Format::Text {
            eprintln!("warning: {source}: {warning}");
        }
    }

    let handle = match runtime.block_on(client.submit(&plan)) {
        Ok(handle) => handle,
        Err(error) => return fail(args.gateway.format, &error, None),
    };
    if args.gateway.format == Format::Text {
        println!(
            "submitted {} ({}, mode {}, billed as {} × {})",
            handle.id, plan.model, plan.mode, plan.billing.key, plan.billing.multiplier
        );
    }
    let mut result = json!({
        "task_id": handle.id,
        "model": plan.model,
        "mode": plan.mode,
        "billing": plan.billing,
        "uploads": uploads,
        "warnings": plan.warnings,
        "status": "submitted",
        "snapshot": null,
        "downloads": [],
        "error": null,
    });
    if !(args.wait || args.download.is_some()) {
        if args.gateway.format == Format::Json {
            println!("{result}");
        }
        return Ok(Exit::Valid);
    }
    let progress = Progress::new(args.gateway.format == Format::Json);
    let finished = runtime.block_on(wait_and_download(
        &client,
        &handle,
        &options,
        &progress,
        args.download.as_deref(),
        args.force,
    ));
    let exit = report_finished(&handle, &finished, args.gateway.format, &mut result);
    if args.gateway.format == Format::Json {
        println!("{result}");
    }
    Ok(exit)
}

/// Prepares the final request (local paths replaced) as `check` would.
fn prepare(
    registry: &Registry,
    model: &Model,
    source: &str,
    request: Option<Value>,
    flag: Option<&str>,
) -> Result<Plan, Report> {
    let bytes = request.map(|value| value.to_string()).unwrap_or_default();
    let report = check::evaluate(
        registry,
        source.to_owned(),
        bytes.as_bytes(),
        flag.or(Some(model.id())),
    );
    match report.verdict {
        Verdict::Valid(plan) => Ok(*plan),
        Verdict::Invalid(_) => Err(report),
    }
}

fn print_report(report: &Report, format: Format) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    output::write_report(&mut out, report, format, output::View::Check)
        .and_then(|()| out.flush())
        .context("cannot write to standard output")
}

fn fail(format: Format, error: &Error, task_id: Option<&str>) -> anyhow::Result<Exit> {
    match format {
        Format::Json => println!(
            "{}",
            json!({"task_id": task_id, "error": error_json(error)})
        ),
        Format::Text => eprintln!("error: {error}"),
    }
    Ok(exit_of(error))
}

/// What waiting (and downloading) one task came to.
struct Finished {
    outcome: Result<Outcome, Error>,
    downloads: Result<Vec<Downloaded>, Error>,
}

async fn wait_and_download(
    client: &Client,
    handle: &TaskHandle,
    options: &WaitOptions,
    progress: &Progress,
    dir: Option<&Path>,
    overwrite: bool,
) -> Finished {
    progress.add(&handle.id);
    let outcome = client
        .wait(handle, options, |snapshot| {
            progress.update(&handle.id, snapshot)
        })
        .await;
    progress.finish(
        &handle.id,
        match &outcome {
            Ok(_) => "succeeded",
            Err(Error::TaskFailed { .. }) => "failed",
            Err(_) => "stopped",
        },
    );
    let downloads = match (&outcome, dir) {
        (Ok(outcome), Some(dir)) => {
            client
                .download(outcome, dir, &DownloadOptions { overwrite })
                .await
        }
        _ => Ok(Vec::new()),
    };
    Finished { outcome, downloads }
}

/// Prints (text) or records (JSON) how a task ended; returns the exit.
fn report_finished(
    handle: &TaskHandle,
    finished: &Finished,
    format: Format,
    result: &mut Value,
) -> Exit {
    let text = format == Format::Text;
    let mut exit = Exit::Valid;
    match &finished.outcome {
        Ok(outcome) => {
            result["status"] = json!("succeeded");
            result["snapshot"] = json!(outcome.snapshot);
            if text {
                println!("{}", describe(&outcome.snapshot));
                if outcome.videos().is_empty() {
                    println!(
                        "{}: the task succeeded but the answer lists no video",
                        handle.id
                    );
                }
            }
        }
        Err(error) => {
            result["status"] = json!(match error {
                Error::TaskFailed { snapshot, .. } => snapshot.status.word().to_owned(),
                Error::DeadlinePassed { .. } => "waiting".to_owned(),
                _ => "unknown".to_owned(),
            });
            if let Error::TaskFailed { snapshot, .. } | Error::DeadlinePassed { last: snapshot } =
                error
            {
                result["snapshot"] = json!(snapshot);
            }
            result["error"] = error_json(error);
            if text {
                eprintln!("error: {error}");
            }
            exit = exit_of(error);
        }
    }
    match &finished.downloads {
        Ok(downloads) => {
            result["downloads"] = json!(downloads);
            if text {
                for download in downloads {
                    println!(
                        "downloaded {} ({} bytes)",
                        download.path.display(),
                        download.bytes
                    );
                    if let Some(warning) = &download.warning {
                        println!("warning: {}: {warning}", download.url);
                    }
                }
            }
        }
        Err(error) => {
            if result["error"].is_null() {
                result["error"] = error_json(error);
            }
            if text {
                eprintln!("error: {error}");
            }
            if exit == Exit::Valid {
                exit = exit_of(error);
            }
        }
    }
    exit
}

/// One line about a snapshot.
fn describe(snapshot: &TaskSnapshot) -> String {
    let mut line = format!("{}: {}", snapshot.id, snapshot.status.word());
    if let Some(progress) = snapshot.progress.filter(|_| !snapshot.status.is_terminal()) {
        line.push_str(&format!(" {progress}%"));
    }
    if let Some(estimate) = snapshot
        .estimated_time_s
        .filter(|_| !snapshot.status.is_terminal())
    {
        line.push_str(&format!(", estimated {estimate} s"));
    }
    if let Some(actual) = snapshot.actual_time_s {
        line.push_str(&format!(" in {actual} s"));
    }
    if let Some(cost) = snapshot.cost {
        line.push_str(&format!(", cost {cost}"));
    }
    if let Some(error) = &snapshot.error
        && snapshot.status.is_terminal()
    {
        line.push_str(&format!(", error: {}", error.message));
    }
    for video in &snapshot.videos {
        line.push_str(&format!("\n  {}", video.url));
        if let Some(warning) = vidspec_transport::expiry_warning(video.expires_at, now_unix()) {
            line.push_str(&format!(" ({warning})"));
        }
    }
    line
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

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
