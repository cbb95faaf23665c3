//! The operations every task store offers, as a trait: the SQLite ledger
//! today, a ledger shared by several machines (PostgreSQL) later.
//!
//! Owns the contract, not any storage: in particular that [`TaskStore::claim`]
//! is one atomic step across every process on every machine that shares the
//! store (check for an identical unfinished request, then record the intent)
//! and is durable when its future resolves. It must not name files, SQL or
//! HTTP.
//!
//! The trait is async and dyn-compatible (`&dyn TaskStore`,
//! `Arc<dyn TaskStore>`): each method returns a boxed `Send` future, and
//! takes owned arguments a network store can move into its request.

use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;

use crate::entry::{Claim, Entry, Guard, Intent, LearnedPrice, StateFilter, Step};
use crate::error::LedgerError;

/// Receives entries one at a time; `ControlFlow::Break` stops the listing
/// (the blocking listings of [`crate::Ledger`]).
pub type Visit<'a> = &'a mut dyn FnMut(Entry) -> ControlFlow<()>;

/// What a [`TaskStore`] method returns: a boxed, `Send` future.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, LedgerError>> + Send + 'a>>;

/// A position in a store's listing order: the listing goes on after the
/// entry it names. Only the store that returned it gives it a meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor(pub i64);

/// Which page of a listing to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Start after this position; `None` from the beginning.
    pub after: Option<Cursor>,
    /// At most this many entries.
    pub limit: usize,
}

impl PageRequest {
    /// The first page of at most `limit` entries.
    pub fn first(limit: usize) -> PageRequest {
        PageRequest { after: None, limit }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The entries, oldest first.
    pub entries: Vec<Entry>,
    /// Where the next page starts; `None` when this one is the last.
    pub next: Option<Cursor>,
}

/// A durable record of submissions, shared by every process (and, for a
/// network store, every machine) that submits with it.
///
/// # Claim semantics
///
/// [`TaskStore::claim`] is the double-spend guard and must be *linearizable*
/// across all of them: of any number of concurrent claims of the same
/// request key under [`Guard::Unfinished`] or [`Guard::Once`], while no
/// entry with that key stops them ([`Guard::is_stopped_by`]), exactly one
/// returns [`Claim::Claimed`] and every other returns [`Claim::Duplicate`]
/// with that entry. A `Claimed` intent is durable
/// (committed, and visible to every other claimer) before the future
/// resolves. A claim's future dropped before it resolves may or may not have
/// recorded the intent: the caller must not send, and an entry left behind
/// reads as `unknown` (nothing was sent, but nothing says so). Entry ids are
/// the store's to choose and unique across everything that shares it.
///
/// No method holds a transaction or lock across network I/O to the gateway:
/// each returns before anything is sent.
///
/// Every store passes the same contract, the checks in this crate's
/// `tests/contract` (run against each store by its own test file).
///
/// # Cancellation
///
/// Dropping any other method's future may leave its step done or not done,
/// never half done; a step is recorded whole or not at all.
pub trait TaskStore: Send + Sync {
    /// Where the store is, for messages (a path, later a database name).
    fn location(&self) -> String;

    /// The double-spend guard and the intent, as one atomic step: an earlier
    /// entry with the same request key that `guard` counts wins
    /// ([`Claim::Duplicate`]); otherwise the intent (with its idempotency key
    /// and body, job, billing and lease, if any) is recorded durably before
    /// this resolves ([`Claim::Claimed`]). See the trait's claim semantics:
    /// they hold for every [`Guard`].
    fn claim(&self, intent: Intent, guard: Guard) -> StoreFuture<'_, Claim>;

    /// Records what happened to `entry` after its intent, durably.
    fn record(&self, entry: String, step: Step) -> StoreFuture<'_, ()>;

    /// The newest unfinished entry with this request key, if any (an early,
    /// non-authoritative look; [`TaskStore::claim`] decides).
    fn unfinished_with_request(&self, request: String) -> StoreFuture<'_, Option<Entry>>;

    /// The newest entry with this task id, if any.
    fn find_by_task_id(&self, task_id: String) -> StoreFuture<'_, Option<Entry>>;

    /// A page of the unfinished entries the filter admits, oldest first.
    fn unfinished(&self, filter: StateFilter, page: PageRequest) -> StoreFuture<'_, Page>;

    /// A page of the finished entries the filter admits, oldest first: of the
    /// newest `newest` of them, or of all with `None`.
    fn finished(
        &self,
        filter: StateFilter,
        newest: Option<u64>,
        page: PageRequest,
    ) -> StoreFuture<'_, Page>;

    /// How many finished entries the filter admits.
    fn count_finished(&self, filter: StateFilter) -> StoreFuture<'_, u64>;

    /// The newest entry with this request key, in any state (the one
    /// [`Guard::Once`] decides by).
    fn latest_with_request(&self, request: String) -> StoreFuture<'_, Option<Entry>>;

    /// Extends, by `seconds` from now, the lease of every unfinished entry
    /// `owner` holds (a worker's heartbeat), also one whose lease has ended
    /// but that no one has taken over yet. How many it extended.
    fn renew_leases(&self, owner: String, seconds: u32) -> StoreFuture<'_, u64>;

    /// Takes over at most `limit` unfinished entries of batch run `run`,
    /// oldest first, whose lease has ended (their worker died or stopped)
    /// or that no one holds: each now held by `owner` for `seconds`, as the
    /// returned entries say. Atomic across every process sharing the store:
    /// two take-overs never return the same entry while its new lease
    /// lasts, and an entry whose lease has not ended is never returned. A
    /// lease of `n` seconds ends once the store's clock, in whole seconds,
    /// has passed the second it was taken in plus `n` (so it lasts at least
    /// `n` seconds).
    fn take_over(
        &self,
        run: String,
        owner: String,
        seconds: u32,
        limit: usize,
    ) -> StoreFuture<'_, Vec<Entry>>;

    /// Ends the leases `owner` holds on unfinished entries now (a worker
    /// stopping cleanly): they are no one's, so that others may take them
    /// over at once. How many it ended.
    fn release_leases(&self, owner: String) -> StoreFuture<'_, u64>;

    /// A page of every entry of batch run `run`, in any state, oldest first.
    fn run_entries(&self, run: String, page: PageRequest) -> StoreFuture<'_, Page>;

    /// The price of each billing key, learned from the entries that
    /// succeeded with a reported cost and a known billing (a failed task's
    /// cost, often a refund, is not its price): the mean of cost divided by
    /// multiplier, ordered by key (byte order).
    fn learned_prices(&self) -> StoreFuture<'_, Vec<LearnedPrice>>;
}

/// Every unfinished entry the filter admits, oldest first, page by page.
pub async fn all_unfinished(
    store: &dyn TaskStore,
    filter: StateFilter,
) -> Result<Vec<Entry>, LedgerError> {
    let mut entries = Vec::new();
    let mut page = PageRequest::first(PAGE);
    loop {
        let Page {
            entries: more,
            next,
        } = store.unfinished(filter, page).await?;
        entries.extend(more);
        match next {
            Some(after) => page.after = Some(after),
            None => return Ok(entries),
        }
    }
}

/// Every entry of batch run `run`, oldest first, page by page.
pub async fn all_run_entries(store: &dyn TaskStore, run: &str) -> Result<Vec<Entry>, LedgerError> {
    let mut entries = Vec::new();
    let mut page = PageRequest::first(PAGE);
    loop {
        let Page {
            entries: more,
            next,
        } = store.run_entries(run.to_owned(), page).await?;
        entries.extend(more);
        match next {
            Some(after) => page.after = Some(after),
            None => return Ok(entries),
        }
    }
}

/// The page size [`all_unfinished`] and [`all_run_entries`] ask for.
pub const PAGE: usize = 500;
