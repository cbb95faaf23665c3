//! The operations every task store offers, as a trait: the SQLite ledger
//! today, a ledger shared by several machines (PostgreSQL) later.
//!
//! Owns the contract, not any storage: in particular that [`TaskStore::claim`]
//! is one atomic step across processes (check for an identical unfinished
//! request, then record the intent) and is durable when it returns. It must
//! not name files, SQL or HTTP.

use std::ops::ControlFlow;

use crate::entry::{Claim, Entry, Intent, StateFilter, Step};
use crate::error::LedgerError;

/// Receives entries one at a time; `ControlFlow::Break` stops the listing.
pub type Visit<'a> = &'a mut dyn FnMut(Entry) -> ControlFlow<()>;

/// A durable record of submissions.
pub trait TaskStore {
    /// Where the store is, for messages (a path, later a database name).
    fn location(&self) -> String;

    /// The double-spend guard and the intent, as one atomic step: unless
    /// `again`, an unfinished entry with the same request key wins
    /// ([`Claim::Duplicate`]); otherwise the intent is recorded durably
    /// before this returns ([`Claim::Claimed`]). Never held across network
    /// I/O: it returns before anything is sent.
    fn claim(&self, intent: &Intent, again: bool) -> Result<Claim, LedgerError>;

    /// Records what happened to `entry` after its intent, durably.
    fn record(&self, entry: &str, step: &Step) -> Result<(), LedgerError>;

    /// The newest unfinished entry with this request key, if any (an early,
    /// non-authoritative look; [`TaskStore::claim`] decides).
    fn unfinished_with_request(&self, request: &str) -> Result<Option<Entry>, LedgerError>;

    /// The newest entry with this task id, if any.
    fn find_by_task_id(&self, task_id: &str) -> Result<Option<Entry>, LedgerError>;

    /// Every unfinished entry the filter admits, oldest first.
    fn unfinished(&self, filter: StateFilter, visit: Visit<'_>) -> Result<(), LedgerError>;

    /// Finished entries the filter admits, oldest first: the newest `newest`
    /// of them, or all with `None`.
    fn finished(
        &self,
        filter: StateFilter,
        newest: Option<u64>,
        visit: Visit<'_>,
    ) -> Result<(), LedgerError>;

    /// How many finished entries the filter admits.
    fn count_finished(&self, filter: StateFilter) -> Result<u64, LedgerError>;
}
