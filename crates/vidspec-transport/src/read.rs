//! Reading the gateway's task answers through a spec's `task` section.
//!
//! Owns `TaskSnapshot` and the normalised `Status`, and reads both response
//! shapes (standard `{code, data:{…}}` and Midjourney's bare object) and both
//! submit shapes (`data: [{task_id}]`, `data: {id}`) purely from the JSON
//! pointers the spec gives — no per-model code — and result extras beside
//! the videos. Raw status spellings come only from data (the vocabulary and
//! the spec's `statuses:`); the lifecycle is core's `Lifecycle`. It does no
//! I/O.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use vidspec_core::lifecycle::Lifecycle;
use vidspec_core::spec::Task;

use crate::error::lenient_code;

/// A task status, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Accepted, not started.
    Queued,
    /// Generating.
    Running,
    /// Finished with a result.
    Succeeded,
    /// Finished without a result.
    Failed,
    /// Cancelled.
    Cancelled,
    /// A status the spec does not know: keep polling, and report it.
    Unknown(String),
}

impl Status {
    /// Whether the task will not change any more.
    pub fn is_terminal(&self) -> bool {
        self.lifecycle().is_some_and(Lifecycle::is_terminal)
    }

    /// A short word for displays: the lifecycle name, or the raw spelling of
    /// an unknown status.
    pub fn word(&self) -> &str {
        match self.lifecycle() {
            Some(known) => known.name(),
            None => match self {
                Status::Unknown(raw) => raw,
                _ => "",
            },
        }
    }

    /// The lifecycle status, `None` for a status the spec does not know.
    pub fn lifecycle(&self) -> Option<Lifecycle> {
        match self {
            Status::Queued => Some(Lifecycle::Queued),
            Status::Running => Some(Lifecycle::Running),
            Status::Succeeded => Some(Lifecycle::Succeeded),
            Status::Failed => Some(Lifecycle::Failed),
            Status::Cancelled => Some(Lifecycle::Cancelled),
            Status::Unknown(_) => None,
        }
    }
}

impl From<Lifecycle> for Status {
    fn from(status: Lifecycle) -> Status {
        match status {
            Lifecycle::Queued => Status::Queued,
            Lifecycle::Running => Status::Running,
            Lifecycle::Succeeded => Status::Succeeded,
            Lifecycle::Failed => Status::Failed,
            Lifecycle::Cancelled => Status::Cancelled,
        }
    }
}

/// One result video.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Video {
    /// Where to download it.
    pub url: String,
    /// When the URL stops working, Unix seconds.
    pub expires_at: Option<i64>,
}

/// Why a task failed, as the gateway says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskError {
    /// Upstream code (`task_failed`).
    pub code: Option<String>,
    /// Upstream message.
    pub message: String,
}

/// What a poll learned about a task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskSnapshot {
    /// Task id.
    pub id: String,
    /// Normalised status.
    pub status: Status,
    /// The status as the gateway spelled it.
    pub raw_status: String,
    /// Progress 0–100.
    pub progress: Option<u64>,
    /// Amount charged.
    pub cost: Option<f64>,
    /// The gateway's estimate of the total time, seconds.
    pub estimated_time_s: Option<u64>,
    /// Time taken, seconds.
    pub actual_time_s: Option<u64>,
    /// Result videos.
    pub videos: Vec<Video>,
    /// Why it failed.
    pub error: Option<TaskError>,
    /// `X-Oneapi-Request-Id` of the answer.
    pub request_id: Option<String>,
    /// Result extras beside the videos (the spec's `read.extras`, such as a
    /// `thumbnail_url`), by name, as the gateway wrote them; those the answer
    /// does not hold are left out. Not serialised when empty, so an answer
    /// without extras reads as before.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extras: BTreeMap<String, Value>,
}

fn first<'a>(body: &'a Value, pointers: &[String]) -> Option<&'a Value> {
    pointers
        .iter()
        .filter_map(|pointer| body.pointer(pointer))
        .find(|value| !value.is_null())
}

fn number(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
    .filter(|number| !number.is_nan())
}

/// A count of seconds from a gateway number: negative is 0, too large
/// saturates at `u64::MAX` (turned into a `Duration` only through
/// `seconds`, which saturates again); NaN is no number.
fn whole_seconds(value: Option<&Value>) -> Option<u64> {
    number(value).map(|seconds| seconds.clamp(0.0, u64::MAX as f64) as u64)
}

/// The task id in a submit answer, or `None` when the answer holds none.
pub fn submitted_task_id(task: &Task, body: &Value) -> Option<String> {
    first(body, &task.submit_task_id)
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

/// The normalised status of a raw spelling (case-insensitive), read only
/// from the spellings the task section holds (the vocabulary's and the
/// spec's): see `vidspec_core::lifecycle::normalise`.
pub fn normalise(task: &Task, raw: &str) -> Status {
    match vidspec_core::lifecycle::normalise(&task.statuses, raw) {
        Some(status) => status.into(),
        None => Status::Unknown(raw.to_owned()),
    }
}

/// Reads a poll answer.
pub fn snapshot(task: &Task, id: &str, body: &Value, request_id: Option<String>) -> TaskSnapshot {
    let read = &task.read;
    let raw_status = first(body, &read.status)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let status = normalise(task, &raw_status);
    let mut videos = Vec::new();
    for source in &read.videos {
        let Some(entries) = body.pointer(&source.each).and_then(Value::as_array) else {
            continue;
        };
        for entry in entries {
            let expires_at = source
                .expires_at
                .as_ref()
                .and_then(|pointer| entry.pointer(pointer))
                .and_then(|value| number(Some(value)))
                .map(|seconds| seconds.clamp(i64::MIN as f64, i64::MAX as f64) as i64);
            match entry.pointer(&source.url) {
                Some(Value::String(url)) => videos.push(Video {
                    url: url.clone(),
                    expires_at,
                }),
                Some(Value::Array(urls)) => {
                    videos.extend(urls.iter().filter_map(Value::as_str).map(|url| Video {
                        url: url.to_owned(),
                        expires_at,
                    }))
                }
                _ => {}
            }
        }
        if !videos.is_empty() {
            break;
        }
    }
    let message = first(body, &read.error_message)
        .and_then(Value::as_str)
        .map(str::to_owned);
    let code = lenient_code(first(body, &read.error_code));
    let error = match (message, code) {
        (None, None) => None,
        (message, code) => Some(TaskError {
            code,
            message: message.unwrap_or_else(|| "no reason given".to_owned()),
        }),
    };
    TaskSnapshot {
        id: id.to_owned(),
        status,
        raw_status,
        progress: number(first(body, &read.progress))
            .map(|progress| progress.clamp(0.0, 100.0) as u64),
        cost: number(first(body, &read.cost)),
        estimated_time_s: whole_seconds(first(body, &read.estimated_time)),
        actual_time_s: whole_seconds(first(body, &read.actual_time)),
        videos,
        error,
        request_id,
        extras: read
            .extras
            .iter()
            .filter_map(|(name, pointers)| Some((name.clone(), first(body, pointers)?.clone())))
            .collect(),
    }
}
