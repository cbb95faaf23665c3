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
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use vidspec_core::Registry;
//! use vidspec_journal::Ledger;
//! use vidspec_transport::{ApiKey, Client, ClientOptions, WaitOptions};
//! use vidspec_workflow::{SubmitOptions, Workflow};
//!
//! let sim = vidspec_sim::Sim::start("127.0.0.1:0".parse()?, vidspec_sim::SimConfig {
//!     speed: 1000.0, task_seconds: 1.0, ..Default::default()
//! }).await?;
//! let client = Client::new(ApiKey::parse("sim-key")?, ClientOptions {
//!     base_url: sim.base_url(), allow_insecure_http: true, ..Default::default()
//! })?;
//! let dir = std::env::temp_dir().join(format!("vidspec-doc-{}", std::process::id()));
//! let ledger = Ledger::open(dir.join("ledger.sqlite3"))?;
//! let workflow = Workflow::new(Arc::new(Registry::embedded()), client, Arc::new(ledger));
//!
//! let request = serde_json::json!({"model": "veo3.1-fast", "prompt": "a red kite over the sea"});
//! let submitted = workflow.submit(request, &SubmitOptions::new(), &mut |event| println!("{event:?}")).await?;
//! let outcome = workflow.wait(&submitted.entry, &submitted.handle, &WaitOptions::default(), |_| {}).await?;
//! assert!(!outcome.videos().is_empty());
//! # sim.shutdown().await;
//! # let _ = std::fs::remove_dir_all(&dir);
//! # Ok(())
//! # }
//! ```

mod error;
mod event;
mod guard;
mod idempotency;
pub mod local_files;
mod recorder;
mod workflow;

pub use error::WorkflowError;
pub use event::Event;
pub use guard::request_key;
pub use recorder::{Recorder, step_of_failed_submit, step_of_outcome};
pub use workflow::{Checked, Resumed, SubmitOptions, Submitted, Workflow, recorded_outcome};
