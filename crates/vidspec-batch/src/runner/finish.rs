//! Finishing a job once it has a task, or an entry this worker holds:
//! resend under its idempotency key or report it (`unknown`), wait
//! (`running`; the poller or a plugged-in [`super::Waiter`]), download
//! (`succeeded`), and the job's row from what the store holds.
//!
//! Owns waiting, downloading and the rows they give. It must not submit a
//! new task (only `Workflow::resend` under an entry's own key).

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use vidspec_journal::{Entry, NO_ANSWER_RECORDED, State, Step};
use vidspec_transport::{Outcome, TaskHandle, WaitEvent};
use vidspec_workflow::{Recorder, WorkflowError, recorded_outcome};

use crate::event::BatchEvent;
use crate::manifest::Job;
use crate::report::{JobReport, JobStatus};

use super::{Batch, BatchError, Context, Handled};

/// What a job is known as while it is finished.
pub(super) struct Known {
    pub(super) job: String,
    pub(super) model: Option<String>,
    pub(super) mode: Option<String>,
    pub(super) billing_key: Option<String>,
}

impl Known {
    pub(super) fn of_job(job: &Job) -> Known {
        Known {
            job: job.id.clone(),
            model: Some(job.model.clone()),
            mode: Some(job.mode.clone()),
            billing_key: Some(job.billing.key.clone()),
        }
    }

    pub(super) fn of_entry(entry: &Entry) -> Known {
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

    pub(super) fn row(&self, status: JobStatus) -> JobReport {
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

impl Batch {
    /// Finishes an unfinished entry this worker holds (its own, or taken
    /// over): resend under its key or report it (`unknown`), wait
    /// (`running`), download (`succeeded`).
    pub(super) async fn finish_entry(
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
                    if entry.reason.as_deref() == Some(NO_ANSWER_RECORDED) {
                        // Taken over from a worker that stopped between its
                        // claim and its answer: recorded as settled, so other
                        // workers report it too instead of waiting for this
                        // one's lease (`is_settled_unknown`).
                        self.store()
                            .record(
                                entry.entry.clone(),
                                Step::Unknown {
                                    reason: reason.clone(),
                                },
                            )
                            .await?;
                    }
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

    /// A handle for a recorded task of `model`.
    pub(super) fn handle(&self, model: &str, task_id: String) -> Result<TaskHandle, String> {
        self.workflow
            .route(&Value::Null, Some(model))
            .map(|model| TaskHandle::new(task_id, model))
            .map_err(|error| format!("cannot wait for it: {error}"))
    }

    /// Waits for a submitted task, records its outcome, downloads its
    /// videos and records them.
    pub(super) async fn finish_task(
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
    pub(super) async fn wait(
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
    pub(super) async fn download(
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
pub(super) fn row_of_entry(known: &Known, entry: &Entry) -> JobReport {
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

/// Removes what downloads cut short (a `kill -9` mid-download) left in
/// `out_dir` for the report's downloaded jobs: the transport's temporary
/// files `.<job id>-XXXXXX.part`. Only jobs whose videos are saved are
/// swept, so no download of theirs can still be writing; a name that only
/// starts like a job's (`.<job id>-more-XXXXXX.part`, another job's) is
/// left alone. Best effort: a file that cannot be removed stays.
pub(super) fn sweep_partial_downloads(out_dir: &std::path::Path, report: &crate::Report) {
    let downloaded: std::collections::HashSet<&str> = report
        .rows
        .iter()
        .filter(|row| row.status == JobStatus::Downloaded)
        .map(|row| row.job.as_str())
        .collect();
    let Ok(listing) = std::fs::read_dir(out_dir) else {
        return;
    };
    for item in listing.flatten() {
        let name = item.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name
            .strip_prefix('.')
            .and_then(|rest| rest.strip_suffix(".part"))
        else {
            continue;
        };
        // `<job id>-` then the temporary file's six random characters.
        let Some((job, random)) = rest.rsplit_once('-') else {
            continue;
        };
        if random.len() == 6
            && random.bytes().all(|byte| byte.is_ascii_alphanumeric())
            && downloaded.contains(job)
        {
            let _ = std::fs::remove_file(item.path());
        }
    }
}
