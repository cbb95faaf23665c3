//! The workflow: validate, pre-flight local files, refuse local videos and
//! audio, upload local images, the early double-spend look, pre-flight
//! remote inputs, claim (guard and intent in one step), submit once and
//! record the answer, wait and record the outcome, download and record the
//! files (resuming what the store holds unfinished is the `resume` module's).
//!
//! Owns the order of the steps and what dropping each step's future means.
//! It must not print (it reports [`Event`]s), hold model knowledge (URL
//! fields are found through field types), or name command-line flags.
//!
//! # Cancellation, step by step
//!
//! - Before the claim (validation, pre-flight, uploads, the early look):
//!   nothing is recorded and nothing is submitted. Uploaded images stay on
//!   the gateway's upload store (free, kept 72 h).
//! - During the claim: the intent may or may not be recorded. If it is, it
//!   reads `unknown` with "no answer was recorded", though nothing was sent.
//! - After the claim: the send and the recording of its answer run in a
//!   spawned tokio task that the caller's future only awaits. Dropping the
//!   future does not stop them: once the request may have been sent, its
//!   answer (`submitted` with the task id, `not_sent` or `unknown`) is
//!   recorded. Only the runtime shutting down (the process ending) can stop
//!   them, which leaves the entry `unknown`, as a crash would.
//! - Waiting: dropping it stops polling; the entry stays `running` and
//!   [`Workflow::resume`] picks it up.
//! - Downloading: dropping it leaves no partial file under a final name (the
//!   transport writes to a temporary file and renames); the entry stays
//!   `succeeded` and `resume` downloads again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;

use serde_json::Value;
use vidspec_core::{Model, Plan, Precondition, Registry, SharedRegistry};
use vidspec_journal::{Billing, Guard, Intent, JobRef, Lease, LedgerError, TaskStore};
use vidspec_transport::{
    Client, ConfigError, DownloadOptions, Downloaded, Finding, Outcome, Severity, TaskHandle,
    WaitEvent, WaitOptions, check_local_audio, check_local_image, check_local_video,
};

use crate::error::WorkflowError;
use crate::event::Event;
use crate::guard::request_key;
use crate::idempotency;
use crate::local_files::{LocalFile, Media, local_files, refusal};
use crate::recorder::Recorder;

/// How to submit.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SubmitOptions {
    /// The model to check the request against; `None` reads the request's
    /// `model` field.
    pub model: Option<String>,
    /// Which earlier entries with the same key stop the submission:
    /// [`Guard::Unfinished`] by default, [`Guard::Again`] to pay for another
    /// identical request on purpose, [`Guard::Once`] for a batch job.
    pub guard: Guard,
    /// The guard's key instead of the request's digest
    /// ([`Checked::request_key`]): a batch job's own key, so that a job is
    /// found again whatever its request looks like after uploads.
    pub key: Option<String>,
    /// The batch job it is sent for, recorded with the intent.
    pub job: Option<JobRef>,
    /// The lease its worker takes with the intent (batch workers).
    pub lease: Option<Lease>,
    /// Skip the pre-flight checks of files and referenced tasks.
    pub skip_preflight: bool,
    /// Where the caller will save the videos, recorded with the intent so a
    /// later resume saves them there.
    pub download_dir: Option<PathBuf>,
    /// The callback URL to send with the request, in the body field the
    /// spec declares (`Plan::with_webhook`; a receiver's public URL). Set
    /// after the request is checked and its images uploaded, before the
    /// claim, so a body stored for an idempotent resend holds it; the
    /// guard's key does not. Refused for a model whose endpoint declares no
    /// callback ([`WorkflowError::Webhook`]), before anything is sent.
    pub webhook: Option<url::Url>,
}

impl SubmitOptions {
    /// The defaults: the request's own model, guarded, pre-flighted.
    pub fn new() -> SubmitOptions {
        SubmitOptions::default()
    }
}

/// A submission the gateway accepted and the store recorded.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The task store's entry.
    pub entry: String,
    /// The task, to wait for.
    pub handle: TaskHandle,
    /// The plan sent (local paths replaced by their upload URLs).
    pub plan: Plan,
    /// The idempotency key it was sent with, when its endpoint honours one.
    pub idempotency_key: Option<String>,
}

/// The workflow over one registry, client and task store. Cheap to clone.
#[derive(Clone)]
pub struct Workflow {
    pub(crate) registry: SharedRegistry,
    pub(crate) client: Client,
    pub(crate) store: Arc<dyn TaskStore>,
}

impl std::fmt::Debug for Workflow {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Workflow")
            .field("client", &self.client.base_url())
            .field("store", &self.store.location())
            .finish()
    }
}

/// A request validated with its local paths stood in for by placeholder
/// URLs: nothing has been read, uploaded or sent.
#[derive(Debug, Clone)]
pub struct Checked {
    model: String,
    request: Value,
    locals: Vec<LocalFile>,
    stand_in_plan: Plan,
}

impl Checked {
    /// Step 1 without a workflow: validates `request` against `registry`
    /// (routed by `model`, else the request's `model` field) with local paths
    /// stood in for by placeholder URLs. Nothing is read or sent. A batch
    /// checks every line of a manifest this way before it sends anything.
    pub fn new(
        registry: &Registry,
        request: Value,
        model: Option<&str>,
    ) -> Result<Checked, WorkflowError> {
        let found = match model {
            Some(id) => registry.lookup(id)?,
            None => registry.route(&request)?,
        };
        let locals = local_files(found.fields(), &request);
        let mut stand_in = request.clone();
        for (index, local) in locals.iter().enumerate() {
            if let Some(slot) = stand_in.pointer_mut(&local.request_pointer) {
                *slot = Value::String(format!("https://upload.invalid/local-{index}"));
            }
        }
        let stand_in_plan =
            found
                .prepare(stand_in)
                .map_err(|diagnostics| WorkflowError::Invalid {
                    model: found.id().to_owned(),
                    diagnostics,
                })?;
        Ok(Checked {
            model: found.id().to_owned(),
            request,
            locals,
            stand_in_plan,
        })
    }

    /// The model id it was checked against.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The request as given (local paths still in it).
    pub fn into_request(self) -> Value {
        self.request
    }

    /// The plan with placeholder URLs where local paths are.
    pub fn stand_in_plan(&self) -> &Plan {
        &self.stand_in_plan
    }

    /// The local files the request names.
    pub fn local_files(&self) -> &[LocalFile] {
        &self.locals
    }

    /// The guard's key: the plan, each local image by its contents.
    pub fn request_key(&self) -> Result<String, WorkflowError> {
        let images: Vec<(String, String)> = self
            .locals
            .iter()
            .filter(|local| local.media == Media::Image)
            .map(|local| (local.request_pointer.clone(), local.path.clone()))
            .collect();
        request_key(&self.stand_in_plan, &images)
    }
}

impl Workflow {
    /// A workflow that checks with `registry`, talks through `client` and
    /// records in `store`.
    pub fn new(
        registry: impl Into<SharedRegistry>,
        client: Client,
        store: Arc<dyn TaskStore>,
    ) -> Workflow {
        Workflow {
            registry: registry.into(),
            client,
            store,
        }
    }

    /// The task store.
    pub fn store(&self) -> &Arc<dyn TaskStore> {
        &self.store
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The model a request is for: `model`, else the request's `model`
    /// field, with the closest known id when it is unknown.
    pub fn route(&self, request: &Value, model: Option<&str>) -> Result<&Model, WorkflowError> {
        let found = match model {
            Some(id) => self.registry.lookup(id),
            None => self.registry.route(request),
        };
        Ok(found?)
    }

    /// Step 1: validates `request` with local paths stood in for by
    /// placeholder URLs. Nothing is read or sent.
    pub fn check(&self, request: Value, model: Option<&str>) -> Result<Checked, WorkflowError> {
        Checked::new(&self.registry, request, model)
    }

    /// Step 2: pre-flight of the local files against the constraints of
    /// their place in the body. Findings point at the request's pointers.
    pub async fn check_local_files(&self, checked: &Checked) -> Vec<Finding> {
        let preconditions = checked.stand_in_plan.preconditions();
        let mut findings = Vec::new();
        for local in &checked.locals {
            let Some(precondition) = preconditions
                .iter()
                .find(|precondition| precondition.path == local.body_pointer)
            else {
                continue;
            };
            let path = Path::new(&local.path);
            let found = match (local.media, precondition) {
                (
                    Media::Image,
                    Precondition {
                        image: Some(constraints),
                        ..
                    },
                ) => check_local_image(path, constraints).await,
                (
                    Media::Video,
                    Precondition {
                        video: Some(constraints),
                        ..
                    },
                ) => check_local_video(path, constraints).await,
                (
                    Media::Audio,
                    Precondition {
                        audio: Some(constraints),
                        ..
                    },
                ) => check_local_audio(path, constraints).await,
                _ => Vec::new(),
            };
            for mut finding in found {
                finding.path = local.request_pointer.clone();
                findings.push(finding);
            }
        }
        findings
    }

    /// Step 3: uploads each local image, puts its URL in the request and
    /// prepares the final plan. Local videos and audio files are refused
    /// first ([`WorkflowError::LocalMedia`]): nothing is uploaded then.
    pub async fn upload(
        &self,
        checked: &Checked,
        on_event: &mut (dyn FnMut(Event) + Send),
    ) -> Result<Plan, WorkflowError> {
        let refusals: Vec<String> = checked.locals.iter().filter_map(refusal).collect();
        if !refusals.is_empty() {
            return Err(WorkflowError::LocalMedia { refusals });
        }
        let mut request = checked.request.clone();
        for local in &checked.locals {
            let uploaded = self.client.upload_image(Path::new(&local.path)).await?;
            on_event(Event::Uploaded {
                path: PathBuf::from(&local.path),
                pointer: local.request_pointer.clone(),
                url: uploaded.url.clone(),
            });
            if let Some(slot) = request.pointer_mut(&local.request_pointer) {
                *slot = Value::String(uploaded.url);
            }
        }
        let model = self.route(&request, Some(&checked.model))?;
        model
            .prepare(request)
            .map_err(|diagnostics| WorkflowError::Invalid {
                model: model.id().to_owned(),
                diagnostics,
            })
    }

    /// Step 4: pre-flight of the plan's remote inputs (images, videos and
    /// audio behind URLs; referenced tasks, their models from the store).
    pub async fn preflight(&self, plan: &Plan) -> Vec<Finding> {
        let mut models = std::collections::BTreeMap::new();
        for precondition in plan.preconditions() {
            if precondition.task.is_some()
                && let Some(Value::String(id)) = Value::Object(plan.body().clone())
                    .pointer(&precondition.path)
                    .cloned()
            {
                // A store that cannot answer leaves the model unconfirmed
                // (a warning of pre-flight), as an unknown task would.
                let entry = self.store.find_by_task_id(id.clone()).await.ok().flatten();
                models.insert(id, entry.map(|entry| entry.model));
            }
        }
        self.client
            .preflight(plan, |task_id| models.get(task_id).cloned().flatten())
            .await
    }

    /// Step 5: the guard and the intent in one step, then the submit, sent
    /// once, and its answer recorded — cancel-safe (see the module doc).
    /// `key` is the guard's key ([`Checked::request_key`]).
    pub async fn send(
        &self,
        plan: Plan,
        key: String,
        options: &SubmitOptions,
    ) -> Result<Submitted, WorkflowError> {
        let idempotency_key =
            idempotency::idempotency_header(&plan).map(|_| idempotency::new_key());
        let body = match &idempotency_key {
            Some(_) => Some(
                serde_json::to_vec(plan.body())
                    .map_err(|source| WorkflowError::Malformed { source })?,
            ),
            None => None,
        };
        let spec = self
            .registry
            .model(plan.model())
            .map(|model| model.spec_digest().to_owned())
            .unwrap_or_default();
        let intent = Intent {
            model: plan.model().to_owned(),
            spec,
            request: key,
            endpoint: plan.endpoint().path.clone(),
            download_dir: options
                .download_dir
                .as_ref()
                .map(|dir| dir.display().to_string()),
            idempotency_key: idempotency_key.clone(),
            body,
            job: options.job.clone(),
            billing: Some(Billing {
                key: plan.billing().key.clone(),
                multiplier: plan.billing().multiplier,
            }),
            lease: options.lease.clone(),
        };
        let recorder = match Recorder::claim(Arc::clone(&self.store), intent, options.guard).await?
        {
            Ok(recorder) => recorder,
            Err(entry) => {
                return Err(WorkflowError::Duplicate {
                    entry: Box::new(entry),
                });
            }
        };
        let handle = send_and_record(
            self.client.clone(),
            plan.clone(),
            recorder.clone(),
            idempotency_key.clone(),
        )
        .await?;
        Ok(Submitted {
            entry: recorder.entry().to_owned(),
            handle,
            plan,
            idempotency_key,
        })
    }

    /// Every step up to an accepted, recorded submission: check, pre-flight
    /// local files, refuse local videos and audio, upload local images, the
    /// early double-spend look, pre-flight remote inputs, claim, submit.
    pub async fn submit(
        &self,
        request: Value,
        options: &SubmitOptions,
        on_event: &mut (dyn FnMut(Event) + Send),
    ) -> Result<Submitted, WorkflowError> {
        let checked = self.check(request, options.model.as_deref())?;
        let key = match &options.key {
            Some(key) => key.clone(),
            None => checked.request_key()?,
        };
        if options.guard == Guard::Unfinished
            && let Some(entry) = self.store.unfinished_with_request(key.clone()).await?
        {
            return Err(WorkflowError::Duplicate {
                entry: Box::new(entry),
            });
        }
        if !options.skip_preflight {
            let findings = self.check_local_files(&checked).await;
            report_findings(findings, on_event)?;
        }
        let mut plan = self.upload(&checked, on_event).await?;
        if let Some(webhook) = &options.webhook {
            plan = plan.with_webhook(webhook).map_err(WorkflowError::Webhook)?;
        }
        for warning in plan.warnings() {
            on_event(Event::Warning(warning.to_string()));
        }
        if !options.skip_preflight {
            let findings = self.preflight(&plan).await;
            report_findings(findings, on_event)?;
        }
        self.send(plan, key, options).await
    }

    /// Waits for a submitted task and records its outcome, telling
    /// `on_event` of each new snapshot and each retry (the events of
    /// `Client::watch` before its last).
    pub async fn wait(
        &self,
        entry: &str,
        handle: &TaskHandle,
        options: &WaitOptions,
        mut on_event: impl FnMut(&WaitEvent),
    ) -> Result<Outcome, WorkflowError> {
        let mut events = self.client.watch(handle, options);
        let mut finished = None;
        while let Some(event) = events.next().await {
            match event {
                WaitEvent::Finished(result) => finished = Some(result),
                event => on_event(&event),
            }
        }
        // The stream ends with `Finished` unless the client was shut down.
        let outcome = finished.unwrap_or_else(|| Err(ConfigError::ShutDown.into()));
        let recorder = self.recorder(entry);
        if let Err(error) = recorder.outcome(&outcome).await {
            return Err(WorkflowError::from(error));
        }
        Ok(outcome?)
    }

    /// Saves a finished task's videos into `dir` and records the files.
    pub async fn download(
        &self,
        entry: &str,
        outcome: &Outcome,
        dir: &Path,
        options: &DownloadOptions,
    ) -> Result<Vec<Downloaded>, WorkflowError> {
        let downloads = self.client.download(outcome, dir, options).await?;
        self.recorder(entry).downloaded(&downloads).await?;
        Ok(downloads)
    }

    /// After [`WorkflowError::Unrecorded`]: one more try (a lock may have
    /// gone, space may have been freed; best after telling the user, which
    /// takes a moment) to leave the task id and the cause as the entry's
    /// reason. Whether it worked.
    pub async fn record_true_cause(&self, entry: &str, task_id: &str, error: &LedgerError) -> bool {
        self.recorder(entry).record_true_cause(task_id, error).await
    }

    pub(crate) fn recorder(&self, entry: &str) -> Recorder {
        Recorder::for_entry(Arc::clone(&self.store), entry.to_owned())
    }
}

/// Sends `plan` once and records the answer, in a spawned task: dropping the
/// returned future does not stop either (see the module doc).
pub(crate) async fn send_and_record(
    client: Client,
    plan: Plan,
    recorder: Recorder,
    idempotency_key: Option<String>,
) -> Result<TaskHandle, WorkflowError> {
    let entry = recorder.entry().to_owned();
    let sending = tokio::spawn(async move {
        let sent = idempotency::submit(&client, &plan, idempotency_key.as_deref()).await;
        let recorded = match &sent {
            Ok(handle) => recorder.submitted(&handle.id).await,
            Err(error) => recorder.submit_failed(error).await,
        };
        (sent, recorded)
    });
    let (sent, recorded) = sending.await.map_err(|error| WorkflowError::Interrupted {
        entry: entry.clone(),
        reason: error.to_string(),
    })?;
    match (sent, recorded) {
        (Ok(handle), Ok(())) => Ok(handle),
        (Ok(handle), Err(source)) => Err(WorkflowError::Unrecorded {
            entry,
            task_id: handle.id,
            source: Box::new(source),
        }),
        (Err(source), recorded) => Err(WorkflowError::Submit {
            source: Box::new(source),
            unrecorded: recorded.err().map(Box::new),
        }),
    }
}

/// Passes findings on as events; an error among them stops the workflow.
fn report_findings(
    findings: Vec<Finding>,
    on_event: &mut (dyn FnMut(Event) + Send),
) -> Result<(), WorkflowError> {
    let failed = findings
        .iter()
        .any(|finding| finding.severity == Severity::Error);
    for finding in &findings {
        on_event(Event::Finding(finding.clone()));
    }
    if failed {
        return Err(WorkflowError::Preflight { findings });
    }
    Ok(())
}
