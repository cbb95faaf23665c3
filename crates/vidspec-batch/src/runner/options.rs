//! How a batch runs ([`BatchOptions`]), how it waits ([`Waiter`]) and why
//! it stops ([`BatchError`]).
//!
//! Owns the options and their defaults. It must not run anything.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use vidspec_journal::LedgerError;
use vidspec_transport::{DownloadOptions, Outcome, TaskHandle, WaitOptions};

use crate::budget::Budget;
use crate::job::owner_id;

/// Waits for a submitted task to end: the poller by default
/// (`Workflow::wait`); a webhook receiver plugs in here. The runner records
/// the outcome it returns.
pub trait Waiter: Send + Sync {
    /// The task's result, `Error::TaskFailed`, or why waiting stopped.
    fn wait(&self, handle: &TaskHandle)
    -> BoxFuture<'_, Result<Outcome, vidspec_transport::Error>>;
}

/// How a batch runs.
#[derive(Clone)]
#[non_exhaustive]
pub struct BatchOptions {
    /// The run's name: jobs are keyed by it and their ids.
    pub run: String,
    /// Where videos are saved, as `<job id>-<n>.mp4`.
    pub out_dir: PathBuf,
    /// Jobs in flight at once (submit, wait and download). At least 1.
    pub concurrency: usize,
    /// Submits (and resends) per second at most; 0 = no cap of the runner's
    /// own. Polls go through the client, whose `requests_per_second` caps
    /// every request it makes: give it the same number.
    pub rps: f64,
    /// Submit jobs that failed in an earlier run again.
    pub retry_failed: bool,
    /// This worker's id (unique per process; [`owner_id`] by default).
    pub owner: String,
    /// How long a lease lasts without renewal; the heartbeat renews it every
    /// third of it. At least 3.
    pub lease_seconds: u32,
    /// How to wait with the poller (when `waiter` is `None`).
    pub wait: WaitOptions,
    /// How to download. `overwrite` is on by default: a file under a job's
    /// name that its entry does not list as saved is a download cut short
    /// before it was recorded (a crash), so it is replaced.
    pub download: DownloadOptions,
    /// Waits instead of the poller (a webhook receiver).
    pub waiter: Option<Arc<dyn Waiter>>,
    /// Skip the pre-flight checks of files and referenced tasks.
    pub skip_preflight: bool,
    /// How often jobs another live worker holds are looked up in the store,
    /// and dead workers' entries looked for.
    pub store_poll: Duration,
    /// Attempts of a submit that provably created no task and may succeed
    /// later (a connection refused, a 429 or 5xx before processing).
    pub submit_attempts: u32,
    /// The run's budget: each job is reserved before it is sent; once one
    /// is refused, no new job is sent (running ones are still finished).
    /// The runner tells it what the run's ledger entries already cost.
    pub budget: Option<Arc<Budget>>,
    /// The callback URL sent with each submit (a webhook receiver's public
    /// URL, token included), in the body field the model's spec declares;
    /// `waiter` then waits for the callbacks. A model whose endpoint takes
    /// no callback refuses it before anything is sent (a `not_sent` row).
    pub webhook: Option<url::Url>,
}

impl std::fmt::Debug for BatchOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("BatchOptions")
            .field("run", &self.run)
            .field("out_dir", &self.out_dir)
            .field("concurrency", &self.concurrency)
            .field("rps", &self.rps)
            .field("retry_failed", &self.retry_failed)
            .field("owner", &self.owner)
            .field("lease_seconds", &self.lease_seconds)
            .field("waiter", &self.waiter.is_some())
            // The URL holds the receiver's token: only whether there is one.
            .field("webhook", &self.webhook.is_some())
            .field("store_poll", &self.store_poll)
            .field(
                "budget",
                &self.budget.as_ref().map(|budget| budget.snapshot()),
            )
            .finish_non_exhaustive()
    }
}

/// The default lease, in seconds.
pub const DEFAULT_LEASE_SECONDS: u32 = 60;

impl BatchOptions {
    /// The defaults for run `run` saving into `out_dir`: 8 jobs at once, 2
    /// submits a second, a 60-second lease, failed jobs not retried.
    pub fn new(run: impl Into<String>, out_dir: impl Into<PathBuf>) -> BatchOptions {
        BatchOptions {
            run: run.into(),
            out_dir: out_dir.into(),
            concurrency: 8,
            rps: 2.0,
            retry_failed: false,
            owner: owner_id(),
            lease_seconds: DEFAULT_LEASE_SECONDS,
            wait: WaitOptions::default(),
            download: DownloadOptions {
                overwrite: true,
                ..DownloadOptions::default()
            },
            waiter: None,
            skip_preflight: false,
            store_poll: Duration::from_secs(5),
            submit_attempts: 4,
            budget: None,
            webhook: None,
        }
    }
}

/// Why a run stopped before every job had its answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The task store failed: the run stops, since it cannot know what was
    /// sent. Nothing paid is lost: run again once the store works.
    #[error(
        "the task store failed, so the run stopped: {0}; what was sent is recorded, run again \
         to continue"
    )]
    Store(#[source] Box<LedgerError>),
}

impl From<LedgerError> for BatchError {
    fn from(error: LedgerError) -> BatchError {
        BatchError::Store(Box::new(error))
    }
}
