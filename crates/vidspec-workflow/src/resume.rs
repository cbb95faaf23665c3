//! Resuming: what the task store holds unfinished is finished — an
//! `unknown` entry sent with an idempotency key is resent with that key and
//! its stored body bytes, `running` ones are waited for, and videos saved.
//!
//! Owns the rule that a resend repeats the first send exactly (same key, same
//! bytes, same endpoint) or does not happen. It must not print.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use vidspec_journal::{Entry, State, StateFilter, all_unfinished};
use vidspec_transport::{DownloadOptions, Downloaded, Outcome, TaskHandle, WaitOptions};

use crate::error::WorkflowError;
use crate::recorder::Recorder;
use crate::workflow::{Workflow, send_and_record};

/// What resuming one unfinished entry came to.
#[derive(Debug)]
#[non_exhaustive]
pub struct Resumed {
    /// The entry as the store held it before.
    pub entry: Entry,
    /// The task, when one is known (after a resend, the new answer's).
    pub handle: Option<TaskHandle>,
    /// How waiting ended (or the outcome already recorded).
    pub outcome: Option<Result<Outcome, vidspec_transport::Error>>,
    /// What was saved.
    pub downloads: Result<Vec<Downloaded>, vidspec_transport::Error>,
    /// Why the entry was left as it was, or what failed.
    pub error: Option<WorkflowError>,
}

impl Workflow {
    /// Resends an `unknown` entry that has an idempotency key, with that key
    /// and the same body bytes, and records the answer (cancel-safe as
    /// [`Workflow::send`]). The gateway replays the original answer when the
    /// first send arrived, so no task is paid twice.
    pub async fn resend(&self, entry: &Entry) -> Result<TaskHandle, WorkflowError> {
        let not_resendable = |reason: &str| WorkflowError::NotResendable {
            entry: entry.entry.clone(),
            reason: reason.to_owned(),
        };
        let (Some(key), Some(body)) = (&entry.idempotency_key, &entry.body) else {
            return Err(not_resendable(
                "it has no idempotency key (its endpoint honours none), so the gateway cannot tell a resend from a new task",
            ));
        };
        let model = self
            .registry
            .model(&entry.model)
            .ok_or_else(|| not_resendable("its model is not in the registry"))?;
        let mut request: Value = serde_json::from_slice(body)
            .map_err(|_| not_resendable("its stored body is not JSON"))?;
        // A callback URL is set after validation (`Plan::with_webhook`), so
        // it is taken out to prepare the request and put back as it was.
        let webhook = model
            .endpoint()
            .webhook
            .as_ref()
            .and_then(|declared| request.as_object_mut()?.remove(&declared.field));
        let mut plan = model
            .prepare(request)
            .map_err(|_| not_resendable("its stored body is no longer valid for its model"))?;
        if let Some(webhook) = webhook {
            let url = webhook
                .as_str()
                .and_then(|url| url::Url::parse(url).ok())
                .ok_or_else(|| not_resendable("its stored callback URL is not a URL"))?;
            plan = plan
                .with_webhook(&url)
                .map_err(|_| not_resendable("its stored callback URL can no longer be sent"))?;
        }
        let same = serde_json::to_vec(plan.body()).is_ok_and(|bytes| &bytes == body)
            && plan.endpoint().path == entry.endpoint;
        if !same {
            return Err(not_resendable(
                "its body no longer prepares to the same bytes and endpoint (the spec changed)",
            ));
        }
        let recorder = Recorder::existing(Arc::clone(&self.store), entry);
        send_and_record(self.client.clone(), plan, recorder, Some(key.clone())).await
    }

    /// Finishes what the store holds unfinished: resends `unknown` entries
    /// that have an idempotency key (others are left, with an error saying
    /// why), waits for `running` ones, and saves the videos of each into
    /// `dir` or the directory recorded with its intent.
    pub async fn resume(
        &self,
        options: &WaitOptions,
        dir: Option<&Path>,
        download: &DownloadOptions,
    ) -> Result<Vec<Resumed>, WorkflowError> {
        let unfinished = all_unfinished(self.store.as_ref(), StateFilter::Unfinished).await?;
        let mut resumed = Vec::new();
        for entry in unfinished {
            resumed.push(self.resume_one(entry, options, dir, download).await);
        }
        Ok(resumed)
    }

    async fn resume_one(
        &self,
        entry: Entry,
        options: &WaitOptions,
        dir: Option<&Path>,
        download: &DownloadOptions,
    ) -> Resumed {
        let mut resumed = Resumed {
            handle: None,
            outcome: None,
            downloads: Ok(Vec::new()),
            error: None,
            entry,
        };
        let entry = &resumed.entry;
        let handle = match (&entry.state, &entry.task_id) {
            (State::Unknown, _) => match self.resend(entry).await {
                Ok(handle) => handle,
                Err(error) => {
                    resumed.error = Some(error);
                    return resumed;
                }
            },
            (_, Some(task_id)) => match self.registry.lookup(&entry.model) {
                Ok(model) => TaskHandle::new(task_id.clone(), model),
                Err(error) => {
                    resumed.error = Some(WorkflowError::from(error));
                    return resumed;
                }
            },
            (_, None) => return resumed,
        };
        let outcome = if entry.state == State::Succeeded {
            Ok(recorded_outcome(entry, &handle.id))
        } else {
            let outcome = self.client.wait(&handle, options).await;
            if let Err(error) = self.recorder(&entry.entry).outcome(&outcome).await {
                resumed.error = Some(WorkflowError::from(error));
            }
            outcome
        };
        let dir = dir
            .map(Path::to_path_buf)
            .or_else(|| entry.download_dir.clone().map(PathBuf::from));
        if let (Ok(outcome), Some(dir)) = (&outcome, dir) {
            resumed.downloads = self.client.download(outcome, &dir, download).await;
            if let Ok(downloads) = &resumed.downloads
                && let Err(error) = self.recorder(&entry.entry).downloaded(downloads).await
            {
                resumed.error.get_or_insert(WorkflowError::from(error));
            }
        }
        resumed.handle = Some(handle);
        resumed.outcome = Some(outcome);
        resumed
    }
}

/// An outcome rebuilt from an entry's recorded videos.
pub fn recorded_outcome(entry: &Entry, task_id: &str) -> Outcome {
    use vidspec_transport::{Status, TaskSnapshot, Video};
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
