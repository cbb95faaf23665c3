//! Sending a job: the budget's reservation, the rate limit, the submit with
//! [`Guard::Once`] in a task of its own (cancel-safe), transient failures
//! that provably created no task tried again, and what each failure means
//! for the job's row.
//!
//! Owns the submit decision's outcomes. It must not wait or download
//! (`finish` does).

use std::sync::atomic::Ordering;
use std::time::Duration;

use vidspec_journal::{Guard, Lease, State, Step};
use vidspec_workflow::{SubmitOptions, WorkflowError, step_of_failed_submit};

use crate::event::BatchEvent;
use crate::job::{job_key, job_ref};
use crate::manifest::Job;
use crate::report::JobStatus;

use super::{Batch, BatchError, Context, Handled, Known, row_of_entry};

impl Batch {
    /// Submits a job that has no entry, or only a `not_sent` one.
    pub(super) async fn submit(
        &self,
        job: &Job,
        context: &Context<'_>,
    ) -> Result<Handled, BatchError> {
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
    pub(super) async fn submit_attempts(
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
            // Spawned, so that dropping the run never cuts a submit between
            // its claim and its send (which would leave an `unknown` entry
            // that was never sent, and is never sent again): once started,
            // a submit is claimed, sent and recorded whole.
            let submitting = tokio::spawn({
                let workflow = self.workflow.clone();
                let request = job.request.clone();
                let options = options.clone();
                async move { workflow.submit(request, &options, &mut |_| {}).await }
            });
            let submitted = match submitting.await {
                Ok(submitted) => submitted,
                Err(error) => Err(WorkflowError::Interrupted {
                    entry: "(not known)".to_owned(),
                    reason: error.to_string(),
                }),
            };
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

    /// A job was not sent after all: its budget reservation goes.
    pub(super) fn release(&self, job: &str) {
        if let Some(budget) = &self.options.budget {
            budget.release(job);
        }
    }

    /// A job's task ended: its reported cost replaces its estimate.
    pub(super) fn settle(&self, job: &str, cost: Option<f64>) {
        if let Some(budget) = &self.options.budget {
            budget.settle(job, cost);
        }
    }
}
