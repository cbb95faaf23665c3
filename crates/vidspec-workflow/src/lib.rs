//! vidspec-workflow: the submission workflow, with the guarantees that keep
//! paid tasks from being lost or paid for twice, for any program (the
//! `vidspec` command is one).
//!
//! A request is validated (local paths stood in for by placeholder URLs, so
//! an invalid request uploads nothing), local files are pre-flighted, local
//! videos and audio refused (the gateway uploads images only), local images
//! uploaded, an identical unfinished request looked for, remote inputs
//! pre-flighted; then the double-spend guard and the intent are one step of
//! the [`TaskStore`](vidspec_journal::TaskStore), the request is sent once
//! and its answer recorded even if the caller drops the future. Waiting,
//! downloading and resuming record as they go.
//!
//! Each step is a method of [`Workflow`] ([`Workflow::check`],
//! [`Workflow::check_local_files`], [`Workflow::upload`],
//! [`Workflow::preflight`], [`Workflow::send`]) and [`Workflow::submit`]
//! runs them all. The `workflow` module documents what dropping each step's
//! future means.
//!
//! When a model's endpoint honours an idempotency key, each logical
//! submission gets one, stored with the exact body bytes before sending, and
//! [`Workflow::resume`] resends an `unknown` entry with them. The store then
//! holds request bodies (which may hold prompts); it never holds an API key.
//!
//! `examples/validate_and_submit.rs` runs the whole workflow against the
//! in-process simulator, offline.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use vidspec_core::Registry;
//! use vidspec_journal::Ledger;
//! use vidspec_transport::{Client, WaitOptions};
//! use vidspec_workflow::{Event, SubmitOptions, Workflow};
//!
//! // A request names its model: models are data, in the registry.
//! let request: serde_json::Value = serde_json::from_str(&std::fs::read_to_string("request.json")?)?;
//! let ledger = Ledger::open("ledger.sqlite3")?;
//! let workflow = Workflow::new(Registry::embedded(), Client::from_env()?, Arc::new(ledger));
//!
//! let submitted = workflow
//!     .submit(request, &SubmitOptions::new(), &mut |event| {
//!         if let Event::Uploaded { path, url, .. } = event {
//!             eprintln!("uploaded {} as {url}", path.display());
//!         }
//!     })
//!     .await?;
//! // The task id is in the ledger now, whatever happens next.
//! let outcome = workflow
//!     .wait(&submitted.entry, &submitted.handle, &WaitOptions::default(), |_| {})
//!     .await?;
//! workflow
//!     .download(&submitted.entry, &outcome, "videos".as_ref(), &Default::default())
//!     .await?;
//! # Ok(())
//! # }
//! ```

// The README's examples (validation, the workflow, the simulator as a
// fixture) compile and run as doctests here, where every crate they use is
// a dependency.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod error;
mod event;
mod guard;
mod idempotency;
pub mod local_files;
mod recorder;
mod resume;
mod workflow;

pub use error::WorkflowError;
pub use event::Event;
pub use guard::request_key;
pub use recorder::{Recorder, step_of_failed_submit, step_of_outcome};
pub use resume::{Resumed, recorded_outcome};
pub use workflow::{Checked, SubmitOptions, Submitted, Workflow};
