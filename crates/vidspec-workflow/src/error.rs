//! What can stop the workflow, sorted by what the caller does next.
//!
//! Owns the error enum and its wording: neutral, for library users (no
//! command-line flags; a program adds its own hints). It must not print.

use std::path::PathBuf;

use vidspec_core::Diagnostics;
use vidspec_journal::{Entry, LedgerError};
use vidspec_transport::{Finding, LocalImageError};

/// Why a workflow step stopped. Whether money may be tied up is in each
/// variant's doc.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowError {
    /// The request is not valid JSON. Nothing was sent.
    #[error("the request is not valid JSON: {source}")]
    Malformed {
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The request names no model, or one the registry does not hold.
    /// Nothing was sent.
    #[error(transparent)]
    UnknownModel(Box<vidspec_core::RouteError>),
    /// The request breaks the model's rules. Nothing was sent.
    #[error("the request is not valid for {model}:\n{diagnostics}")]
    Invalid {
        /// The model it was checked against.
        model: String,
        /// Every problem found.
        diagnostics: Diagnostics,
    },
    /// A local file could not be read to key the double-spend guard.
    /// Nothing was sent.
    #[error("cannot read {} (for {pointer}): {source}", path.display())]
    LocalFile {
        /// The file.
        path: PathBuf,
        /// Where the request names it.
        pointer: String,
        /// What failed.
        #[source]
        source: LocalImageError,
    },
    /// Local videos or audio files, which the gateway cannot take (it
    /// uploads images only). Nothing was sent.
    #[error("{} local file(s) the gateway cannot take: {}", refusals.len(), refusals.join("; "))]
    LocalMedia {
        /// Why each is refused, and what to do instead.
        refusals: Vec<String>,
    },
    /// Pre-flight found errors. Nothing was submitted (local images may
    /// have been uploaded, which costs nothing).
    #[error("{} pre-flight error(s)", findings.iter().filter(|finding| finding.severity == vidspec_transport::Severity::Error).count())]
    Preflight {
        /// Every finding, warnings included.
        findings: Vec<Finding>,
    },
    /// An identical request is unfinished in the task store: sending it
    /// again would pay twice. Nothing was sent; submit with `again` to pay
    /// for another on purpose.
    #[error(
        "an identical request is already in the task store as {} (entry {}); nothing was sent",
        entry.state.name(),
        entry.entry
    )]
    Duplicate {
        /// The unfinished entry.
        entry: Box<Entry>,
    },
    /// The task store failed before anything was sent.
    #[error("the task store failed: {0}")]
    Store(#[source] Box<LedgerError>),
    /// The gateway refused or failed. For a submit, the task store says
    /// whether a task may exist (`not_sent` or `unknown`).
    #[error("{0}")]
    Gateway(#[source] Box<vidspec_transport::Error>),
    /// The submit failed. The task store records whether a task may exist
    /// (`not_sent` when the error proves none was created, else `unknown`),
    /// unless `unrecorded` says why it could not (the entry then reads
    /// `unknown`, the safe reading).
    #[error("{source}")]
    Submit {
        /// What the gateway or the connection did.
        #[source]
        source: Box<vidspec_transport::Error>,
        /// Why the failure could not be recorded, if it could not.
        unrecorded: Option<Box<LedgerError>>,
    },
    /// The gateway accepted the task (it will be charged) but the task store
    /// could not record it. Do not submit it again: wait for `task_id`.
    #[error(
        "the gateway accepted task {task_id} and will charge it, but the task store could not \
         record it ({source}); do not submit it again: wait for task {task_id}"
    )]
    Unrecorded {
        /// The ledger entry.
        entry: String,
        /// The task the gateway created.
        task_id: String,
        /// Why recording failed. `Workflow::record_true_cause` tries once
        /// more to leave the task id and this cause as the entry's reason.
        #[source]
        source: Box<LedgerError>,
    },
    /// The background task that sends and records a submit stopped (its
    /// runtime shut down). The entry stays `unknown`: the task may exist.
    #[error(
        "the submit of entry {entry} was interrupted ({reason}); the task store keeps it as \
         unknown: the task may exist"
    )]
    Interrupted {
        /// The ledger entry.
        entry: String,
        /// What stopped it.
        reason: String,
    },
    /// The callback URL cannot be sent with this request (its model's
    /// endpoint declares none, or the URL is not http(s)). Nothing was
    /// sent (local images may have been uploaded, which costs nothing).
    #[error("{0}; nothing was sent")]
    Webhook(#[source] vidspec_core::WebhookError),
    /// An entry to resend has no idempotency key or body, or its body no
    /// longer prepares to the same bytes (the spec changed). Nothing was sent.
    #[error("entry {entry} cannot be resent identically: {reason}")]
    NotResendable {
        /// The ledger entry.
        entry: String,
        /// Why.
        reason: String,
    },
}

impl From<LedgerError> for WorkflowError {
    fn from(error: LedgerError) -> WorkflowError {
        WorkflowError::Store(Box::new(error))
    }
}

impl From<vidspec_transport::Error> for WorkflowError {
    fn from(error: vidspec_transport::Error) -> WorkflowError {
        WorkflowError::Gateway(Box::new(error))
    }
}

impl From<vidspec_core::RouteError> for WorkflowError {
    fn from(error: vidspec_core::RouteError) -> WorkflowError {
        WorkflowError::UnknownModel(Box::new(error))
    }
}
