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
pub mod plan;
pub mod prices;

pub use balance::{BalanceCheckError, BalanceVerdict, check_balance};
pub use budget::{Budget, BudgetSnapshot, BudgetStop, LedgerTally, tally};
pub use plan::{CostPlan, KeyCost, ModelCost, UnpricedJob, cost_plan};
pub use prices::{Price, PriceBook, PriceFileError, PriceSource};
