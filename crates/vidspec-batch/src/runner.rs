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
//! with [`Guard::Once`](vidspec_journal::Guard::Once) (or `Workflow::resend`
//! with the entry's own key).
//!
//! # Cancellation
//!
//! Dropping the future of [`Batch::run`] drops every job in flight: a
//! submit already started runs to its end in a spawned task (claimed, sent
//! once and its answer recorded, so no entry is left `unknown` by the drop),
//! waits and downloads stop (the entries stay `running` or `succeeded`), and
//! the worker's leases are released by a task spawned from a drop guard, so
//! that another worker (or the next run) takes them over once they end (at
//! once for entries claimed before the drop).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::Either;
use futures_util::stream::{self, StreamExt};
use vidspec_core::Charge;
use vidspec_journal::{Entry, NO_ANSWER_RECORDED, State, TaskStore, all_run_entries};
use vidspec_transport::RateLimiter;
use vidspec_workflow::Workflow;

use crate::budget::tally;
use crate::event::BatchEvent;
use crate::job::job_key;
use crate::manifest::Job;
use crate::report::{JobReport, Report};

mod finish;
mod options;
mod submit;

use finish::{Known, row_of_entry};
pub use options::{BatchError, BatchOptions, DEFAULT_LEASE_SECONDS, Waiter};

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

/// One piece of a run's first pass: an entry taken over, or a job.
enum Work<'j> {
    Entry(Box<Entry>),
    Job(&'j Job),
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
        if let Ok(report) = &result {
            finish::sweep_partial_downloads(&self.options.out_dir, report);
        }
        result
    }

    /// Renews this worker's leases every third of a lease, and syncs the
    /// budget with the run's entries, for ever.
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
            // Several workers keep one budget: each takes what the others
            // spent and have in flight from the ledger at every beat.
            if let Some(budget) = &self.options.budget
                && let Ok(entries) = all_run_entries(self.store().as_ref(), &self.options.run).await
            {
                budget.sync(&tally(&entries, budget.prices(), &self.options.owner));
            }
        }
    }

    async fn run_jobs(&self, jobs: &[Job], context: &Context<'_>) -> Result<Report, BatchError> {
        let by_id: HashMap<&str, &Job> = jobs.iter().map(|job| (job.id.as_str(), job)).collect();
        let by_id = &by_id;
        // Entries of the run whose worker died before this one started are
        // finished first (their videos may be waiting, their URLs expiring),
        // and their jobs are not looked at again below.
        let taken = self.take_over_all().await?;
        let already_done = self.already_done(jobs).await?;
        (context.emit)(BatchEvent::Started {
            run: self.options.run.clone(),
            jobs: jobs.len(),
            already_done,
            owner: self.options.owner.clone(),
        });
        let taken_jobs: HashSet<String> = taken
            .iter()
            .map(|entry| Known::of_entry(entry).job)
            .collect();
        let work = taken
            .into_iter()
            .map(|entry| Work::Entry(Box::new(entry)))
            .chain(
                jobs.iter()
                    .filter(|job| !taken_jobs.contains(&job.id))
                    .map(Work::Job),
            );
        let mut rows: HashMap<String, JobReport> = HashMap::new();
        let mut pending: Vec<&Job> = Vec::new();
        let mut handled = stream::iter(work)
            .map(|work| async move {
                match work {
                    Work::Entry(entry) => {
                        let job = Known::of_entry(&entry).job;
                        let found = by_id.get(job.as_str()).copied();
                        (job, None, self.take(*entry, found, context).await)
                    }
                    Work::Job(job) => (
                        job.id.clone(),
                        Some(job),
                        self.handle_job(job, context).await,
                    ),
                }
            })
            .buffer_unordered(self.options.concurrency);
        while let Some((id, job, result)) = handled.next().await {
            match (result?, job) {
                (Handled::Done(row), _) => {
                    if by_id.contains_key(id.as_str()) {
                        rows.insert(id, row);
                    }
                }
                (Handled::Elsewhere, Some(job)) => pending.push(job),
                (Handled::Elsewhere, None) => {}
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
                        let job = Known::of_entry(&entry).job;
                        let found = by_id.get(job.as_str()).copied();
                        (job, self.take(entry, found, context).await)
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

    /// Takes over every entry of the run whose lease has ended, page by page.
    async fn take_over_all(&self) -> Result<Vec<Entry>, BatchError> {
        let mut taken = Vec::new();
        loop {
            let more = self
                .store()
                .take_over(
                    self.options.run.clone(),
                    self.options.owner.clone(),
                    self.options.lease_seconds,
                    vidspec_journal::PAGE,
                )
                .await?;
            // Taken entries carry this worker's lease now: a page is never
            // returned twice, so the loop ends.
            if more.is_empty() {
                return Ok(taken);
            }
            taken.extend(more);
        }
    }

    /// Finishes an entry taken over from a worker whose lease ended: counted
    /// in the budget as in flight, announced, then finished as this
    /// worker's own. `job` is its manifest job, when it has one here.
    async fn take(
        &self,
        entry: Entry,
        job: Option<&Job>,
        context: &Context<'_>,
    ) -> Result<Handled, BatchError> {
        let known = match job {
            Some(job) => Known::of_job(job),
            None => Known::of_entry(&entry),
        };
        if let (Some(budget), Some(billing)) = (&self.options.budget, &entry.billing) {
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
        self.finish_entry(entry, known, context).await
    }

    /// How many of `jobs` the store holds as downloaded (newest entry); the
    /// budget synced with the run's entries on the way.
    async fn already_done(&self, jobs: &[Job]) -> Result<usize, BatchError> {
        let entries = all_run_entries(self.store().as_ref(), &self.options.run).await?;
        // What the run's entries cost, and what other workers have in
        // flight; entries this worker took over are its own budget's.
        if let Some(budget) = &self.options.budget {
            budget.sync(&tally(&entries, budget.prices(), &self.options.owner));
        }
        let mut newest: HashMap<String, State> = HashMap::new();
        for entry in entries {
            if let Some(job) = entry.job {
                newest.insert(job.job, entry.state);
            }
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
                if entry.owner.as_deref() == Some(self.options.owner.as_str())
                    || is_settled_unknown(&entry)
                {
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
}

/// Whether an `unknown` entry is final for every worker: it has no
/// idempotency key to resend it under, and its submit's answer is known to
/// be lost (its holder recorded why). Such an entry is only reported, by
/// whoever looks; waiting for its holder would wait for ever, as the holder
/// keeps its lease while it lives. An intent with no answer recorded yet
/// ([`NO_ANSWER_RECORDED`]) may be between its claim and its send: it stays
/// its holder's until the lease ends.
fn is_settled_unknown(entry: &Entry) -> bool {
    entry.state == State::Unknown
        && (entry.idempotency_key.is_none() || entry.body.is_none())
        && entry.reason.as_deref() != Some(NO_ANSWER_RECORDED)
}
