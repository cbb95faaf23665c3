//! The SQLite ledger's operations for batch runs: the newest entry of a
//! request key, workers' leases (renew, take over, release) and the prices
//! learned from reported costs.
//!
//! Owns these queries, each one statement or one `BEGIN IMMEDIATE`
//! transaction, with leases computed by this machine's clock (the store's
//! clock: every process sharing an SQLite file runs on one machine). The
//! schema is `ledger_schema`'s; this module must not decide what a batch worker
//! does with what it returns.

use rusqlite::params;

use crate::entry::{Entry, LearnedPrice};
use crate::error::LedgerError;
use crate::ledger::{
    COLUMNS, Ledger, UNFINISHED, entry_at, latest_with_request_sql, lease_end, now,
};

impl Ledger {
    /// The blocking form of [`TaskStore::latest_with_request`](crate::TaskStore::latest_with_request).
    pub fn latest_with_request(&self, request: &str) -> Result<Option<Entry>, LedgerError> {
        self.query_one(&latest_with_request_sql(), request)
    }

    /// The blocking form of [`TaskStore::renew_leases`](crate::TaskStore::renew_leases).
    pub fn renew_leases(&self, owner: &str, seconds: u32) -> Result<u64, LedgerError> {
        let renewed = self
            .connection()
            .execute(
                &format!(
                    "UPDATE entries SET lease_until = ?2 \
                     WHERE owner = ?1 AND state IN {UNFINISHED}"
                ),
                params![owner, lease_end(now(), seconds)],
            )
            .map_err(|error| self.error(error))?;
        Ok(count(renewed))
    }

    /// The blocking form of [`TaskStore::take_over`](crate::TaskStore::take_over):
    /// one `BEGIN IMMEDIATE` transaction, so two take-overs (from any
    /// process) never return the same entry.
    pub fn take_over(
        &self,
        run: &str,
        owner: &str,
        seconds: u32,
        limit: usize,
    ) -> Result<Vec<Entry>, LedgerError> {
        let connection = self.connection();
        let transaction = self.immediate(&connection)?;
        let at = now();
        let mut taken = Vec::new();
        {
            let mut statement = transaction
                .prepare(&format!(
                    "UPDATE entries SET owner = ?2, lease_until = ?3 WHERE seq IN \
                     (SELECT seq FROM entries WHERE run = ?1 AND state IN {UNFINISHED} \
                     AND (owner IS NULL OR lease_until IS NULL OR lease_until < ?4) \
                     ORDER BY seq LIMIT ?5) \
                     RETURNING seq, {COLUMNS}"
                ))
                .map_err(|error| self.error(error))?;
            let mut rows = statement
                .query(params![
                    run,
                    owner,
                    lease_end(at, seconds),
                    at,
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ])
                .map_err(|error| self.error(error))?;
            while let Some(row) = rows.next().map_err(|error| self.error(error))? {
                let seq: i64 = row.get(0).map_err(|error| self.error(error))?;
                taken.push((seq, entry_at(row, 1).map_err(|error| self.error(error))?));
            }
        }
        transaction.commit().map_err(|error| self.error(error))?;
        // RETURNING gives no order: oldest first, as every listing.
        taken.sort_by_key(|(seq, _)| *seq);
        Ok(taken.into_iter().map(|(_, entry)| entry).collect())
    }

    /// The blocking form of [`TaskStore::release_leases`](crate::TaskStore::release_leases).
    pub fn release_leases(&self, owner: &str) -> Result<u64, LedgerError> {
        let released = self
            .connection()
            .execute(
                &format!(
                    "UPDATE entries SET owner = NULL, lease_until = NULL \
                     WHERE owner = ?1 AND state IN {UNFINISHED}"
                ),
                [owner],
            )
            .map_err(|error| self.error(error))?;
        Ok(count(released))
    }

    /// The blocking form of [`TaskStore::learned_prices`](crate::TaskStore::learned_prices).
    pub fn learned_prices(&self) -> Result<Vec<LearnedPrice>, LedgerError> {
        let connection = self.connection();
        let mut statement = connection
            .prepare(
                "SELECT billing_key, total / tasks, tasks FROM billing_totals \
                 WHERE tasks > 0 ORDER BY billing_key",
            )
            .map_err(|error| self.error(error))?;
        let prices = statement
            .query_map([], |row| {
                Ok(LearnedPrice {
                    key: row.get(0)?,
                    price: row.get(1)?,
                    tasks: u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
                })
            })
            .and_then(Iterator::collect)
            .map_err(|error| self.error(error))?;
        Ok(prices)
    }
}

fn count(rows: usize) -> u64 {
    u64::try_from(rows).unwrap_or(u64::MAX)
}
