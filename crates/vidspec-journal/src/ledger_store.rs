//! The SQLite ledger behind the async [`TaskStore`] trait: listings as
//! pages, and each call's hop to tokio's blocking pool.
//!
//! Owns the paged queries and how blocking SQLite work is run for async
//! callers (on the blocking pool; inline outside a tokio runtime). The schema
//! and the blocking operations are `ledger_schema`'s, `ledger`'s and
//! `ledger_batch`'s; this module must not change
//! what any operation does.

use rusqlite::params;

use crate::entry::{Claim, Entry, Guard, Intent, LearnedPrice, StateFilter, Step};
use crate::error::LedgerError;
use crate::ledger::{COLUMNS, Ledger, UNFINISHED, condition, entry_at};
use crate::store::{Cursor, Page, PageRequest, StoreFuture, TaskStore};

impl Ledger {
    /// One page of a query whose first column is `seq`, then [`COLUMNS`].
    fn page_query(
        &self,
        sql: &str,
        parameters: impl rusqlite::Params,
        limit: usize,
    ) -> Result<Page, LedgerError> {
        let connection = self.connection();
        let mut statement = connection.prepare(sql).map_err(|error| self.error(error))?;
        let mut rows = statement
            .query(parameters)
            .map_err(|error| self.error(error))?;
        let mut entries = Vec::new();
        let mut last = None;
        while let Some(row) = rows.next().map_err(|error| self.error(error))? {
            let seq: i64 = row.get(0).map_err(|error| self.error(error))?;
            entries.push(entry_at(row, 1).map_err(|error| self.error(error))?);
            last = Some(seq);
        }
        let next = last.filter(|_| entries.len() >= limit).map(Cursor);
        Ok(Page { entries, next })
    }

    /// The blocking form of [`TaskStore::unfinished`].
    pub fn unfinished_page(
        &self,
        filter: StateFilter,
        page: PageRequest,
    ) -> Result<Page, LedgerError> {
        self.page_query(
            &format!(
                "SELECT seq, {COLUMNS} FROM entries WHERE state IN {UNFINISHED} AND {} \
                 AND seq > ?1 ORDER BY seq LIMIT ?2",
                condition(filter)
            ),
            params![after(page), limit(page)],
            page.limit,
        )
    }

    /// The blocking form of [`TaskStore::finished`].
    pub fn finished_page(
        &self,
        filter: StateFilter,
        newest: Option<u64>,
        page: PageRequest,
    ) -> Result<Page, LedgerError> {
        let finished = format!("state NOT IN {UNFINISHED} AND {}", condition(filter));
        let newest = newest.map_or(i64::MAX, |newest| i64::try_from(newest).unwrap_or(i64::MAX));
        self.page_query(
            &format!(
                "SELECT seq, {COLUMNS} FROM (SELECT seq, {COLUMNS} FROM entries WHERE {finished} \
                 ORDER BY seq DESC LIMIT ?3) WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            ),
            params![after(page), limit(page), newest],
            page.limit,
        )
    }

    /// The blocking form of [`TaskStore::run_entries`].
    pub fn run_entries_page(&self, run: &str, page: PageRequest) -> Result<Page, LedgerError> {
        self.page_query(
            &format!(
                "SELECT seq, {COLUMNS} FROM entries WHERE run = ?1 AND seq > ?2 \
                 ORDER BY seq LIMIT ?3"
            ),
            params![run, after(page), limit(page)],
            page.limit,
        )
    }

    /// Runs `work` with a clone of this ledger on tokio's blocking pool. The
    /// work runs to its end even when the returned future is dropped, so a
    /// step that was started is either recorded or failed, never cut in half
    /// (SQLite's transaction would roll it back anyway).
    fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Ledger) -> Result<T, LedgerError> + Send + 'static,
    ) -> StoreFuture<'static, T> {
        let ledger = self.clone();
        Box::pin(async move {
            let location = ledger.location();
            // Outside a tokio runtime (another executor) the work runs here,
            // blocking that executor's thread, rather than panicking.
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return work(&ledger);
            };
            runtime
                .spawn_blocking(move || work(&ledger))
                .await
                .unwrap_or_else(|error| {
                    Err(LedgerError::Io {
                        path: location.into(),
                        problem: "the ledger's worker thread stopped; the step may not be \
                                  recorded: list the ledger to see what it holds"
                            .to_owned(),
                        source: Some(std::io::Error::from(error)),
                    })
                })
        })
    }
}

fn after(page: PageRequest) -> i64 {
    page.after.map_or(i64::MIN, |Cursor(seq)| seq)
}

fn limit(page: PageRequest) -> i64 {
    i64::try_from(page.limit).unwrap_or(i64::MAX)
}

/// The SQLite ledger as a task store: each method is the blocking form of
/// the same name, run on tokio's blocking pool (outside a tokio runtime, on
/// the polling thread). Claims across processes on one machine are serialised by
/// `BEGIN IMMEDIATE`; SQLite over a network file system is not supported.
impl TaskStore for Ledger {
    fn location(&self) -> String {
        Ledger::location(self)
    }

    fn claim(&self, intent: Intent, guard: Guard) -> StoreFuture<'_, Claim> {
        self.blocking(move |ledger| ledger.claim(&intent, guard))
    }

    fn record(&self, entry: String, step: Step) -> StoreFuture<'_, ()> {
        self.blocking(move |ledger| ledger.record(&entry, &step))
    }

    fn unfinished_with_request(&self, request: String) -> StoreFuture<'_, Option<Entry>> {
        self.blocking(move |ledger| ledger.unfinished_with_request(&request))
    }

    fn find_by_task_id(&self, task_id: String) -> StoreFuture<'_, Option<Entry>> {
        self.blocking(move |ledger| ledger.find_by_task_id(&task_id))
    }

    fn unfinished(&self, filter: StateFilter, page: PageRequest) -> StoreFuture<'_, Page> {
        self.blocking(move |ledger| ledger.unfinished_page(filter, page))
    }

    fn finished(
        &self,
        filter: StateFilter,
        newest: Option<u64>,
        page: PageRequest,
    ) -> StoreFuture<'_, Page> {
        self.blocking(move |ledger| ledger.finished_page(filter, newest, page))
    }

    fn count_finished(&self, filter: StateFilter) -> StoreFuture<'_, u64> {
        self.blocking(move |ledger| ledger.count_finished(filter))
    }

    fn latest_with_request(&self, request: String) -> StoreFuture<'_, Option<Entry>> {
        self.blocking(move |ledger| ledger.latest_with_request(&request))
    }

    fn renew_leases(&self, owner: String, seconds: u32) -> StoreFuture<'_, u64> {
        self.blocking(move |ledger| ledger.renew_leases(&owner, seconds))
    }

    fn take_over(
        &self,
        run: String,
        owner: String,
        seconds: u32,
        limit: usize,
    ) -> StoreFuture<'_, Vec<Entry>> {
        self.blocking(move |ledger| ledger.take_over(&run, &owner, seconds, limit))
    }

    fn release_leases(&self, owner: String) -> StoreFuture<'_, u64> {
        self.blocking(move |ledger| ledger.release_leases(&owner))
    }

    fn run_entries(&self, run: String, page: PageRequest) -> StoreFuture<'_, Page> {
        self.blocking(move |ledger| ledger.run_entries_page(&run, page))
    }

    fn learned_prices(&self) -> StoreFuture<'_, Vec<LearnedPrice>> {
        self.blocking(Ledger::learned_prices)
    }
}
