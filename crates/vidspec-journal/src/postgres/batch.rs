//! The PostgreSQL store's operations for batch runs: workers' leases
//! (renew, take over, release) and the prices learned from reported costs.
//!
//! Owns these statements, each one `UPDATE` or `SELECT` with leases on the
//! database's clock; take-over is the queue pattern (`FOR UPDATE SKIP
//! LOCKED`). It must not change the schema (`postgres.rs` does) nor decide
//! what a batch worker does with what it returns.

use super::PgLedger;
use super::store::{COLUMNS, NOW_SECONDS, UNFINISHED, entry_at, lease_end, saturating_i64};
use crate::entry::{Entry, LearnedPrice};
use crate::error::LedgerError;

impl PgLedger {
    pub(super) async fn renew_leases_now(
        &self,
        owner: String,
        seconds: u32,
    ) -> Result<u64, LedgerError> {
        let sql = format!(
            "UPDATE entries SET lease_until = {} WHERE owner = $1 AND state IN {UNFINISHED} \
             RETURNING seq",
            lease_end(2)
        );
        let rows = self.query(&sql, &[&owner, &i64::from(seconds)]).await?;
        Ok(count(rows.len()))
    }

    pub(super) async fn take_over_now(
        &self,
        run: String,
        owner: String,
        seconds: u32,
        limit: usize,
    ) -> Result<Vec<Entry>, LedgerError> {
        // The queue pattern: rows another take-over (or a renewal) holds are
        // skipped, not waited for; a row whose lease was renewed meanwhile
        // fails the re-checked condition and is left alone.
        let sql = format!(
            "UPDATE entries SET owner = $2, lease_until = {} WHERE seq IN (\
             SELECT seq FROM entries WHERE job_run = $1 AND state IN {UNFINISHED} \
             AND (owner IS NULL OR lease_until IS NULL OR lease_until < {NOW_SECONDS}) \
             ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED) \
             RETURNING seq, {COLUMNS}",
            lease_end(3)
        );
        let rows = self
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
            .map_err(|error| self.error(error))?;
        // RETURNING gives no order: oldest first, as every listing.
        taken.sort_by_key(|(seq, _)| *seq);
        Ok(taken.into_iter().map(|(_, entry)| entry).collect())
    }

    pub(super) async fn release_leases_now(&self, owner: String) -> Result<u64, LedgerError> {
        let sql = format!(
            "UPDATE entries SET owner = NULL, lease_until = NULL WHERE owner = $1 \
             AND state IN {UNFINISHED} RETURNING seq"
        );
        let rows = self.query(&sql, &[&owner]).await?;
        Ok(count(rows.len()))
    }

    pub(super) async fn learned_prices_now(&self) -> Result<Vec<LearnedPrice>, LedgerError> {
        // A failed task's cost (often a refund) is not its price. Keys in
        // byte order (COLLATE "C"), as SQLite orders them.
        let sql = "SELECT billing_key, avg(cost / billing_multiplier), count(*) \
             FROM entries WHERE cost IS NOT NULL AND billing_key IS NOT NULL \
             AND billing_multiplier > 0 AND state IN ('succeeded', 'downloaded') \
             GROUP BY billing_key ORDER BY billing_key COLLATE \"C\"";
        let rows = self.query(sql, &[]).await?;
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
            .map_err(|error| self.error(error))
    }
}

fn count(rows: usize) -> u64 {
    u64::try_from(rows).unwrap_or(u64::MAX)
}
