//! `vidspec batch run`: reads and validates a manifest (every invalid line
//! reported at once), checks the balance, prices the budget, serves the
//! webhook receiver when asked, runs the jobs with vidspec-batch's runner
//! while the display shows them, stops on Ctrl-C, and prints the report.
//!
//! It must not decide what happens to a job (submit, resend, wait, retry,
//! stop: vidspec-batch does) and must not know any model.

use std::collections::HashSet;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use vidspec_batch::{
    BalanceCheckError, BalanceVerdict, Batch, BatchEvent, BatchOptions, Budget, InvalidLine,
    JobReport, JobStatus, Report, check_balance, cost_plan,
};
use vidspec_journal::TaskStore;
use vidspec_workflow::Workflow;

use crate::Exit;
use crate::batch;
use crate::batch_display::{BatchDisplay, Ended, TableRow, write_table};
use crate::batch_plan;
use crate::batch_webhook;
use crate::cli::{BatchRunArgs, Format};
use crate::gateway::{client_with_rate, download_options, fail, runtime, wait_options};
use crate::output::terminal;
use crate::registry;

/// Prints every invalid line: `error: MANIFEST:LINE: job ID: /path: what`.
pub fn report_invalid(source: &str, invalid: &[InvalidLine]) {
    for line in invalid {
        let job = line
            .id
            .as_deref()
            .map(|id| format!("job {id}: "))
            .unwrap_or_default();
        for problem in &line.problems {
            let text = format!("error: {source}:{}: {job}{problem}", line.line);
            eprintln!("{}", terminal(&text));
        }
    }
}

/// What the event handler remembers: the jobs finished before this run
/// (their `Finished` event is counted without a line).
#[derive(Debug, Default)]
struct Seen {
    skipped: HashSet<String>,
}

/// Shows one event of the runner.
fn show(display: &BatchDisplay, seen: &Mutex<Seen>, event: &BatchEvent) {
    match event {
        BatchEvent::Started {
            jobs, already_done, ..
        } => {
            display.start(*jobs as u64);
            if *already_done > 0 {
                display.notice(&format!(
                    "{already_done} of {jobs} jobs were downloaded by an earlier run: skipped"
                ));
            }
        }
        BatchEvent::Submitted { job, task_id, .. } => display.submitted(job, task_id),
        BatchEvent::Progress {
            job,
            task_id,
            progress,
            ..
        } => display.progress(job, task_id, *progress),
        BatchEvent::Finished {
            job,
            status,
            cost,
            files,
            ..
        } => {
            let said = seen
                .lock()
                .map(|seen| !seen.skipped.contains(job))
                .unwrap_or(true);
            let ended = match status {
                JobStatus::Downloaded => Ended::Done,
                JobStatus::Failed | JobStatus::Succeeded | JobStatus::NotSent => Ended::Failed,
                JobStatus::Unknown => Ended::Unknown,
                _ => Ended::Left,
            };
            let detail = match files.len() {
                0 => String::new(),
                1 => files[0].display().to_string(),
                n => format!("{n} files"),
            };
            display.ended(job, ended, status.name(), *cost, &detail, said);
        }
        BatchEvent::Skipped { job, .. } => {
            if let Ok(mut seen) = seen.lock() {
                seen.skipped.insert(job.clone());
            }
        }
        BatchEvent::Unknown { job, reason, .. } => display.notice(&terminal(&format!(
            "unknown: {job}: {reason}; it is never submitted again: check the gateway's console"
        ))),
        BatchEvent::BudgetStopped {
            spent,
            in_flight,
            budget,
            next_job,
            ..
        } => display.notice(&terminal(&format!(
            "budget: stopped submitting before {next_job}: spent ${spent:.2} + ${in_flight:.2} running \
             would pass ${budget:.2}; running jobs are still waited for"
        ))),
        BatchEvent::TakenOver { job, entry } => display.notice(&terminal(&format!(
            "took over {job} (entry {entry}) from a worker whose lease ended"
        ))),
        BatchEvent::HeldElsewhere { job, owner } => display.notice(&terminal(&format!(
            "{job} is held by worker {owner}: waiting for it through the ledger"
        ))),
        BatchEvent::Retrying { job, reason } => {
            if !display.is_animated() {
                display.notice(&terminal(&format!("retrying {job}: {reason}")));
            }
        }
        _ => display.tick(),
    }
}

/// The final table's row of a job.
fn row(report: &JobReport) -> TableRow {
    TableRow {
        job: report.job.clone(),
        status: report.status.name().to_owned(),
        task_id: report.task_id.clone().unwrap_or_default(),
        mode: report.mode.clone().unwrap_or_default(),
        billing_key: report.billing_key.clone().unwrap_or_default(),
        cost: report
            .cost
            .map(|cost| format!("${cost:.2}"))
            .unwrap_or_default(),
        files: report
            .files
            .iter()
            .map(|file| file.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The exit code of a finished run (lines skipped with --skip-invalid do
/// not count): unknown jobs first, then failed, then the budget.
fn exit_of(report: &Report) -> Exit {
    let summary = report.summary();
    if summary.count(JobStatus::Unknown) > 0 {
        Exit::Unknown
    } else if summary.count(JobStatus::Failed)
        + summary.count(JobStatus::Succeeded)
        + summary.count(JobStatus::NotSent)
        + summary.count(JobStatus::Running)
        > 0
    {
        Exit::TaskFailed
    } else if summary.count(JobStatus::BudgetStopped) > 0 {
        Exit::BudgetStopped
    } else {
        Exit::Valid
    }
}

/// Prints the table (or JSON lines with --format json) and writes --report.
fn finish(args: &BatchRunArgs, report: &Report) -> anyhow::Result<()> {
    if let Some(path) = &args.report {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot write the report {}", path.display()))?;
        vidspec_batch::report::write_jsonl(report, std::io::BufWriter::new(file))
            .with_context(|| format!("cannot write the report {}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    match args.gateway.format {
        Format::Json => vidspec_batch::report::write_jsonl(report, &mut out)
            .context("cannot write to standard output")?,
        Format::Text => {
            let rows: Vec<TableRow> = report.rows.iter().map(row).collect();
            write_table(&mut out, &rows).context("cannot write to standard output")?;
            out.flush().context("cannot write to standard output")?;
        }
    }
    Ok(())
}

/// Runs `batch run`.
pub fn run(args: &BatchRunArgs) -> anyhow::Result<Exit> {
    let format = args.gateway.format;
    anyhow::ensure!(
        args.rps.is_finite() && args.rps > 0.0,
        "--rps must be a number of requests per second above 0, got {}",
        args.rps
    );
    if let Some(budget) = args.budget {
        anyhow::ensure!(
            budget.is_finite() && budget >= 0.0,
            "--budget must be an amount of USD, 0 or more, got {budget}"
        );
    }
    let registry = registry::load_for(args.specs.specs.as_deref())?;
    let source = args.manifest.display().to_string();
    let manifest = vidspec_batch::manifest::load(&args.manifest, &registry)?;
    report_invalid(&source, &manifest.invalid);
    let total_lines = manifest.jobs.len() + manifest.invalid.len();
    let jobs = match manifest.runnable(args.skip_invalid) {
        Ok(jobs) => jobs.to_vec(),
        Err(_) => {
            eprintln!(
                "{}",
                terminal(&format!(
                    "{source}: {} of {total_lines} line(s) invalid; nothing was sent: fix them, \
                     or pass --skip-invalid to run the {} valid one(s)",
                    manifest.invalid.len(),
                    manifest.jobs.len()
                ))
            );
            return Ok(Exit::Invalid);
        }
    };
    if !manifest.invalid.is_empty() {
        eprintln!(
            "{}",
            terminal(&format!(
                "warning: {source}: {} invalid line(s) skipped (--skip-invalid); running {} job(s)",
                manifest.invalid.len(),
                jobs.len()
            ))
        );
    }
    let run = batch::run_name(args.run.as_deref(), Some(&args.manifest))?;
    let waiting = wait_options(&args.gateway)?;
    let mut download = download_options(args.force, &args.limits)?;
    // A file under a job's name that its entry does not list as saved is a
    // download cut short by a crash: the runner replaces it.
    download.overwrite = true;
    let runtime = runtime()?;
    let store = batch::open_store(&runtime, &args.ledger)?;
    let client = match client_with_rate(&args.gateway, Some(args.rps)) {
        Ok(client) => client.with_poll_clock(waiting.clock),
        Err(error) => return fail(format, &error, None),
    };

    // Money before anything is sent: the estimate of what is left, the
    // balance (when the gateway offers one), the budget's prices.
    let prices = batch_plan::price_book(&runtime, store.as_ref(), args.prices.as_deref())?;
    let remaining = batch_plan::not_downloaded(&runtime, store.as_ref(), &run, &jobs)?;
    let plan = cost_plan(
        remaining
            .iter()
            .map(|job| (job.id.as_str(), job.model.as_str(), &job.billing)),
        &prices,
    );
    if args.budget.is_some() && !plan.fully_priced() {
        eprintln!(
            "{}",
            terminal(&format!(
                "warning: {} job(s) have no known price (the first: {}); the budget stops                  submitting at the first of them: give their billing keys in --prices                  (`vidspec batch plan` lists them)",
                plan.unpriced_jobs.len(),
                plan.unpriced_jobs
                    .first()
                    .map(|job| job.key.as_str())
                    .unwrap_or_default()
            ))
        );
    }
    let needed = (plan.jobs > 0 && plan.fully_priced()).then(|| match args.budget {
        Some(budget) => plan.total.min(budget),
        None => plan.total,
    });
    if plan.jobs > 0 {
        match runtime.block_on(check_balance(&client, needed)) {
            Ok(verdict) if !verdict.allows_start() => {
                eprintln!("error: {}", terminal(&verdict.to_string()));
                return Ok(Exit::Gateway);
            }
            Ok(BalanceVerdict::NotOffered) => {}
            Ok(verdict) => {
                if format == Format::Text {
                    eprintln!("note: {}", terminal(&verdict.to_string()));
                }
            }
            Err(BalanceCheckError::Gateway(error)) => return fail(format, &error, None),
        }
    }
    let budget = args
        .budget
        .map(|limit| Arc::new(Budget::new(limit, prices.clone())));

    let workflow = Workflow::new(registry.clone(), client.clone(), Arc::clone(&store));
    let mut options = BatchOptions::new(run.clone(), args.out.clone());
    options.concurrency = args.concurrency as usize;
    options.rps = args.rps;
    options.retry_failed = args.retry_failed;
    options.lease_seconds = args.lease;
    options.wait = waiting.options.clone();
    options.download = download;
    options.skip_preflight = preflight_off();
    options.budget = budget;
    if let (Some(listen), Some(public)) = (args.webhook_listen, args.webhook_url.as_deref()) {
        let listening = batch_webhook::serve(&runtime, &registry, &client, &jobs, listen, public)?;
        options.webhook = Some(listening.public_url);
        options.waiter = Some(listening.waiter);
    }
    let owner = options.owner.clone();
    let batch = Batch::new(workflow, options);

    let display = Arc::new(BatchDisplay::new(format == Format::Json));
    let seen = Mutex::new(Seen::default());
    let ticker = runtime.spawn({
        let display = Arc::clone(&display);
        async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                display.tick();
            }
        }
    });
    let finished = runtime.block_on(async {
        tokio::select! {
            report = batch.run(jobs, |event| show(&display, &seen, event)) => Some(report),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    ticker.abort();
    let Some(report) = finished else {
        display.finish();
        interrupted(&display, &runtime, store.as_ref(), &owner, args);
        return Ok(Exit::Interrupted);
    };
    display.finish();
    let mut report = report?;
    report.add_invalid(&manifest.invalid);
    finish(args, &report)?;
    // Lines skipped with --skip-invalid were the user's choice: they are in
    // the report, not in the exit code.
    let mut counted = report;
    counted.rows.retain(|row| row.status != JobStatus::Invalid);
    Ok(exit_of(&counted))
}

/// After Ctrl-C: what is still running (and paid for), the leases given
/// back, and the command that resumes.
fn interrupted(
    display: &BatchDisplay,
    runtime: &tokio::runtime::Runtime,
    store: &dyn TaskStore,
    owner: &str,
    args: &BatchRunArgs,
) {
    let running = display.running_now();
    eprintln!(
        "interrupted: nothing more is submitted; {} job(s) were running",
        running.len()
    );
    for (job, task) in &running {
        let task = task.as_deref().unwrap_or("submit in flight");
        eprintln!("  {} ({})", terminal(job), terminal(task));
    }
    match runtime.block_on(store.release_leases(owner.to_owned())) {
        Ok(_) => eprintln!("their leases are released: another worker may take them over now"),
        Err(error) => eprintln!(
            "{}",
            terminal(&format!(
                "warning: the leases could not be released ({error}); they end within {} s",
                args.lease
            ))
        ),
    }
    let command: Vec<String> = std::env::args_os()
        .map(|word| crate::record::shell_word(&word.to_string_lossy()))
        .collect();
    eprintln!(
        "to resume, run the same command again (it waits for the running jobs and submits the rest):\n  {}",
        command.join(" ")
    );
}

fn preflight_off() -> bool {
    std::env::var("VIDSPEC_PREFLIGHT").is_ok_and(|value| value.eq_ignore_ascii_case("off"))
}
