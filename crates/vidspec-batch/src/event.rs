//! What a batch run tells its caller while it runs, for a display (a bar
//! with the slowest tasks, plain lines in a pipe, a log).
//!
//! Owns the event type; names and fields are stable (the CLI renders them).
//! It must not print or decide anything.

use std::path::PathBuf;

use serde::Serialize;

use crate::report::JobStatus;

/// Something that happened in a run. Job ids are user data: a display
/// escapes them like any untrusted text.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum BatchEvent {
    /// The run starts: how many jobs the manifest holds and how many of them
    /// the task store already holds as downloaded.
    Started {
        /// The run's name.
        run: String,
        /// Jobs given to the run.
        jobs: usize,
        /// Of those, jobs already downloaded (skipped without any request).
        already_done: usize,
        /// This worker's id (it holds the leases of the entries it claims).
        owner: String,
    },
    /// A job was accepted by the gateway (or resent under its idempotency
    /// key) and recorded.
    Submitted {
        /// The job id.
        job: String,
        /// The gateway's task id.
        task_id: String,
        /// The model id.
        model: String,
        /// The mode the request was sent in.
        mode: String,
    },
    /// A task's status or progress changed while it was waited for.
    Progress {
        /// The job id.
        job: String,
        /// The gateway's task id.
        task_id: String,
        /// The normalised status (`queued`, `running`, …).
        status: String,
        /// Percent done, when the gateway says.
        progress: Option<u64>,
    },
    /// A job has its final answer for this run.
    Finished {
        /// The job id.
        job: String,
        /// How it ended.
        status: JobStatus,
        /// The gateway's task id, when one is known.
        task_id: Option<String>,
        /// What the gateway reported it cost.
        cost: Option<f64>,
        /// The videos saved.
        files: Vec<PathBuf>,
    },
    /// A job needs nothing from this worker: already downloaded, or failed
    /// earlier and not retried. A `Finished` event follows with its status.
    Skipped {
        /// The job id.
        job: String,
        /// Why.
        why: String,
    },
    /// A job's submission may or may not have created a task and cannot be
    /// resent safely (its endpoint takes no idempotency key): it is counted
    /// and listed, never submitted again. Check the gateway's console.
    Unknown {
        /// The job id.
        job: String,
        /// The task store's entry.
        entry: String,
        /// Why it is unknown.
        reason: String,
    },
    /// No new job is submitted from now on: spent plus the estimate of what
    /// is in flight would pass the budget with the next job. Running jobs
    /// are still waited for and downloaded.
    BudgetStopped {
        /// What finished tasks cost.
        spent: f64,
        /// The estimate of what is in flight.
        in_flight: f64,
        /// The budget.
        budget: f64,
        /// The job that was not submitted.
        next_job: String,
        /// The budget's own words for why.
        reason: String,
    },
    /// This worker took over a job whose worker's lease ended (it died or
    /// stopped): it finishes it without submitting it again.
    TakenOver {
        /// The job id.
        job: String,
        /// The task store's entry.
        entry: String,
    },
    /// Something failed and is tried again.
    Retrying {
        /// The job id.
        job: String,
        /// What failed.
        reason: String,
    },
    /// A job is held by another live worker: this one waits for its answer
    /// through the task store.
    HeldElsewhere {
        /// The job id.
        job: String,
        /// The worker holding it.
        owner: String,
    },
}
