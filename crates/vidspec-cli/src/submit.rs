//! `submit`: the order that keeps money safe — validate first (an invalid
//! request never reaches the network), pre-flight local files, refuse local
//! videos and audio files (the gateway uploads images only), upload local
//! images only for a valid request, check the journal for an identical
//! unfinished request, write the intent to the journal, submit once, then
//! optionally wait and download.
//!
//! The steps and their guarantees are vidspec-workflow's (`Workflow`): this
//! module parses the arguments, renders each step's result and picks the
//! exit code. It must not hold model knowledge: URL fields are found through
//! the spec's field types (`vidspec_workflow::local_files`).

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use serde::Serialize;
use serde_json::{Value, json};
use vidspec_journal::TaskStore;
use vidspec_transport::{Finding, Severity};
use vidspec_workflow::local_files::{LocalFile, Media, local_files, refusal};
use vidspec_workflow::{Event, Recorder, SubmitOptions, Workflow, WorkflowError};

use crate::Exit;
use crate::check::{self, Report, Verdict};
use crate::cli::{Format, SubmitArgs};
use crate::gateway::{
    client, download_options, fail, report_finished, runtime, wait_and_download, wait_options,
};
use crate::output;
use crate::progress::Progress;
use crate::record;
use crate::registry;

/// A local file put where a URL goes, and what it became.
#[derive(Debug, Serialize)]
struct Uploaded {
    path: String,
    url: String,
}

/// Runs `submit`: the steps are vidspec-workflow's; this parses, renders
/// and picks the exit code.
pub fn submit(args: &SubmitArgs) -> anyhow::Result<Exit> {
    let registry = registry::load_for(args.specs.specs.as_deref())?;
    let (source, bytes) = check::read_input(&args.input)?;
    let options = wait_options(&args.gateway)?;
    let download = download_options(args.force, &args.limits)?;

    // Validate with local paths stood in for by placeholder URLs: an invalid
    // request is refused before anything (an upload included) is sent.
    let request: Option<Value> = serde_json::from_slice(&bytes).ok();
    let model_id = args
        .model
        .clone()
        .or_else(|| request.as_ref()?.get("model")?.as_str().map(str::to_owned));
    let model = model_id.as_deref().and_then(|id| registry.model(id));
    let locals = match (model, &request) {
        (Some(model), Some(value)) => local_files(model.fields(), value),
        _ => Vec::new(),
    };
    let mut stand_in = request.clone();
    if let Some(value) = stand_in.as_mut() {
        for (index, local) in locals.iter().enumerate() {
            if let Some(slot) = value.pointer_mut(&local.request_pointer) {
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
    let stand_in_plan = match &report.verdict {
        Verdict::Valid(plan) => plan.clone(),
        Verdict::Invalid(_) => {
            print_report(&report, args.gateway.format)?;
            return Ok(Exit::Invalid);
        }
    };
    let Some(model) = model else {
        print_report(&report, args.gateway.format)?;
        return Ok(Exit::Invalid);
    };

    // The double-spend guard: an identical request that may still be running
    // (or whose videos are not saved yet) is not paid for twice by accident.
    // This early look saves uploads; the claim below is what decides.
    let ledger = record::ledger(&args.journal)?;
    // Only images are uploaded (and so stand for their contents); a request
    // with a local video or audio file is refused below, never claimed.
    let images: Vec<(String, String)> = locals
        .iter()
        .filter(|local| local.media == Media::Image)
        .map(|local| (local.request_pointer.clone(), local.path.clone()))
        .collect();
    let key = vidspec_workflow::request_key(&stand_in_plan, &images)?;
    if !args.again
        && let Some(entry) = ledger.unfinished_with_request(&key)?
    {
        eprintln!(
            "error: {}",
            output::terminal(&record::duplicate_message(&entry))
        );
        return Ok(Exit::Usage);
    }

    let client = match client(&args.gateway) {
        Ok(client) => client,
        Err(error) => return fail(args.gateway.format, &error, None),
    };
    let runtime = runtime()?;
    let store: Arc<dyn TaskStore> = Arc::new(ledger.clone());
    let workflow = Workflow::new(registry.clone(), client.clone(), Arc::clone(&store));
    let checked = workflow.check(request.clone().unwrap_or(Value::Null), Some(model.id()))?;
    let preflight = !args.no_preflight
        && !std::env::var("VIDSPEC_PREFLIGHT").is_ok_and(|value| value.eq_ignore_ascii_case("off"));

    // Pre-flight, part one: local files are checked before they are uploaded
    // (or refused below), against the constraints the plan gives their place
    // in the body.
    if preflight {
        let findings = runtime.block_on(workflow.check_local_files(&checked));
        if report_findings(&source, &findings, args.gateway.format) {
            return Ok(Exit::Invalid);
        }
    }
    // The gateway uploads images only (no video or audio upload endpoint): a
    // local video or audio file is refused before anything is sent.
    if refuse_local_media(&source, &locals, args.gateway.format) {
        return Ok(Exit::Invalid);
    }
    let format = args.gateway.format;
    let mut uploads = Vec::new();
    let uploaded = runtime.block_on(workflow.upload(&checked, &mut |event| {
        if let Event::Uploaded { path, pointer, url } = event {
            let path = path.display().to_string();
            if format == Format::Text {
                let line = format!("note: uploaded {path} for {pointer}: {url}");
                eprintln!("{}", output::terminal(&line));
            }
            uploads.push(Uploaded { path, url });
        }
    }));
    let plan = match uploaded {
        Ok(plan) => plan,
        Err(WorkflowError::Gateway(error)) => return fail(format, &error, None),
        Err(WorkflowError::Invalid { diagnostics, .. }) => {
            let report = Report {
                source: source.clone(),
                model: Some(args.model.clone().unwrap_or_else(|| model.id().to_owned())),
                verdict: Verdict::Invalid(diagnostics),
            };
            print_report(&report, format)?;
            return Ok(Exit::Invalid);
        }
        Err(error) => return Err(error.into()),
    };
    for warning in plan.warnings() {
        if args.gateway.format == Format::Text {
            eprintln!(
                "{}",
                output::terminal(&format!("warning: {source}: {warning}"))
            );
        }
    }
    // Pre-flight, part two: images behind URLs and the tasks the request names.
    if preflight {
        let findings = runtime.block_on(workflow.preflight(&plan));
        if report_findings(&source, &findings, args.gateway.format) {
            return Ok(Exit::Invalid);
        }
    }

    // The guard and the intent in one transaction, after pre-flight and
    // before the submit: durable before anything is sent, so a crash from
    // here on leaves a record, and of identical requests only one gets here.
    // The send and the recording of its answer finish even if this process
    // is interrupted while waiting for them (short of being killed).
    let mut submit_options = SubmitOptions::new();
    if args.again {
        submit_options.guard = vidspec_journal::Guard::Again;
    }
    submit_options.download_dir = args.download.clone();
    let submitted = runtime.block_on(workflow.send(plan.clone(), key, &submit_options));
    let (handle, entry) = match submitted {
        Ok(submitted) => (submitted.handle, submitted.entry),
        Err(WorkflowError::Duplicate { entry }) => {
            eprintln!(
                "error: {}",
                output::terminal(&record::duplicate_message(&entry))
            );
            return Ok(Exit::Usage);
        }
        Err(WorkflowError::Submit { source, unrecorded }) => {
            if let Some(unrecorded) = unrecorded {
                eprintln!("error: {unrecorded}");
            }
            return fail(args.gateway.format, &source, None);
        }
        Err(WorkflowError::Unrecorded {
            entry,
            task_id,
            source,
        }) => {
            let message = record::unrecorded_message(
                &source,
                &task_id,
                plan.model(),
                args.download.as_deref(),
            );
            eprintln!("error: {message}");
            if runtime.block_on(workflow.record_true_cause(&entry, &task_id, &source)) {
                eprintln!(
                    "note: the ledger now records the task id and why it was not recorded before"
                );
            }
            if args.gateway.format == Format::Json {
                println!(
                    "{}",
                    json!({"task_id": task_id, "model": plan.model(), "status": "submitted",
                           "error": {"kind": "ledger", "message": message, "retryable": false}})
                );
            }
            return Ok(Exit::Unrecorded);
        }
        Err(WorkflowError::Store(error)) => return Err(error.into()),
        Err(error) => return Err(error.into()),
    };
    if args.gateway.format == Format::Text {
        println!(
            "submitted {} ({}, mode {}, billed as {} × {})",
            output::terminal(&handle.id),
            plan.model(),
            plan.mode(),
            output::terminal(&plan.billing().key),
            plan.billing().multiplier
        );
    }
    let mut result = json!({
        "task_id": handle.id,
        "model": plan.model(),
        "mode": plan.mode(),
        "billing": plan.billing(),
        "uploads": uploads,
        "warnings": plan.warnings(),
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
        &download,
    ));
    let recorder = Recorder::for_entry(store, entry);
    let recorded = runtime.block_on(recorder.finished(&finished.outcome, &finished.downloads));
    let mut exit = report_finished(&handle, &finished, args.gateway.format, &mut result);
    if let Err(error) = recorded {
        eprintln!(
            "error: {error}; `vidspec tasks` may show {} as unfinished: `vidspec resume` finishes it",
            handle.id
        );
        exit = Exit::Unrecorded.or(exit);
    }
    if args.gateway.format == Format::Json {
        println!("{result}");
    }
    Ok(exit)
}

/// Prints pre-flight findings; true when one of them is an error (the request
/// is then not sent).
fn report_findings(source: &str, findings: &[Finding], format: Format) -> bool {
    let errors = findings
        .iter()
        .filter(|finding| finding.severity == Severity::Error)
        .count();
    for finding in findings {
        let word = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let rule = finding
            .rule
            .as_ref()
            .map(|rule| format!(" [{rule}]"))
            .unwrap_or_default();
        let path = if finding.path.is_empty() {
            "/"
        } else {
            &finding.path
        };
        if format == Format::Text {
            let line = format!(
                "{word}: {source}: {path}: {}{rule} (pre-flight)",
                finding.message
            );
            eprintln!("{}", output::terminal(&line));
        }
    }
    if errors > 0 {
        match format {
            Format::Text => eprintln!(
                "{source}: not sent: {errors} pre-flight error(s); fix them, or pass --no-preflight to skip the checks"
            ),
            Format::Json => println!(
                "{}",
                json!({"task_id": null, "error": {"kind": "preflight", "message": format!("{errors} pre-flight error(s)"), "retryable": false}, "findings": findings})
            ),
        }
    }
    errors > 0
}

/// Prints why each local video or audio file in `locals` is not sent; true
/// when there is one (the request is then not sent).
fn refuse_local_media(source: &str, locals: &[LocalFile], format: Format) -> bool {
    let refusals: Vec<String> = locals.iter().filter_map(refusal).collect();
    if refusals.is_empty() {
        return false;
    }
    match format {
        Format::Text => {
            for refusal in &refusals {
                let line = format!("error: {source}: {refusal}");
                eprintln!("{}", output::terminal(&line));
            }
            eprintln!(
                "{}",
                output::terminal(&format!(
                    "{source}: not sent: {} local file(s) the gateway cannot take",
                    refusals.len()
                ))
            );
        }
        Format::Json => println!(
            "{}",
            json!({"task_id": null, "error": {"kind": "local_media", "message": refusals.join("; "), "retryable": false}})
        ),
    }
    true
}

fn print_report(report: &Report, format: Format) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    output::write_report(&mut out, report, format, output::View::Check)
        .and_then(|()| out.flush())
        .context("cannot write to standard output")
}
