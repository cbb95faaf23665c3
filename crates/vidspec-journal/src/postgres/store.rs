//! The queries behind [`TaskStore`] for [`PgLedger`]: the claim's
//! transaction, steps, listings as pages, leases and take-overs.
//!
//! Owns the SQL and the reading of rows into [`Entry`]s. Each operation runs
//! as its own tokio task, so a dropped future never cuts a step in half (a
//! transaction cut short is rolled back by the server anyway). It must not
//! change the schema (`postgres.rs` does) nor hold a transaction after an
//! operation returns.

use serde_json::Value;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{LOCK_NAMESPACE, PgLedger};
use crate::entry::{
    Billing, Claim, Entry, Guard, Intent, JobRef, LearnedPrice, NO_ANSWER_RECORDED, State,
    StateFilter, Step,
};
use crate::error::LedgerError;
use crate::store::{Cursor, Page, PageRequest, StoreFuture, TaskStore};

/// Columns read into an [`Entry`], in [`entry_at`]'s order.
const COLUMNS: &str = "entry, state, model, spec, request, endpoint, task_id, submitted_at, \
     updated_at, download_dir, videos, paths, reason, idempotency_key, body, job_run, job_id, \
     billing_key, billing_multiplier, cost, owner, lease_until";

/// The states that may still cost money, as SQL.
const UNFINISHED: &str = "('unknown', 'running', 'succeeded')";

/// Unix seconds of the database's clock (the transaction's start).
const NOW_SECONDS: &str = "floor(extract(epoch FROM now()))::bigint";

/// The end of a lease of `$n` seconds taken now: the second of the
/// database's clock it was taken in, plus `n`. It has ended once the clock,
/// in whole seconds, is past it (so it lasts at least `n` seconds).
fn lease_end(parameter: usize) -> String {
    format!("{NOW_SECONDS} + ${parameter}::bigint")
}

/// The SQL condition for `filter` (no user text in it).
fn condition(filter: StateFilter) -> String {
    match filter {
        StateFilter::Any => "true".to_owned(),
        StateFilter::Unfinished => format!("state IN {UNFINISHED}"),
        StateFilter::Only(state) => format!("state = '{}'", state.name()),
    }
}

fn saturating_i64(value: impl TryInto<i64>) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

fn after(page: PageRequest) -> i64 {
    page.after.map_or(i64::MIN, |Cursor(seq)| seq)
}

/// The entry in [`COLUMNS`]' order, starting at column `at`.
fn entry_at(row: &Row, at: usize) -> Result<Entry, tokio_postgres::Error> {
    let state: String = row.try_get(at + 1)?;
    let videos: Value = row.try_get(at + 10)?;
    let paths: Value = row.try_get(at + 11)?;
    let job_run: Option<String> = row.try_get(at + 15)?;
    let job_id: Option<String> = row.try_get(at + 16)?;
    let billing_key: Option<String> = row.try_get(at + 17)?;
    let multiplier: Option<i64> = row.try_get(at + 18)?;
    Ok(Entry {
        entry: row.try_get(at)?,
        // A state this build does not know reads as unknown: it may cost money.
        state: State::from_name(&state).unwrap_or(State::Unknown),
        model: row.try_get(at + 2)?,
        spec: row.try_get(at + 3)?,
        request: row.try_get(at + 4)?,
        endpoint: row.try_get(at + 5)?,
        task_id: row.try_get(at + 6)?,
        submitted_at: row.try_get(at + 7)?,
        updated_at: row.try_get(at + 8)?,
        download_dir: row.try_get(at + 9)?,
        videos: serde_json::from_value(videos).unwrap_or_default(),
        paths: serde_json::from_value(paths).unwrap_or_default(),
        reason: row.try_get(at + 12)?,
        idempotency_key: row.try_get(at + 13)?,
        body: row.try_get(at + 14)?,
        job: job_run.zip(job_id).map(|(run, job)| JobRef { run, job }),
        billing: billing_key.map(|key| Billing {
            key,
            multiplier: multiplier
                .and_then(|value| u64::try_from(value).ok())
                .unwrap_or(1),
        }),
        cost: row.try_get(at + 19)?,
        owner: row.try_get(at + 20)?,
        lease_until: row.try_get(at + 21)?,
    })
}

impl PgLedger {
    /// Runs `work` with a clone of this store as its own tokio task: it
    /// runs to its end even when the returned future is dropped.
    fn spawned<T, F>(&self, work: impl FnOnce(PgLedger) -> F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, LedgerError>> + Send + 'static,
    {
        let location = self.location();
        let work = work(self.clone());
        Box::pin(async move {
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return Err(LedgerError::Postgres {
                    location,
                    problem: "the PostgreSQL ledger runs on a tokio runtime: call it from one"
                        .to_owned(),
                    source: None,
                });
            };
            runtime.spawn(work).await.unwrap_or_else(|error| {
                Err(LedgerError::Postgres {
                    location,
                    problem: "the ledger's task stopped; the step may not be recorded: list the \
                              ledger to see what it holds"
                        .to_owned(),
                    source: Some(Box::new(error)),
                })
            })
        })
    }

    async fn query(
        &self,
        sql: &str,
        parameters: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, LedgerError> {
        let connection = self.connection().await?;
        let statement = connection
            .prepare_cached(sql)
            .await
            .map_err(|error| self.error(error))?;
        connection
            .query(&statement, parameters)
            .await
            .map_err(|error| self.error(error))
    }

    async fn entries(
        &self,
        sql: &str,
        parameters: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Entry>, LedgerError> {
        self.query(sql, parameters)
            .await?
            .iter()
            .map(|row| entry_at(row, 0).map_err(|error| self.error(error)))
            .collect()
    }

    async fn first_entry(
        &self,
        sql: &str,
        parameters: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Entry>, LedgerError> {
        Ok(self.entries(sql, parameters).await?.into_iter().next())
    }

    /// One page of a query whose first column is `seq`, then [`COLUMNS`].
    async fn page(
        &self,
        sql: &str,
        parameters: &[&(dyn ToSql + Sync)],
        limit: usize,
    ) -> Result<Page, LedgerError> {
        let rows = self.query(sql, parameters).await?;
        let mut entries = Vec::with_capacity(rows.len());
        let mut last = None;
        for row in &rows {
            last = Some(
                row.try_get::<_, i64>(0)
                    .map_err(|error| self.error(error))?,
            );
            entries.push(entry_at(row, 1).map_err(|error| self.error(error))?);
        }
        let next = last.filter(|_| entries.len() >= limit).map(Cursor);
        Ok(Page { entries, next })
    }

    async fn claim_now(&self, intent: Intent, guard: Guard) -> Result<Claim, LedgerError> {
        let mut connection = self.connection().await?;
        let transaction = connection
            .transaction()
            .await
            .map_err(|error| self.error(error))?;
        let newest_sql = match guard {
            Guard::Again => None,
            Guard::Unfinished => Some(format!(
                "SELECT {COLUMNS} FROM entries WHERE request = $1 AND state IN {UNFINISHED} \
                 ORDER BY seq DESC LIMIT 1"
            )),
            Guard::Once { .. } => Some(format!(
                "SELECT {COLUMNS} FROM entries WHERE request = $1 ORDER BY seq DESC LIMIT 1"
            )),
        };
        if let Some(newest_sql) = newest_sql {
            // Claims of one request key queue at the lock until its holder
            // commits; the select, a statement of its own, then sees what
            // the holder wrote. The two are pipelined (sent together, run
            // in order by the server): one round trip.
            let lock = transaction
                .prepare_cached("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                .await
                .map_err(|error| self.error(error))?;
            let newest_statement = transaction
                .prepare_cached(&newest_sql)
                .await
                .map_err(|error| self.error(error))?;
            let (_, newest) = futures_util::future::try_join(
                transaction.execute(&lock, &[&LOCK_NAMESPACE, &intent.request]),
                transaction.query_opt(&newest_statement, &[&intent.request]),
            )
            .await
            .map_err(|error| self.error(error))?;
            let newest = newest
                .map(|row| entry_at(&row, 0))
                .transpose()
                .map_err(|error| self.error(error))?;
            if let Some(newest) = newest
                && guard.is_stopped_by(newest.state)
            {
                // Dropping the transaction rolls it back: nothing was written.
                return Ok(Claim::Duplicate(Box::new(newest)));
            }
        }
        // The body is kept only with an idempotency key: it is what a resend
        // must repeat.
        let body = intent.idempotency_key.as_ref().and(intent.body.as_deref());
        let (job_run, job_id) = intent
            .job
            .as_ref()
            .map(|job| (job.run.as_str(), job.job.as_str()))
            .unzip();
        let (billing_key, multiplier) = intent
            .billing
            .as_ref()
            .map(|billing| (billing.key.as_str(), saturating_i64(billing.multiplier)))
            .unzip();
        let (owner, seconds) = intent
            .lease
            .as_ref()
            .map(|lease| (lease.owner.as_str(), i64::from(lease.seconds)))
            .unzip();
        let insert = format!(
            "INSERT INTO entries (state, model, spec, request, endpoint, submitted_at, \
             updated_at, download_dir, reason, idempotency_key, body, job_run, job_id, \
             billing_key, billing_multiplier, owner, lease_until) \
             VALUES ('unknown', $1, $2, $3, $4, {NOW_SECONDS}, {NOW_SECONDS}, $5, $6, $7, $8, \
             $9, $10, $11, $12, $13, {}) RETURNING entry",
            lease_end(14)
        );
        let statement = transaction
            .prepare_cached(&insert)
            .await
            .map_err(|error| self.error(error))?;
        let row = transaction
            .query_one(
                &statement,
                &[
                    &intent.model,
                    &intent.spec,
                    &intent.request,
                    &intent.endpoint,
                    &intent.download_dir,
                    &NO_ANSWER_RECORDED,
                    &intent.idempotency_key,
                    &body,
                    &job_run,
                    &job_id,
                    &billing_key,
                    &multiplier,
                    &owner,
                    &seconds,
                ],
            )
            .await
            .map_err(|error| self.error(error))?;
        let entry: String = row.try_get(0).map_err(|error| self.error(error))?;
        transaction
            .commit()
            .await
            .map_err(|error| self.error(error))?;
        Ok(Claim::Claimed(entry))
    }

    async fn record_now(&self, entry: String, step: Step) -> Result<(), LedgerError> {
        let set = |assignments: &str| {
            format!(
                "UPDATE entries SET {assignments}, updated_at = {NOW_SECONDS} WHERE entry = $1 \
                 RETURNING seq"
            )
        };
        let rows = match &step {
            Step::Submitted { task_id } => {
                self.query(
                    &set("state = 'running', task_id = $2, reason = NULL"),
                    &[&entry, task_id],
                )
                .await?
            }
            Step::NotSent { reason } => {
                self.query(&set("state = 'not_sent', reason = $2"), &[&entry, reason])
                    .await?
            }
            Step::Unknown { reason } => {
                self.query(&set("state = 'unknown', reason = $2"), &[&entry, reason])
                    .await?
            }
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
                let videos = Value::Array(videos.clone());
                self.query(
                    &set("state = $2, videos = $3, reason = $4, cost = $5"),
                    &[&entry, &state.name(), &videos, error, cost],
                )
                .await?
            }
            Step::Downloaded { paths } => {
                let paths = Value::from(paths.clone());
                self.query(&set("state = 'downloaded', paths = $2"), &[&entry, &paths])
                    .await?
            }
        };
        if rows.is_empty() {
            return Err(LedgerError::NoSuchEntry {
                path: self.location().into(),
                entry,
                step: step_name(&step),
            });
        }
        Ok(())
    }
}

/// The step's name, for messages.
fn step_name(step: &Step) -> &'static str {
    match step {
        Step::Submitted { .. } => "submitted",
        Step::NotSent { .. } => "not_sent",
        Step::Unknown { .. } => "unknown",
        Step::Outcome { .. } => "outcome",
        Step::Downloaded { .. } => "downloaded",
    }
}

/// The PostgreSQL ledger as a task store. Claims of one request key are
/// serialised by an advisory lock inside the claim's transaction; leases
/// are computed with the database's clock; take-overs lock their rows with
/// `FOR UPDATE SKIP LOCKED`.
impl TaskStore for PgLedger {
    fn location(&self) -> String {
        PgLedger::location(self)
    }

    fn claim(&self, intent: Intent, guard: Guard) -> StoreFuture<'_, Claim> {
        self.spawned(move |ledger| async move { ledger.claim_now(intent, guard).await })
    }

    fn record(&self, entry: String, step: Step) -> StoreFuture<'_, ()> {
        self.spawned(move |ledger| async move { ledger.record_now(entry, step).await })
    }

    fn unfinished_with_request(&self, request: String) -> StoreFuture<'_, Option<Entry>> {
        self.spawned(move |ledger| async move {
            let sql = format!(
                "SELECT {COLUMNS} FROM entries WHERE request = $1 AND state IN {UNFINISHED} \
                 ORDER BY seq DESC LIMIT 1"
            );
            ledger.first_entry(&sql, &[&request]).await
        })
    }

    fn find_by_task_id(&self, task_id: String) -> StoreFuture<'_, Option<Entry>> {
        self.spawned(move |ledger| async move {
            let sql = format!(
                "SELECT {COLUMNS} FROM entries WHERE task_id = $1 ORDER BY seq DESC LIMIT 1"
            );
            ledger.first_entry(&sql, &[&task_id]).await
        })
    }

    fn unfinished(&self, filter: StateFilter, page: PageRequest) -> StoreFuture<'_, Page> {
        self.spawned(move |ledger| async move {
            let sql = format!(
                "SELECT seq, {COLUMNS} FROM entries WHERE state IN {UNFINISHED} AND {} \
                 AND seq > $1 ORDER BY seq LIMIT $2",
                condition(filter)
            );
            ledger
                .page(
                    &sql,
                    &[&after(page), &saturating_i64(page.limit)],
                    page.limit,
                )
                .await
        })
    }

    fn finished(
        &self,
        filter: StateFilter,
        newest: Option<u64>,
        page: PageRequest,
    ) -> StoreFuture<'_, Page> {
        self.spawned(move |ledger| async move {
            let newest = newest.map_or(i64::MAX, saturating_i64);
            let sql = format!(
                "SELECT * FROM (SELECT seq, {COLUMNS} FROM entries \
                 WHERE state NOT IN {UNFINISHED} AND {} ORDER BY seq DESC LIMIT $3) AS newest \
                 WHERE seq > $1 ORDER BY seq LIMIT $2",
                condition(filter)
            );
            ledger
                .page(
                    &sql,
                    &[&after(page), &saturating_i64(page.limit), &newest],
                    page.limit,
                )
                .await
        })
    }

    fn count_finished(&self, filter: StateFilter) -> StoreFuture<'_, u64> {
        self.spawned(move |ledger| async move {
            let sql = format!(
                "SELECT count(*) FROM entries WHERE state NOT IN {UNFINISHED} AND {}",
                condition(filter)
            );
            let rows = ledger.query(&sql, &[]).await?;
            let count: i64 = match rows.first() {
                Some(row) => row.try_get(0).map_err(|error| ledger.error(error))?,
                None => 0,
            };
            Ok(u64::try_from(count).unwrap_or(0))
        })
    }

    fn latest_with_request(&self, request: String) -> StoreFuture<'_, Option<Entry>> {
        self.spawned(move |ledger| async move {
            let sql = format!(
                "SELECT {COLUMNS} FROM entries WHERE request = $1 ORDER BY seq DESC LIMIT 1"
            );
            ledger.first_entry(&sql, &[&request]).await
        })
    }

    fn renew_leases(&self, owner: String, seconds: u32) -> StoreFuture<'_, u64> {
        self.spawned(move |ledger| async move {
            let sql = format!(
                "UPDATE entries SET lease_until = {} WHERE owner = $1 AND state IN {UNFINISHED} \
                 RETURNING seq",
                lease_end(2)
            );
            let rows = ledger.query(&sql, &[&owner, &i64::from(seconds)]).await?;
            Ok(rows.len() as u64)
        })
    }

    fn take_over(
        &self,
        run: String,
        owner: String,
        seconds: u32,
        limit: usize,
    ) -> StoreFuture<'_, Vec<Entry>> {
        self.spawned(move |ledger| async move {
            // The queue pattern: rows another take-over (or a renewal) holds
            // are skipped, not waited for; a row whose lease was renewed
            // meanwhile fails the re-checked condition and is left alone.
            let sql = format!(
                "UPDATE entries SET owner = $2, lease_until = {} WHERE seq IN (\
                 SELECT seq FROM entries WHERE job_run = $1 AND state IN {UNFINISHED} \
                 AND (owner IS NULL OR lease_until IS NULL OR lease_until < {NOW_SECONDS}) \
                 ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED) \
                 RETURNING seq, {COLUMNS}",
                lease_end(3)
            );
            let rows = ledger
                .query(
                    &sql,
                    &[&run, &owner, &i64::from(seconds), &saturating_i64(limit)],
                )
                .await?;
            let mut taken = rows
                .iter()
                .map(|row| {
                    let seq: i64 = row.try_get(0)?;
                    Ok((seq, entry_at(row, 1)?))
                })
                .collect::<Result<Vec<(i64, Entry)>, tokio_postgres::Error>>()
                .map_err(|error| ledger.error(error))?;
            taken.sort_by_key(|(seq, _)| *seq);
            Ok(taken.into_iter().map(|(_, entry)| entry).collect())
        })
    }

    fn release_leases(&self, owner: String) -> StoreFuture<'_, u64> {
        self.spawned(move |ledger| async move {
            let sql = format!(
                "UPDATE entries SET owner = NULL, lease_until = NULL WHERE owner = $1 \
                 AND state IN {UNFINISHED} RETURNING seq"
            );
            let rows = ledger.query(&sql, &[&owner]).await?;
            Ok(rows.len() as u64)
        })
    }

    fn run_entries(&self, run: String, page: PageRequest) -> StoreFuture<'_, Page> {
        self.spawned(move |ledger| async move {
            let sql = format!(
                "SELECT seq, {COLUMNS} FROM entries WHERE job_run = $1 AND seq > $2 \
                 ORDER BY seq LIMIT $3"
            );
            ledger
                .page(
                    &sql,
                    &[&run, &after(page), &saturating_i64(page.limit)],
                    page.limit,
                )
                .await
        })
    }

    fn learned_prices(&self) -> StoreFuture<'_, Vec<LearnedPrice>> {
        self.spawned(move |ledger| async move {
            // A failed task's cost (often a refund) is not its price. Keys
            // in byte order (COLLATE "C"), as SQLite orders them.
            let sql = "SELECT billing_key, avg(cost / billing_multiplier), count(*) \
                 FROM entries WHERE cost IS NOT NULL AND billing_key IS NOT NULL \
                 AND billing_multiplier > 0 AND state IN ('succeeded', 'downloaded') \
                 GROUP BY billing_key ORDER BY billing_key COLLATE \"C\"";
            let rows = ledger.query(sql, &[]).await?;
            rows.iter()
                .map(|row| {
                    let tasks: i64 = row.try_get(2)?;
                    Ok(LearnedPrice {
                        key: row.try_get(0)?,
                        price: row.try_get(1)?,
                        tasks: u64::try_from(tasks).unwrap_or(0),
                    })
                })
                .collect::<Result<Vec<LearnedPrice>, tokio_postgres::Error>>()
                .map_err(|error| ledger.error(error))
        })
    }
}
