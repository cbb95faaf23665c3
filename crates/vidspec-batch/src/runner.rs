//! The batch runner: the jobs of a manifest through the workflow, at most
//! `concurrency` at a time and at most `rps` submits a second, each job
//! submitted once across every worker sharing the task store.
//!
//! Owns the per-job decision (the newest entry of a job decides: none or
//! `not_sent` → submit; `unknown` → resend under its idempotency key, else
//! leave it and report it; `running` → wait; `succeeded` → download;
//! `downloaded` → done; `failed` → submit again only with `retry_failed`),
//! leases (a heartbeat renews them, dead workers' entries are taken over,
//! they are released on the way out) and the order of events. It must not
//! print, name a model, or submit anything but through `Workflow::submit`
//! with [`Guard::Once`] (or `Workflow::resend` with the entry's own key).
//!
//! # Cancellation
//!
//! Dropping the future of [`Batch::run`] drops every job in flight: a
//! submit already sent is recorded by the workflow's own spawned task, waits
//! and downloads stop (the entries stay `running` or `succeeded`), and the
//! worker's leases are released by a task spawned from a drop guard, so that
//! another worker (or the next run) takes them over at once.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{BoxFuture, Either};
use futures_util::stream::{self, StreamExt};
use serde_json::Value;
use vidspec_core::Charge;
use vidspec_journal::{Entry, Guard, Lease, LedgerError, State, Step, TaskStore, all_run_entries};
use vidspec_transport::{
    DownloadOptions, Outcome, RateLimiter, TaskHandle, WaitEvent, WaitOptions,
};
use vidspec_workflow::{
    Recorder, SubmitOptions, Workflow, WorkflowError, recorded_outcome, step_of_failed_submit,
};

use crate::budget::Budget;
use crate::event::BatchEvent;
use crate::job::{job_key, job_ref, owner_id};
use crate::manifest::Job;
use crate::report::{JobReport, JobStatus, Report};

/// Waits for a submitted task to end: the poller by default
/// (`Workflow::wait`); a webhook receiver plugs in here. The runner records
/// the outcome it returns.
pub trait Waiter: Send + Sync {
    /// The task's result, `Error::TaskFailed`, or why waiting stopped.
    fn wait(&self, handle: &TaskHandle)
    -> BoxFuture<'_, Result<Outcome, vidspec_transport::Error>>;
}

/// How a batch runs.
#[derive(Clone)]
#[non_exhaustive]
pub struct BatchOptions {
    /// The run's name: jobs are keyed by it and their ids.
    pub run: String,
    /// Where videos are saved, as `<job id>-<n>.mp4`.
    pub out_dir: PathBuf,
    /// Jobs in flight at once (submit, wait and download). At least 1.
    pub concurrency: usize,
    /// Submits (and resends) per second at most; 0 = no cap of the runner's
    /// own. Polls go through the client, whose `requests_per_second` caps
    /// every request it makes: give it the same number.
    pub rps: f64,
    /// Submit jobs that failed in an earlier run again.
    pub retry_failed: bool,
    /// This worker's id (unique per process; [`owner_id`] by default).
    pub owner: String,
    /// How long a lease lasts without renewal; the heartbeat renews it every
    /// third of it. At least 3.
    pub lease_seconds: u32,
    /// How to wait with the poller (when `waiter` is `None`).
    pub wait: WaitOptions,
    /// How to download. `overwrite` is on by default: a file under a job's
    /// name that its entry does not list as saved is a download cut short
    /// before it was recorded (a crash), so it is replaced.
    pub download: DownloadOptions,
    /// Waits instead of the poller (a webhook receiver).
    pub waiter: Option<Arc<dyn Waiter>>,
    /// Skip the pre-flight checks of files and referenced tasks.
    pub skip_preflight: bool,
    /// How often jobs another live worker holds are looked up in the store,
    /// and dead workers' entries looked for.
    pub store_poll: Duration,
    /// Attempts of a submit that provably created no task and may succeed
    /// later (a connection refused, a 429 or 5xx before processing).
    pub submit_attempts: u32,
    /// The run's budget: each job is reserved before it is sent; once one
    /// is refused, no new job is sent (running ones are still finished).
    /// The runner tells it what the run's ledger entries already cost.
    pub budget: Option<Arc<Budget>>,
    /// The callback URL sent with each submit (a webhook receiver's public
    /// URL, token included), in the body field the model's spec declares;
    /// `waiter` then waits for the callbacks. A model whose endpoint takes
    /// no callback refuses it before anything is sent (a `not_sent` row).
    pub webhook: Option<url::Url>,
}

impl std::fmt::Debug for BatchOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("BatchOptions")
            .field("run", &self.run)
            .field("out_dir", &self.out_dir)
            .field("concurrency", &self.concurrency)
            .field("rps", &self.rps)
            .field("retry_failed", &self.retry_failed)
            .field("owner", &self.owner)
            .field("lease_seconds", &self.lease_seconds)
            .field("waiter", &self.waiter.is_some())
            // The URL holds the receiver's token: only whether there is one.
            .field("webhook", &self.webhook.is_some())
            .field("store_poll", &self.store_poll)
            .field(
                "budget",
                &self.budget.as_ref().map(|budget| budget.snapshot()),
            )
            .finish_non_exhaustive()
    }
}

/// The default lease, in seconds.
pub const DEFAULT_LEASE_SECONDS: u32 = 60;

impl BatchOptions {
    /// The defaults for run `run` saving into `out_dir`: 8 jobs at once, 2
    /// submits a second, a 60-second lease, failed jobs not retried.
    pub fn new(run: impl Into<String>, out_dir: impl Into<PathBuf>) -> BatchOptions {
        BatchOptions {
            run: run.into(),
            out_dir: out_dir.into(),
            concurrency: 8,
            rps: 2.0,
            retry_failed: false,
            owner: owner_id(),
            lease_seconds: DEFAULT_LEASE_SECONDS,
            wait: WaitOptions::default(),
            download: DownloadOptions {
                overwrite: true,
                ..DownloadOptions::default()
            },
            waiter: None,
            skip_preflight: false,
            store_poll: Duration::from_secs(5),
            submit_attempts: 4,
            budget: None,
            webhook: None,
        }
    }
}

/// Why a run stopped before every job had its answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The task store failed: the run stops, since it cannot know what was
    /// sent. Nothing paid is lost: run again once the store works.
    #[error(
        "the task store failed, so the run stopped: {0}; what was sent is recorded, run again \
         to continue"
    )]
    Store(#[source] Box<LedgerError>),
}

impl From<LedgerError> for BatchError {
    fn from(error: LedgerError) -> BatchError {
        BatchError::Store(Box::new(error))
    }
}

/// A batch runner over one workflow (its registry, client and task store).
pub struct Batch {
    workflow: Workflow,
    options: BatchOptions,
    limiter: RateLimiter,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Batch")
            .field("workflow", &self.workflow)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// What handling a job came to.
enum Handled {
    /// Its final answer in this run.
    Done(JobReport),
    /// Another worker holds it (or held it and died): looked at again later.
    Elsewhere,
}

/// What a job is known as while it is finished.
struct Known {
    job: String,
    model: Option<String>,
    mode: Option<String>,
    billing_key: Option<String>,
}

impl Known {
    fn of_job(job: &Job) -> Known {
        Known {
            job: job.id.clone(),
            model: Some(job.model.clone()),
            mode: Some(job.mode.clone()),
            billing_key: Some(job.billing.key.clone()),
        }
    }

    fn of_entry(entry: &Entry) -> Known {
        Known {
            job: entry
                .job
                .as_ref()
                .map_or_else(|| entry.entry.clone(), |job| job.job.clone()),
            model: Some(entry.model.clone()),
            mode: None,
            billing_key: entry.billing.as_ref().map(|billing| billing.key.clone()),
        }
    }

    fn row(&self, status: JobStatus) -> JobReport {
        JobReport {
            job: self.job.clone(),
            status,
            task_id: None,
            model: self.model.clone(),
            mode: self.mode.clone(),
            billing_key: self.billing_key.clone(),
            cost: None,
            files: Vec::new(),
            error: None,
        }
    }
}

/// The state one run shares between its jobs.
struct Context<'a> {
    emit: &'a (dyn Fn(BatchEvent) + Sync),
    /// Unix seconds when the run started: a failed entry older than this is
    /// from an earlier run (retried with `retry_failed`), a newer one is
    /// this run's own answer.
    started_at: i64,
    /// Jobs this worker has submitted in this run (never twice).
    attempted: Mutex<HashSet<String>>,
    /// Jobs already announced as held by another worker.
    announced: Mutex<HashSet<String>>,
    /// Set once no new job may be submitted.
    submitting_stopped: AtomicBool,
}

impl Context<'_> {
    fn finished(&self, row: JobReport) -> Handled {
        (self.emit)(BatchEvent::Finished {
            job: row.job.clone(),
            status: row.status,
            task_id: row.task_id.clone(),
            cost: row.cost,
            files: row.files.clone(),
        });
        Handled::Done(row)
    }

    /// Whether this worker submits `job` now (false if it already did).
    fn first_attempt(&self, job: &str) -> bool {
        match self.attempted.lock() {
            Ok(mut attempted) => attempted.insert(job.to_owned()),
            Err(_) => false,
        }
    }
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Releases the worker's leases when a run's future is dropped before it
/// released them itself.
struct ReleaseOnDrop {
    store: Arc<dyn TaskStore>,
    owner: String,
    armed: bool,
}

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let store = Arc::clone(&self.store);
            let owner = self.owner.clone();
            runtime.spawn(async move {
                let _ = store.release_leases(owner).await;
            });
        }
    }
}

impl Batch {
    /// A runner for `workflow` with `options` (a concurrency of 0 is 1, a
    /// lease under 3 seconds is 3).
    pub fn new(workflow: Workflow, mut options: BatchOptions) -> Batch {
        options.concurrency = options.concurrency.max(1);
        options.lease_seconds = options.lease_seconds.max(3);
        options.submit_attempts = options.submit_attempts.max(1);
        let limiter = RateLimiter::new(options.rps);
        Batch {
            workflow,
            options,
            limiter,
        }
    }

    /// The options, as adjusted by [`Batch::new`].
    pub fn options(&self) -> &BatchOptions {
        &self.options
    }

    /// The workflow it runs jobs through.
    pub fn workflow(&self) -> &Workflow {
        &self.workflow
    }

    fn store(&self) -> &Arc<dyn TaskStore> {
        self.workflow.store()
    }

    /// Runs `jobs` until each has its final answer (downloaded, failed,
    /// unknown without an idempotency key, not sent, stopped by the budget),
    /// telling `on_event` as it goes; jobs other live workers hold are
    /// waited for through the store, and entries of dead workers of the run
    /// are taken over and finished. The report lists the jobs in the order
    /// given.
    pub async fn run(
        &self,
        jobs: Vec<Job>,
        on_event: impl FnMut(&BatchEvent) + Send,
    ) -> Result<Report, BatchError> {
        let on_event = Mutex::new(on_event);
        let emit = |event: BatchEvent| {
            if let Ok(mut on_event) = on_event.lock() {
                (*on_event)(&event);
            }
        };
        let context = Context {
            emit: &emit,
            started_at: now_unix(),
            attempted: Mutex::default(),
            announced: Mutex::default(),
            submitting_stopped: AtomicBool::new(false),
        };
        let mut release = ReleaseOnDrop {
            store: Arc::clone(self.store()),
            owner: self.options.owner.clone(),
            armed: true,
        };
        let work = Box::pin(self.run_jobs(&jobs, &context));
        let heartbeat = Box::pin(self.heartbeat());
        let result = match futures_util::future::select(work, heartbeat).await {
            Either::Left((result, _)) => result,
            Either::Right(((), work)) => work.await,
        };
        let released = self
            .store()
            .release_leases(self.options.owner.clone())
            .await;
        release.armed = released.is_err();
        result
    }

    /// Renews this worker's leases every third of a lease, for ever.
    async fn heartbeat(&self) {
        let period = Duration::from_secs(u64::from(self.options.lease_seconds)) / 3;
        loop {
            tokio::time::sleep(period).await;
            // A failed renewal is tried at the next beat; if the store stays
            // away, other workers may take the entries over, which never
            // resubmits what was sent.
            let _ = self
                .store()
                .renew_leases(self.options.owner.clone(), self.options.lease_seconds)
                .await;
        }
    }

    async fn run_jobs(&self, jobs: &[Job], context: &Context<'_>) -> Result<Report, BatchError> {
        let already_done = self.already_done(jobs).await?;
        (context.emit)(BatchEvent::Started {
            run: self.options.run.clone(),
            jobs: jobs.len(),
            already_done,
            owner: self.options.owner.clone(),
        });
        let mut rows: HashMap<String, JobReport> = HashMap::new();
        let mut pending: Vec<&Job> = Vec::new();
        let mut handled = stream::iter(jobs)
            .map(|job| async move { (job, self.handle_job(job, context).await) })
            .buffer_unordered(self.options.concurrency);
        while let Some((job, result)) = handled.next().await {
            match result? {
                Handled::Done(row) => {
                    rows.insert(job.id.clone(), row);
                }
                Handled::Elsewhere => pending.push(job),
            }
        }
        drop(handled);
        while !pending.is_empty() {
            let taken = self
                .store()
                .take_over(
                    self.options.run.clone(),
                    self.options.owner.clone(),
                    self.options.lease_seconds,
                    self.options.concurrency,
                )
                .await?;
            if !taken.is_empty() {
                let finished: Vec<(String, Result<Handled, BatchError>)> = stream::iter(taken)
                    .map(|entry| async move {
                        let known = Known::of_entry(&entry);
                        if let (Some(budget), Some(billing)) =
                            (&self.options.budget, &entry.billing)
                        {
                            budget.adopt(
                                &known.job,
                                &Charge {
                                    key: billing.key.clone(),
                                    multiplier: billing.multiplier,
                                },
                            );
                        }
                        (context.emit)(BatchEvent::TakenOver {
                            job: known.job.clone(),
                            entry: entry.entry.clone(),
                        });
                        (
                            known.job.clone(),
                            self.finish_entry(entry, known, context).await,
                        )
                    })
                    .buffer_unordered(self.options.concurrency)
                    .collect()
                    .await;
                for (job, result) in finished {
                    if let (Handled::Done(row), Some(index)) = (
                        result?,
                        pending.iter().position(|pending| pending.id == job),
                    ) {
                        pending.swap_remove(index);
                        rows.insert(job, row);
                    }
                }
                continue;
            }
            let looked: Vec<(&Job, Result<Handled, BatchError>)> = stream::iter(pending.iter())
                .map(|job| async move { (*job, self.handle_job(job, context).await) })
                .buffer_unordered(self.options.concurrency)
                .collect()
                .await;
            let mut still = Vec::new();
            for (job, result) in looked {
                match result? {
                    Handled::Done(row) => {
                        rows.insert(job.id.clone(), row);
                    }
                    Handled::Elsewhere => still.push(job),
                }
            }
            pending = still;
            if !pending.is_empty() {
                tokio::time::sleep(self.options.store_poll).await;
            }
        }
        let rows = jobs.iter().filter_map(|job| rows.remove(&job.id)).collect();
        Ok(Report { rows })
    }

    /// How many of `jobs` the store holds as downloaded (newest entry).
    async fn already_done(&self, jobs: &[Job]) -> Result<usize, BatchError> {
        let entries = all_run_entries(self.store().as_ref(), &self.options.run).await?;
        let mut newest: HashMap<String, State> = HashMap::new();
        let mut spent = 0.0;
        for entry in entries {
            if !entry.state.is_unfinished() {
                spent += entry.cost.filter(|cost| cost.is_finite()).unwrap_or(0.0);
            } else if let (Some(budget), Some(job), Some(billing)) =
                (&self.options.budget, &entry.job, &entry.billing)
            {
                // Sent earlier and not ended: committed whatever the budget says.
                budget.adopt(
                    &job.job,
                    &Charge {
                        key: billing.key.clone(),
                        multiplier: billing.multiplier,
                    },
                );
            }
            if let Some(job) = entry.job {
                newest.insert(job.job, entry.state);
            }
        }
        if let Some(budget) = &self.options.budget {
            budget.start_from(spent);
        }
        Ok(jobs
            .iter()
            .filter(|job| newest.get(&job.id) == Some(&State::Downloaded))
            .count())
    }

    /// The decision for one job of the manifest, from its newest entry.
    async fn handle_job(&self, job: &Job, context: &Context<'_>) -> Result<Handled, BatchError> {
        let key = job_key(&self.options.run, &job.id);
        let latest = self.store().latest_with_request(key).await?;
        let known = Known::of_job(job);
        let Some(entry) = latest else {
            return self.submit(job, context).await;
        };
        match entry.state {
            State::NotSent => self.submit(job, context).await,
            State::Downloaded => {
                (context.emit)(BatchEvent::Skipped {
                    job: job.id.clone(),
                    why: "already downloaded".to_owned(),
                });
                Ok(context.finished(row_of_entry(&known, &entry)))
            }
            State::Failed => {
                let earlier_run = entry.submitted_at < context.started_at;
                if self.options.retry_failed && earlier_run && context.first_attempt(&job.id) {
                    (context.emit)(BatchEvent::Retrying {
                        job: job.id.clone(),
                        reason: format!(
                            "it failed in an earlier run ({}); submitting it again",
                            entry.reason.as_deref().unwrap_or("no reason given")
                        ),
                    });
                    self.submit_attempts(job, context).await
                } else {
                    if earlier_run {
                        (context.emit)(BatchEvent::Skipped {
                            job: job.id.clone(),
                            why: "it failed in an earlier run and failed jobs are not retried"
                                .to_owned(),
                        });
                    }
                    Ok(context.finished(row_of_entry(&known, &entry)))
                }
            }
            State::Unknown | State::Running | State::Succeeded => {
                if entry.owner.as_deref() == Some(self.options.owner.as_str()) {
                    return self.finish_entry(entry, known, context).await;
                }
                if let Some(owner) = &entry.owner
                    && context
                        .announced
                        .lock()
                        .is_ok_and(|mut announced| announced.insert(job.id.clone()))
                {
                    (context.emit)(BatchEvent::HeldElsewhere {
                        job: job.id.clone(),
                        owner: owner.clone(),
                    });
                }
                Ok(Handled::Elsewhere)
            }
        }
    }

    /// Submits a job that has no entry, or only a `not_sent` one.
    async fn submit(&self, job: &Job, context: &Context<'_>) -> Result<Handled, BatchError> {
        if !context.first_attempt(&job.id) {
            // Submitted by this worker already in this run, and no entry
            // counts now: report what the store says.
            let key = job_key(&self.options.run, &job.id);
            let known = Known::of_job(job);
            return Ok(match self.store().latest_with_request(key).await? {
                Some(entry) => context.finished(row_of_entry(&known, &entry)),
                None => context.finished(known.row(JobStatus::NotSent)),
            });
        }
        self.submit_attempts(job, context).await
    }

    /// Sends a job (with [`Guard::Once`]), retrying sends that provably
    /// created no task, then waits for it and downloads its videos.
    async fn submit_attempts(
        &self,
        job: &Job,
        context: &Context<'_>,
    ) -> Result<Handled, BatchError> {
        let known = Known::of_job(job);
        if context.submitting_stopped.load(Ordering::SeqCst) {
            let mut row = known.row(JobStatus::BudgetStopped);
            row.error = Some("not submitted: the budget was reached".to_owned());
            return Ok(context.finished(row));
        }
        if let Some(budget) = &self.options.budget
            && let Err(stop) = budget.reserve(&job.id, &job.billing)
        {
            let first = !context.submitting_stopped.swap(true, Ordering::SeqCst);
            if first {
                let snapshot = budget.snapshot();
                (context.emit)(BatchEvent::BudgetStopped {
                    spent: snapshot.spent,
                    in_flight: snapshot.in_flight,
                    budget: snapshot.limit,
                    next_job: job.id.clone(),
                    reason: stop.to_string(),
                });
            }
            let mut row = known.row(JobStatus::BudgetStopped);
            row.error = Some(stop.to_string());
            return Ok(context.finished(row));
        }
        let key = job_key(&self.options.run, &job.id);
        let mut options = SubmitOptions::new();
        options.model = Some(job.model.clone());
        options.guard = Guard::Once {
            retry_failed: self.options.retry_failed,
        };
        options.key = Some(key.clone());
        options.job = Some(job_ref(&self.options.run, &job.id));
        options.lease = Some(Lease {
            owner: self.options.owner.clone(),
            seconds: self.options.lease_seconds,
        });
        options.skip_preflight = self.options.skip_preflight;
        options.download_dir = Some(self.options.out_dir.clone());
        options.webhook = self.options.webhook.clone();
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.limiter.acquire().await;
            let submitted = self
                .workflow
                .submit(job.request.clone(), &options, &mut |_| {})
                .await;
            let error = match submitted {
                Ok(submitted) => {
                    (context.emit)(BatchEvent::Submitted {
                        job: job.id.clone(),
                        task_id: submitted.handle.id.clone(),
                        model: job.model.clone(),
                        mode: job.mode.clone(),
                    });
                    return self
                        .finish_task(&known, &submitted.entry, submitted.handle, context)
                        .await;
                }
                Err(error) => error,
            };
            match error {
                WorkflowError::Duplicate { entry } => {
                    // Another worker claimed it first: its answer is its.
                    self.release(&job.id);
                    return Ok(match entry.state {
                        State::Downloaded | State::Failed | State::NotSent => {
                            context.finished(row_of_entry(&known, &entry))
                        }
                        _ => Handled::Elsewhere,
                    });
                }
                WorkflowError::Submit { source, .. } => {
                    if matches!(step_of_failed_submit(&source), Step::NotSent { .. }) {
                        let transient = source.is_retryable() || source.is_safe_to_resubmit();
                        if transient && attempt < self.options.submit_attempts {
                            (context.emit)(BatchEvent::Retrying {
                                job: job.id.clone(),
                                reason: format!("the submit created no task: {source}"),
                            });
                            tokio::time::sleep(Duration::from_secs(1 << attempt.min(5))).await;
                            continue;
                        }
                        self.release(&job.id);
                        let mut row = known.row(JobStatus::NotSent);
                        row.error = Some(source.to_string());
                        return Ok(context.finished(row));
                    }
                    // The task may exist: its entry reads `unknown`; resend
                    // it under its idempotency key, or report it.
                    return match self.store().latest_with_request(key).await? {
                        Some(entry) if entry.state == State::Unknown => {
                            self.finish_entry(entry, known, context).await
                        }
                        Some(entry) => Ok(context.finished(row_of_entry(&known, &entry))),
                        None => {
                            let mut row = known.row(JobStatus::Unknown);
                            row.error = Some(source.to_string());
                            Ok(context.finished(row))
                        }
                    };
                }
                WorkflowError::Unrecorded {
                    entry,
                    task_id,
                    source,
                } => {
                    self.workflow
                        .record_true_cause(&entry, &task_id, &source)
                        .await;
                    let reason = format!(
                        "the gateway accepted task {task_id}, but the task store could not record \
                         it: {source}"
                    );
                    (context.emit)(BatchEvent::Unknown {
                        job: job.id.clone(),
                        entry,
                        reason: reason.clone(),
                    });
                    let mut row = known.row(JobStatus::Unknown);
                    row.task_id = Some(task_id);
                    row.error = Some(reason);
                    return Ok(context.finished(row));
                }
                WorkflowError::Interrupted { entry, reason } => {
                    (context.emit)(BatchEvent::Unknown {
                        job: job.id.clone(),
                        entry,
                        reason: reason.clone(),
                    });
                    let mut row = known.row(JobStatus::Unknown);
                    row.error = Some(reason);
                    return Ok(context.finished(row));
                }
                WorkflowError::Store(error) => return Err(BatchError::Store(error)),
                WorkflowError::Preflight { findings } => {
                    self.release(&job.id);
                    let mut row = known.row(JobStatus::NotSent);
                    let messages: Vec<String> = findings
                        .iter()
                        .filter(|finding| finding.severity == vidspec_transport::Severity::Error)
                        .map(|finding| format!("{}: {}", finding.path, finding.message))
                        .collect();
                    row.error = Some(format!("pre-flight: {}", messages.join("; ")));
                    return Ok(context.finished(row));
                }
                other => {
                    self.release(&job.id);
                    let mut row = known.row(JobStatus::NotSent);
                    row.error = Some(other.to_string());
                    return Ok(context.finished(row));
                }
            }
        }
    }

    /// Finishes an unfinished entry this worker holds (its own, or taken
    /// over): resend under its key or report it (`unknown`), wait
    /// (`running`), download (`succeeded`).
    async fn finish_entry(
        &self,
        entry: Entry,
        known: Known,
        context: &Context<'_>,
    ) -> Result<Handled, BatchError> {
        match (entry.state, entry.task_id.clone()) {
            (State::Unknown, _) => {
                if entry.idempotency_key.is_none() || entry.body.is_none() {
                    let reason = entry
                        .reason
                        .clone()
                        .unwrap_or_else(|| "no answer was recorded for its submit".to_owned());
                    let reason = format!(
                        "{reason}; it has no idempotency key, so it is not sent again: check the \
                         gateway's console for a task of it"
                    );
                    (context.emit)(BatchEvent::Unknown {
                        job: known.job.clone(),
                        entry: entry.entry.clone(),
                        reason: reason.clone(),
                    });
                    let mut row = row_of_entry(&known, &entry);
                    row.error = Some(reason);
                    return Ok(context.finished(row));
                }
                (context.emit)(BatchEvent::Retrying {
                    job: known.job.clone(),
                    reason: "its submit's answer was lost; resending it under its idempotency key"
                        .to_owned(),
                });
                self.limiter.acquire().await;
                match self.workflow.resend(&entry).await {
                    Ok(handle) => {
                        (context.emit)(BatchEvent::Submitted {
                            job: known.job.clone(),
                            task_id: handle.id.clone(),
                            model: entry.model.clone(),
                            mode: known.mode.clone().unwrap_or_default(),
                        });
                        self.finish_task(&known, &entry.entry, handle, context)
                            .await
                    }
                    Err(WorkflowError::Store(error)) => Err(BatchError::Store(error)),
                    Err(error) => {
                        let reason = error.to_string();
                        (context.emit)(BatchEvent::Unknown {
                            job: known.job.clone(),
                            entry: entry.entry.clone(),
                            reason: reason.clone(),
                        });
                        let mut row = row_of_entry(&known, &entry);
                        row.status = JobStatus::Unknown;
                        row.error = Some(reason);
                        Ok(context.finished(row))
                    }
                }
            }
            (State::Running, Some(task_id)) => match self.handle(&entry.model, task_id) {
                Ok(handle) => {
                    self.finish_task(&known, &entry.entry, handle, context)
                        .await
                }
                Err(reason) => {
                    let mut row = row_of_entry(&known, &entry);
                    row.error = Some(reason);
                    Ok(context.finished(row))
                }
            },
            (State::Succeeded, Some(task_id)) => {
                let outcome = recorded_outcome(&entry, &task_id);
                let mut row = row_of_entry(&known, &entry);
                self.download(&known, &entry.entry, &outcome, &mut row)
                    .await?;
                Ok(context.finished(row))
            }
            _ => Ok(context.finished(row_of_entry(&known, &entry))),
        }
    }

    /// A job was not sent after all: its budget reservation goes.
    fn release(&self, job: &str) {
        if let Some(budget) = &self.options.budget {
            budget.release(job);
        }
    }

    /// A job's task ended: its reported cost replaces its estimate.
    fn settle(&self, job: &str, cost: Option<f64>) {
        if let Some(budget) = &self.options.budget {
            budget.settle(job, cost);
        }
    }

    /// A handle for a recorded task of `model`.
    fn handle(&self, model: &str, task_id: String) -> Result<TaskHandle, String> {
        self.workflow
            .route(&Value::Null, Some(model))
            .map(|model| TaskHandle::new(task_id, model))
            .map_err(|error| format!("cannot wait for it: {error}"))
    }

    /// Waits for a submitted task, records its outcome, downloads its
    /// videos and records them.
    async fn finish_task(
        &self,
        known: &Known,
        entry: &str,
        handle: TaskHandle,
        context: &Context<'_>,
    ) -> Result<Handled, BatchError> {
        let mut row = known.row(JobStatus::Running);
        row.task_id = Some(handle.id.clone());
        let outcome = self.wait(known, entry, &handle, context).await?;
        match outcome {
            Ok(outcome) => {
                row.cost = outcome.snapshot.cost;
                self.settle(&known.job, row.cost);
                row.status = JobStatus::Succeeded;
                self.download(known, entry, &outcome, &mut row).await?;
            }
            Err(vidspec_transport::Error::TaskFailed {
                message, snapshot, ..
            }) => {
                row.status = JobStatus::Failed;
                row.cost = snapshot.cost;
                self.settle(&known.job, row.cost);
                row.error = Some(message);
            }
            Err(error @ vidspec_transport::Error::DeadlinePassed { .. }) => {
                row.error = Some(format!("{error}; run again to wait on"));
            }
            Err(error) => {
                row.error = Some(format!("waiting stopped: {error}; run again to wait on"));
            }
        }
        Ok(context.finished(row))
    }

    /// The outcome of waiting (the task's own answer), recorded; `Err` only
    /// when the store failed.
    async fn wait(
        &self,
        known: &Known,
        entry: &str,
        handle: &TaskHandle,
        context: &Context<'_>,
    ) -> Result<Result<Outcome, vidspec_transport::Error>, BatchError> {
        if let Some(waiter) = &self.options.waiter {
            let outcome = waiter.wait(handle).await;
            Recorder::for_entry(Arc::clone(self.store()), entry.to_owned())
                .outcome(&outcome)
                .await?;
            return Ok(outcome);
        }
        let on_wait = |event: &WaitEvent| match event {
            WaitEvent::Snapshot(snapshot) => (context.emit)(BatchEvent::Progress {
                job: known.job.clone(),
                task_id: handle.id.clone(),
                status: snapshot.status.word().to_owned(),
                progress: snapshot.progress,
            }),
            WaitEvent::Retrying(retry) => (context.emit)(BatchEvent::Retrying {
                job: known.job.clone(),
                reason: format!("a poll failed: {}", retry.error),
            }),
            _ => {}
        };
        match self
            .workflow
            .wait(entry, handle, &self.options.wait, on_wait)
            .await
        {
            Ok(outcome) => Ok(Ok(outcome)),
            Err(WorkflowError::Gateway(error)) => Ok(Err(*error)),
            Err(WorkflowError::Store(error)) => Err(BatchError::Store(error)),
            // `Workflow::wait` fails with nothing else; were it to, the
            // entry stays `running` and a run again waits on.
            Err(_) => Ok(Err(vidspec_transport::ConfigError::ShutDown.into())),
        }
    }

    /// Saves a finished task's videos as `<job id>-<n>.mp4` and records
    /// them; the row says how it went.
    async fn download(
        &self,
        known: &Known,
        entry: &str,
        outcome: &Outcome,
        row: &mut JobReport,
    ) -> Result<(), BatchError> {
        row.task_id = Some(outcome.task_id.clone());
        let downloads = self
            .workflow
            .client()
            .download_as(
                outcome,
                &self.options.out_dir,
                &known.job,
                &self.options.download,
            )
            .await;
        match downloads {
            Ok(downloads) => {
                Recorder::for_entry(Arc::clone(self.store()), entry.to_owned())
                    .downloaded(&downloads)
                    .await?;
                row.files = downloads
                    .iter()
                    .map(|download| download.path.clone())
                    .collect();
                row.status = if downloads.is_empty() {
                    JobStatus::Succeeded
                } else {
                    JobStatus::Downloaded
                };
                if downloads.is_empty() {
                    row.error = Some("the task ended without videos".to_owned());
                }
            }
            Err(error) => {
                row.status = JobStatus::Succeeded;
                row.error = Some(format!(
                    "the videos could not be saved: {error}; run again to download them"
                ));
            }
        }
        Ok(())
    }
}

/// A job's row from its newest entry, for a state that needs nothing more.
fn row_of_entry(known: &Known, entry: &Entry) -> JobReport {
    let status = match entry.state {
        State::Downloaded => JobStatus::Downloaded,
        State::Succeeded => JobStatus::Succeeded,
        State::Running => JobStatus::Running,
        State::Failed => JobStatus::Failed,
        State::Unknown => JobStatus::Unknown,
        State::NotSent => JobStatus::NotSent,
    };
    JobReport {
        job: known.job.clone(),
        status,
        task_id: entry.task_id.clone(),
        model: Some(entry.model.clone()),
        mode: known.mode.clone(),
        billing_key: entry
            .billing
            .as_ref()
            .map(|billing| billing.key.clone())
            .or_else(|| known.billing_key.clone()),
        cost: entry.cost,
        files: entry.paths.iter().map(PathBuf::from).collect(),
        error: entry.reason.clone(),
    }
}
