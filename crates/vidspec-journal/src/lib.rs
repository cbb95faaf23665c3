//! vidspec-journal: the local record that keeps paid tasks from being lost or
//! paid for twice.
//!
//! Every submission is written *before* it is sent (an `intent`), and again
//! when the gateway answers (`submitted`, with the task id, or `not_sent`),
//! when the task ends (`outcome`) and when its videos are saved
//! (`downloaded`). Each event is one JSON line, appended with a single write
//! and flushed to disk (`fsync`) before the caller goes on, so a crash or
//! `kill -9` at any point leaves a journal that says what may have been
//! charged. Reading folds the events into one [`Entry`] per submission and
//! tolerates a torn last line (a write cut short), reporting it.
//!
//! The journal holds ids, digests, model ids, result URLs and paths — never an
//! API key or a request body. It does no network I/O.

mod event;
mod journal;

pub use event::{Event, EventKind};
pub use journal::{Entry, Journal, JournalError, Read, State, default_path};
