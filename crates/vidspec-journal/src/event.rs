//! The line format of the JSON-lines journal that vidspec kept before the
//! ledger: one event per line, versioned. Read only, by the one-time import.
//!
//! Owns the serialized shape of those events and their mapping onto
//! [`Step`]s. It must not read or write files.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::entry::Step;

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Format version (1).
    pub v: u32,
    /// The submission this event belongs to.
    pub entry: String,
    /// Unix seconds when it was written.
    pub at: i64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened to a submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// About to send: written before the request leaves.
    Intent {
        /// Model id.
        model: String,
        /// Digest of the spec file that shaped the body.
        spec: String,
        /// Digest of the exact body sent.
        request: String,
        /// Endpoint path.
        endpoint: String,
        /// Where the caller wants the videos (if it said).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        download_dir: Option<String>,
    },
    /// The gateway accepted it.
    Submitted {
        /// Task id.
        task_id: String,
    },
    /// It provably did not create a task (refused before or without processing).
    NotSent {
        /// Why.
        reason: String,
    },
    /// It may or may not have created a task (the answer was lost).
    Unknown {
        /// What went wrong.
        reason: String,
    },
    /// The task ended.
    Outcome {
        /// `succeeded`, `failed` or `cancelled`.
        status: String,
        /// Result videos (URL and expiry), for downloading later.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        videos: Vec<Value>,
        /// Why it failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// Videos saved.
    Downloaded {
        /// Paths written.
        paths: Vec<String>,
    },
}

impl EventKind {
    /// The ledger step this event records (`None` for an intent).
    pub fn into_step(self) -> Option<Step> {
        Some(match self {
            EventKind::Intent { .. } => return None,
            EventKind::Submitted { task_id } => Step::Submitted { task_id },
            EventKind::NotSent { reason } => Step::NotSent { reason },
            EventKind::Unknown { reason } => Step::Unknown { reason },
            EventKind::Outcome {
                status,
                videos,
                error,
            } => Step::Outcome {
                status,
                videos,
                error,
                cost: None,
            },
            EventKind::Downloaded { paths } => Step::Downloaded { paths },
        })
    }
}
