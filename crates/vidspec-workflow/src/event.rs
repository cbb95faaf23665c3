//! What the workflow tells its caller while it runs, for the caller to
//! render (a progress line, a log record, nothing).
//!
//! Owns the event type. It must not print or decide anything.

use std::path::PathBuf;

use vidspec_transport::Finding;

/// Something that happened during a step.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A local image was uploaded and its URL put in the request.
    Uploaded {
        /// The local file.
        path: PathBuf,
        /// Where the request names it (a JSON pointer).
        pointer: String,
        /// The URL the gateway gave it.
        url: String,
    },
    /// A warning of the plan (a field ignored, a value adjusted, …).
    Warning(String),
    /// A pre-flight finding (errors and warnings alike).
    Finding(Finding),
}
