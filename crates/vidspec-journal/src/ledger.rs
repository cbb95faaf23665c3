//! The SQLite ledger: one file, one row per submission, the double-spend
//! guard as one `BEGIN IMMEDIATE` transaction.
//!
//! Owns opening the file, the connection settings (WAL, `synchronous=FULL`,
//! a busy timeout so concurrent processes wait for the lock), how rows are
//! read and written, and the queries behind [`TaskStore`](crate::TaskStore)
//! (the schema and its migrations are `ledger_schema`'s, the batch
//! operations `ledger_batch`'s). It knows nothing
//! of HTTP or of any model, and never holds a transaction open after a call
//! returns.
//!
//! The connection sits behind a mutex in an `Arc`, so a [`Ledger`] is cheap to
//! clone, `Send + Sync`, and its [`TaskStore`](crate::TaskStore) methods run the blocking SQLite
//! work on tokio's blocking pool (`spawn_blocking`). Its inherent methods of
//! the same names are the blocking forms, for synchronous callers.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use serde_json::Value;

use crate::entry::{
    Billing, Claim, Entry, Guard, Intent, JobRef, NO_ANSWER_RECORDED, State, StateFilter, Step,
};
use crate::error::LedgerError;
use crate::store::Visit;

/// How long a process waits for another's write lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The states that may still cost money, as SQL.
pub(crate) const UNFINISHED: &str = "('unknown', 'running', 'succeeded')";

/// Columns read into an [`Entry`], in [`entry_at`]'s order.
pub(crate) const COLUMNS: &str = "entry, state, model, spec, request, endpoint, task_id, submitted_at, \
                       updated_at, download_dir, videos, paths, reason, idempotency_key, body, run, \
                       job, billing_key, billing_multiplier, cost, owner, lease_until";

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A new entry id, unique across processes in practice.
pub fn new_entry_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or(0);
    format!(
        "j{nanos:x}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The ledger file, open: cheap to clone (the clones share one connection).
#[derive(Debug, Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    connection: Mutex<Connection>,
    path: PathBuf,
}

impl Ledger {
    /// Opens the ledger at `path`, creating it (and its directory) if
    /// missing, and migrating an older schema version in place. Blocking.
    pub fn open(path: impl Into<PathBuf>) -> Result<Ledger, LedgerError> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|error| LedgerError::Io {
                path: path.clone(),
                problem: format!(
                    "cannot create the directory {}: name another ledger",
                    dir.display()
                ),
                source: Some(error),
            })?;
        }
        create_private(&path)?;
        let connection = Connection::open(&path)
            .map_err(|error| LedgerError::from_sqlite(&path, BUSY_TIMEOUT.as_secs(), error))?;
        let ledger = Ledger {
            inner: Arc::new(Inner {
                connection: Mutex::new(connection),
                path,
            }),
        };
        // Several processes may open a new ledger at once: while one switches
        // it to WAL and creates the tables, SQLite answers the others "busy"
        // at once, without waiting in the busy handler. They try again, for
        // as long as the busy timeout.
        let started = std::time::Instant::now();
        loop {
            let result = {
                let connection = ledger.connection();
                configure(&connection)
                    .map_err(|error| ledger.error(error))
                    .and_then(|()| ledger.ensure_schema(&connection))
            };
            match result {
                Err(LedgerError::Busy { .. }) if started.elapsed() < BUSY_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(error) => return Err(error),
                Ok(()) => return Ok(ledger),
            }
        }
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The connection, for one call. A panic while it was held (none is
    /// expected) leaves SQLite consistent: an open transaction is rolled back
    /// when its guard drops, so the poison is ignored.
    pub(crate) fn connection(&self) -> MutexGuard<'_, Connection> {
        self.inner
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn error(&self, error: rusqlite::Error) -> LedgerError {
        LedgerError::from_sqlite(&self.inner.path, BUSY_TIMEOUT.as_secs(), error)
    }

    /// A write transaction, taken now (waiting up to [`BUSY_TIMEOUT`]).
    pub(crate) fn immediate<'c>(
        &self,
        connection: &'c Connection,
    ) -> Result<Transaction<'c>, LedgerError> {
        Transaction::new_unchecked(connection, TransactionBehavior::Immediate)
            .map_err(|error| self.error(error))
    }

    pub(crate) fn query_one(&self, sql: &str, key: &str) -> Result<Option<Entry>, LedgerError> {
        self.connection()
            .query_row(sql, [key], |row| entry_at(row, 0))
            .optional()
            .map_err(|error| self.error(error))
    }

    fn visit_query(
        &self,
        sql: &str,
        parameters: impl rusqlite::Params,
        visit: Visit<'_>,
    ) -> Result<(), LedgerError> {
        let connection = self.connection();
        let mut statement = connection.prepare(sql).map_err(|error| self.error(error))?;
        let mut rows = statement
            .query(parameters)
            .map_err(|error| self.error(error))?;
        while let Some(row) = rows.next().map_err(|error| self.error(error))? {
            let entry = entry_at(row, 0).map_err(|error| self.error(error))?;
            if visit(entry).is_break() {
                break;
            }
        }
        Ok(())
    }

    /// Where the ledger is, for messages.
    pub fn location(&self) -> String {
        self.inner.path.display().to_string()
    }

    /// The blocking form of [`TaskStore::claim`](crate::TaskStore::claim).
    pub fn claim(&self, intent: &Intent, guard: Guard) -> Result<Claim, LedgerError> {
        let connection = self.connection();
        let transaction = self.immediate(&connection)?;
        // The entry the guard asks about: the newest unfinished one with the
        // key, or the newest one in any state.
        let deciding = match guard {
            Guard::Again => None,
            Guard::Unfinished => Some(unfinished_with_request_sql()),
            Guard::Once { .. } => Some(latest_with_request_sql()),
        };
        if let Some(sql) = deciding
            && let Some(entry) = transaction
                .query_row(&sql, [&intent.request], |row| entry_at(row, 0))
                .optional()
                .map_err(|error| self.error(error))?
            && guard.is_stopped_by(entry.state)
        {
            // Dropping the transaction rolls it back: nothing was written.
            return Ok(Claim::Duplicate(Box::new(entry)));
        }
        let entry = new_entry_id();
        insert_intent(&transaction, &entry, intent, now()).map_err(|error| self.error(error))?;
        transaction.commit().map_err(|error| self.error(error))?;
        Ok(Claim::Claimed(entry))
    }

    /// The blocking form of [`TaskStore::record`](crate::TaskStore::record).
    pub fn record(&self, entry: &str, step: &Step) -> Result<(), LedgerError> {
        let changed = apply_step(&self.connection(), entry, step, now())
            .map_err(|error| self.error(error))?;
        if changed == 0 {
            return Err(LedgerError::NoSuchEntry {
                path: self.inner.path.clone(),
                entry: entry.to_owned(),
                step: step_name(step),
            });
        }
        Ok(())
    }

    /// The blocking form of [`TaskStore::unfinished_with_request`](crate::TaskStore::unfinished_with_request).
    pub fn unfinished_with_request(&self, request: &str) -> Result<Option<Entry>, LedgerError> {
        self.query_one(&unfinished_with_request_sql(), request)
    }

    /// The blocking form of [`TaskStore::find_by_task_id`](crate::TaskStore::find_by_task_id).
    pub fn find_by_task_id(&self, task_id: &str) -> Result<Option<Entry>, LedgerError> {
        self.query_one(
            &format!("SELECT {COLUMNS} FROM entries WHERE task_id = ?1 ORDER BY seq DESC LIMIT 1"),
            task_id,
        )
    }

    /// Every unfinished entry the filter admits, oldest first, one at a time
    /// (the blocking, streamed form of [`TaskStore::unfinished`](crate::TaskStore::unfinished)).
    pub fn unfinished(&self, filter: StateFilter, visit: Visit<'_>) -> Result<(), LedgerError> {
        self.visit_query(
            &format!(
                "SELECT {COLUMNS} FROM entries WHERE state IN {UNFINISHED} AND {} ORDER BY seq",
                condition(filter)
            ),
            [],
            visit,
        )
    }

    /// Finished entries the filter admits, oldest first: the newest `newest`
    /// of them, or all with `None` (the blocking, streamed form of
    /// [`TaskStore::finished`](crate::TaskStore::finished)).
    pub fn finished(
        &self,
        filter: StateFilter,
        newest: Option<u64>,
        visit: Visit<'_>,
    ) -> Result<(), LedgerError> {
        let finished = format!("state NOT IN {UNFINISHED} AND {}", condition(filter));
        match newest {
            None => self.visit_query(
                &format!("SELECT {COLUMNS} FROM entries WHERE {finished} ORDER BY seq"),
                [],
                visit,
            ),
            Some(newest) => self.visit_query(
                &format!(
                    "SELECT {COLUMNS} FROM (SELECT seq, {COLUMNS} FROM entries WHERE {finished} \
                     ORDER BY seq DESC LIMIT ?1) ORDER BY seq"
                ),
                [i64::try_from(newest).unwrap_or(i64::MAX)],
                visit,
            ),
        }
    }

    /// The blocking form of [`TaskStore::count_finished`](crate::TaskStore::count_finished).
    pub fn count_finished(&self, filter: StateFilter) -> Result<u64, LedgerError> {
        let count: i64 = self
            .connection()
            .query_row(
                &format!(
                    "SELECT coalesce(sum(entries), 0) FROM state_counts \
                     WHERE state NOT IN {UNFINISHED} AND {}",
                    condition(filter)
                ),
                [],
                |row| row.get(0),
            )
            .map_err(|error| self.error(error))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

/// The newest entry with the request key `?1`, in any state.
pub(crate) fn latest_with_request_sql() -> String {
    format!("SELECT {COLUMNS} FROM entries WHERE request = ?1 ORDER BY seq DESC LIMIT 1")
}

fn unfinished_with_request_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM entries WHERE request = ?1 AND state IN {UNFINISHED} \
         ORDER BY seq DESC LIMIT 1"
    )
}

fn configure(connection: &Connection) -> rusqlite::Result<()> {
    connection.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers never block the writer; FULL: every commit is on disk
    // (the WAL fsynced) before it returns.
    let _mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

/// Creates the ledger file readable by its owner only (result URLs and, for
/// entries with an idempotency key, request bodies in it); SQLite gives its
/// WAL files the same mode. An existing file is left as it is.
fn create_private(path: &Path) -> Result<(), LedgerError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(LedgerError::Io {
            path: path.to_owned(),
            problem: "cannot create it: make its directory writable, or name another ledger"
                .to_owned(),
            source: Some(error),
        }),
    }
}

/// The SQL condition for `filter` (no user text in it).
pub(crate) fn condition(filter: StateFilter) -> String {
    match filter {
        StateFilter::Any => "1".to_owned(),
        StateFilter::Unfinished => format!("state IN {UNFINISHED}"),
        StateFilter::Only(state) => format!("state = '{}'", state.name()),
    }
}

/// The entry in [`COLUMNS`]' order, starting at column `at`.
pub(crate) fn entry_at(row: &Row<'_>, at: usize) -> rusqlite::Result<Entry> {
    let state: String = row.get(at + 1)?;
    let videos: String = row.get(at + 10)?;
    let paths: String = row.get(at + 11)?;
    Ok(Entry {
        entry: row.get(at)?,
        // A state this build does not know reads as unknown: it may cost money.
        state: State::from_name(&state).unwrap_or(State::Unknown),
        model: row.get(at + 2)?,
        spec: row.get(at + 3)?,
        request: row.get(at + 4)?,
        endpoint: row.get(at + 5)?,
        task_id: row.get(at + 6)?,
        submitted_at: row.get(at + 7)?,
        updated_at: row.get(at + 8)?,
        download_dir: row.get(at + 9)?,
        videos: serde_json::from_str::<Vec<Value>>(&videos).unwrap_or_default(),
        paths: serde_json::from_str::<Vec<String>>(&paths).unwrap_or_default(),
        reason: row.get(at + 12)?,
        idempotency_key: row.get(at + 13)?,
        body: row.get(at + 14)?,
        job: match (row.get(at + 15)?, row.get(at + 16)?) {
            (Some(run), Some(job)) => Some(JobRef { run, job }),
            _ => None,
        },
        billing: row.get::<_, Option<String>>(at + 17)?.map(|key| Billing {
            key,
            // A multiplier this build cannot read counts once.
            multiplier: row
                .get::<_, Option<i64>>(at + 18)
                .ok()
                .flatten()
                .and_then(|multiplier| u64::try_from(multiplier).ok())
                .unwrap_or(1),
        }),
        cost: row.get(at + 19)?,
        owner: row.get(at + 20)?,
        lease_until: row.get(at + 21)?,
    })
}

/// Inserts an intent row (inside the caller's transaction). The body is
/// kept only with an idempotency key: it is what a resend must repeat. A
/// lease ends `seconds` after `at`.
pub(crate) fn insert_intent(
    connection: &Connection,
    entry: &str,
    intent: &Intent,
    at: i64,
) -> rusqlite::Result<usize> {
    let body = intent.idempotency_key.as_ref().and(intent.body.as_deref());
    let job = intent.job.as_ref();
    let billing = intent.billing.as_ref();
    let lease = intent.lease.as_ref();
    connection.execute(
        "INSERT INTO entries (entry, state, model, spec, request, endpoint, submitted_at, \
         updated_at, download_dir, reason, idempotency_key, body, run, job, billing_key, \
         billing_multiplier, owner, lease_until) \
         VALUES (?1, 'unknown', ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, \
         ?15, ?16) \
         ON CONFLICT (entry) DO NOTHING",
        params![
            entry,
            intent.model,
            intent.spec,
            intent.request,
            intent.endpoint,
            at,
            intent.download_dir,
            NO_ANSWER_RECORDED,
            intent.idempotency_key,
            body,
            job.map(|job| &job.run),
            job.map(|job| &job.job),
            billing.map(|billing| &billing.key),
            billing.map(|billing| i64::try_from(billing.multiplier).unwrap_or(i64::MAX)),
            lease.map(|lease| &lease.owner),
            lease.map(|lease| lease_end(at, lease.seconds)),
        ],
    )
}

/// When a lease of `seconds` taken at `at` ends.
pub(crate) fn lease_end(at: i64, seconds: u32) -> i64 {
    at.saturating_add(i64::from(seconds))
}

/// Applies a step to an entry row; the number of rows changed (0: no such entry).
pub(crate) fn apply_step(
    connection: &Connection,
    entry: &str,
    step: &Step,
    at: i64,
) -> rusqlite::Result<usize> {
    match step {
        Step::Submitted { task_id } => connection.execute(
            "UPDATE entries SET state = 'running', task_id = ?2, reason = NULL, updated_at = ?3 \
             WHERE entry = ?1",
            params![entry, task_id, at],
        ),
        Step::NotSent { reason } => connection.execute(
            "UPDATE entries SET state = 'not_sent', reason = ?2, updated_at = ?3 WHERE entry = ?1",
            params![entry, reason, at],
        ),
        Step::Unknown { reason } => connection.execute(
            "UPDATE entries SET state = 'unknown', reason = ?2, updated_at = ?3 WHERE entry = ?1",
            params![entry, reason, at],
        ),
        Step::Outcome {
            status,
            videos,
            error,
            cost,
        } => {
            let state = if status == "succeeded" {
                State::Succeeded
            } else {
                State::Failed
            };
            connection.execute(
                "UPDATE entries SET state = ?2, videos = ?3, reason = ?4, updated_at = ?5, \
                 cost = ?6 WHERE entry = ?1",
                params![
                    entry,
                    state.name(),
                    Value::Array(videos.clone()).to_string(),
                    error,
                    at,
                    cost,
                ],
            )
        }
        Step::Downloaded { paths } => connection.execute(
            "UPDATE entries SET state = 'downloaded', paths = ?2, updated_at = ?3 WHERE entry = ?1",
            params![
                entry,
                Value::from(paths.iter().map(String::as_str).collect::<Vec<_>>()).to_string(),
                at
            ],
        ),
    }
}

/// The step's name, for messages.
pub(crate) fn step_name(step: &Step) -> &'static str {
    match step {
        Step::Submitted { .. } => "submitted",
        Step::NotSent { .. } => "not_sent",
        Step::Unknown { .. } => "unknown",
        Step::Outcome { .. } => "outcome",
        Step::Downloaded { .. } => "downloaded",
    }
}

/// Collects a listing into a vector (for callers that need every entry).
pub fn collect(
    listing: impl FnOnce(Visit<'_>) -> Result<(), LedgerError>,
) -> Result<Vec<Entry>, LedgerError> {
    let mut entries = Vec::new();
    listing(&mut |entry| {
        entries.push(entry);
        ControlFlow::Continue(())
    })?;
    Ok(entries)
}
