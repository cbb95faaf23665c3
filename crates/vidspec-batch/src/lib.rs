//! vidspec-batch: runs a manifest of video-generation requests (JSON lines)
//! through the workflow of `vidspec-workflow`, many at a time, so that a
//! crash, a `kill -9`, rate limits and lost answers neither pay for a job
//! twice nor lose a paid video.
//!
//! Every line is validated before anything is sent. Each job has a key in
//! the task store (its run and id), and the store's [`Guard::Once`] claim
//! makes its submission happen once across every worker sharing the store;
//! leases let a worker take over the jobs of one that died.
//!
//! [`Guard::Once`]: vidspec_journal::Guard::Once

pub mod balance;
pub mod budget;
mod event;
mod job;
pub mod manifest;
pub mod plan;
pub mod prices;
pub mod report;
mod runner;
pub mod status;

pub use balance::{BalanceCheckError, BalanceVerdict, check_balance};
pub use budget::{Budget, BudgetSnapshot, BudgetStop, LedgerTally, tally};
pub use event::BatchEvent;
pub use job::{MAX_JOB_ID_LENGTH, default_run_name, is_safe_job_id, job_key, job_ref, owner_id};
pub use manifest::{InvalidLine, Job, Manifest, ManifestError, load};
pub use plan::{CostPlan, KeyCost, ModelCost, UnpricedJob, cost_plan};
pub use prices::{Price, PriceBook, PriceFileError, PriceSource};
pub use report::{JobReport, JobStatus, Report, Summary, write_jsonl};
pub use runner::{Batch, BatchError, BatchOptions, DEFAULT_LEASE_SECONDS, Waiter};
pub use status::{RunStatus, UnknownJob, WorkerLeases, run_status};
