//! The SQLite ledger's schema: the tables, indexes and triggers a new
//! ledger gets, and the steps that migrate an older one in place.
//!
//! Owns `PRAGMA user_version` and `application_id` and what each schema
//! version adds. It must not query or change entries (`ledger` and
//! `ledger_batch` do); a migration step only adds.

use rusqlite::Connection;

use crate::error::LedgerError;
use crate::ledger::Ledger;

/// The schema version this build writes (`PRAGMA user_version`). Version 2
/// added each entry's idempotency key and, for entries with a key, the exact
/// body bytes sent (so a lost answer can be resent identically); version 3
/// each entry's batch job, billing, reported cost and lease. An older ledger
/// is migrated in place when opened.
pub const SCHEMA_VERSION: i64 = 3;
/// `PRAGMA application_id` of a vidspec ledger ("vids").
const APPLICATION_ID: i64 = 0x7669_6473;

const SCHEMA: &str = "
CREATE TABLE entries (
    seq          INTEGER PRIMARY KEY,
    entry        TEXT NOT NULL UNIQUE,
    state        TEXT NOT NULL,
    model        TEXT NOT NULL,
    spec         TEXT NOT NULL,
    request      TEXT NOT NULL,
    endpoint     TEXT NOT NULL,
    task_id      TEXT,
    submitted_at INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    download_dir TEXT,
    videos       TEXT NOT NULL DEFAULT '[]',
    paths        TEXT NOT NULL DEFAULT '[]',
    reason       TEXT
);
CREATE INDEX entries_by_request ON entries (request);
CREATE INDEX entries_by_task_id ON entries (task_id);
CREATE INDEX entries_by_state ON entries (state, seq);
-- How many entries are in each state, kept by triggers: `tasks` counts the
-- finished entries it does not show without reading a million rows.
CREATE TABLE state_counts (
    state   TEXT PRIMARY KEY,
    entries INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO state_counts (state, entries) VALUES
    ('unknown', 0), ('running', 0), ('succeeded', 0),
    ('downloaded', 0), ('failed', 0), ('not_sent', 0);
CREATE TRIGGER entries_counted_on_insert AFTER INSERT ON entries BEGIN
    UPDATE state_counts SET entries = entries + 1 WHERE state = NEW.state;
END;
CREATE TRIGGER entries_counted_on_update AFTER UPDATE OF state ON entries
WHEN OLD.state <> NEW.state BEGIN
    UPDATE state_counts SET entries = entries - 1 WHERE state = OLD.state;
    UPDATE state_counts SET entries = entries + 1 WHERE state = NEW.state;
END;
CREATE TRIGGER entries_counted_on_delete AFTER DELETE ON entries BEGIN
    UPDATE state_counts SET entries = entries - 1 WHERE state = OLD.state;
END;
CREATE TABLE imports (
    source      TEXT PRIMARY KEY,
    entries     INTEGER NOT NULL,
    imported_at INTEGER NOT NULL
);
";

/// From schema version 1 to 2: each entry's idempotency key, and the exact
/// body bytes sent for entries that have one (never for others).
const MIGRATION_TO_2: &str = "
ALTER TABLE entries ADD COLUMN idempotency_key TEXT;
ALTER TABLE entries ADD COLUMN body BLOB;
";

/// From schema version 2 to 3: the batch job an entry was sent for (`run`,
/// `job`), what it is billed as, the cost the gateway reported, and the lease
/// of the worker holding it; indexes for listing a run, for taking over its
/// unfinished entries and for a worker's leases; the sums prices are
/// learned from.
const MIGRATION_TO_3: &str = "
ALTER TABLE entries ADD COLUMN run TEXT;
ALTER TABLE entries ADD COLUMN job TEXT;
ALTER TABLE entries ADD COLUMN billing_key TEXT;
ALTER TABLE entries ADD COLUMN billing_multiplier INTEGER;
ALTER TABLE entries ADD COLUMN cost REAL;
ALTER TABLE entries ADD COLUMN owner TEXT;
ALTER TABLE entries ADD COLUMN lease_until INTEGER;
CREATE INDEX entries_by_run ON entries (run, seq) WHERE run IS NOT NULL;
CREATE INDEX entries_unfinished_by_run ON entries (run, seq)
    WHERE run IS NOT NULL AND state IN ('unknown', 'running', 'succeeded');
CREATE INDEX entries_by_owner ON entries (owner)
    WHERE owner IS NOT NULL AND state IN ('unknown', 'running', 'succeeded');
-- What each billing key cost per task (cost divided by multiplier), summed
-- over the entries that succeeded with a reported cost, kept by triggers:
-- learning prices reads one row per key, not a million entries. It exists
-- for speed: `ledger_scale` (1,000,000 entries) measured prices_ms=372 with
-- the scan over an index and 0.06 with this table (2026-12-05).
CREATE TABLE billing_totals (
    billing_key TEXT PRIMARY KEY,
    total       REAL NOT NULL,
    tasks       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER entries_priced_on_insert AFTER INSERT ON entries
WHEN NEW.cost IS NOT NULL AND NEW.billing_key IS NOT NULL AND NEW.billing_multiplier > 0
    AND NEW.state IN ('succeeded', 'downloaded') BEGIN
    INSERT INTO billing_totals (billing_key, total, tasks)
        VALUES (NEW.billing_key, NEW.cost / NEW.billing_multiplier, 1)
        ON CONFLICT (billing_key) DO UPDATE SET
            total = total + excluded.total, tasks = tasks + 1;
END;
CREATE TRIGGER entries_priced_on_update
AFTER UPDATE OF state, cost, billing_key, billing_multiplier ON entries BEGIN
    UPDATE billing_totals SET
        total = total - OLD.cost / OLD.billing_multiplier, tasks = tasks - 1
        WHERE billing_key = OLD.billing_key AND OLD.cost IS NOT NULL
            AND OLD.billing_multiplier > 0 AND OLD.state IN ('succeeded', 'downloaded');
    INSERT INTO billing_totals (billing_key, total, tasks)
        SELECT NEW.billing_key, NEW.cost / NEW.billing_multiplier, 1
        WHERE NEW.cost IS NOT NULL AND NEW.billing_key IS NOT NULL
            AND NEW.billing_multiplier > 0 AND NEW.state IN ('succeeded', 'downloaded')
        ON CONFLICT (billing_key) DO UPDATE SET
            total = total + excluded.total, tasks = tasks + 1;
END;
CREATE TRIGGER entries_priced_on_delete AFTER DELETE ON entries BEGIN
    UPDATE billing_totals SET
        total = total - OLD.cost / OLD.billing_multiplier, tasks = tasks - 1
        WHERE billing_key = OLD.billing_key AND OLD.cost IS NOT NULL
            AND OLD.billing_multiplier > 0 AND OLD.state IN ('succeeded', 'downloaded');
END;
";

impl Ledger {
    /// Creates the schema of a new ledger, or migrates an older one, in one
    /// write transaction; refuses a foreign or newer file.
    pub(crate) fn ensure_schema(&self, connection: &Connection) -> Result<(), LedgerError> {
        let state = schema_state(connection).map_err(|error| self.error(error))?;
        if state == SchemaState::Current {
            return Ok(());
        }
        let transaction = self.immediate(connection)?;
        match schema_state(connection).map_err(|error| self.error(error))? {
            SchemaState::Current => {}
            SchemaState::Empty => {
                transaction
                    .execute_batch(SCHEMA)
                    .and_then(|()| transaction.execute_batch(MIGRATION_TO_2))
                    .and_then(|()| transaction.execute_batch(MIGRATION_TO_3))
                    .and_then(|()| {
                        transaction.pragma_update(None, "application_id", APPLICATION_ID)
                    })
                    .and_then(|()| transaction.pragma_update(None, "user_version", SCHEMA_VERSION))
                    .map_err(|error| self.error(error))?;
            }
            SchemaState::Older(version) => {
                // Each version's step, from the ledger's own on.
                if version <= 1 {
                    transaction
                        .execute_batch(MIGRATION_TO_2)
                        .map_err(|error| self.error(error))?;
                }
                if version <= 2 {
                    transaction
                        .execute_batch(MIGRATION_TO_3)
                        .map_err(|error| self.error(error))?;
                }
                transaction
                    .pragma_update(None, "user_version", SCHEMA_VERSION)
                    .map_err(|error| self.error(error))?;
            }
            SchemaState::Foreign => {
                return Err(LedgerError::Foreign {
                    path: self.path().to_owned(),
                });
            }
            SchemaState::Newer(version) => {
                return Err(LedgerError::Newer {
                    path: self.path().to_owned(),
                    version,
                    known: SCHEMA_VERSION,
                });
            }
        }
        transaction.commit().map_err(|error| self.error(error))
    }
}

fn schema_state(connection: &Connection) -> rusqlite::Result<SchemaState> {
    let application: i64 =
        connection.pragma_query_value(None, "application_id", |row| row.get(0))?;
    let version: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let objects: i64 =
        connection.query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))?;
    Ok(if application == 0 && version == 0 && objects == 0 {
        SchemaState::Empty
    } else if application != APPLICATION_ID {
        SchemaState::Foreign
    } else if version > SCHEMA_VERSION {
        SchemaState::Newer(version)
    } else if version < SCHEMA_VERSION {
        SchemaState::Older(version)
    } else {
        SchemaState::Current
    })
}

#[derive(Debug, PartialEq, Eq)]
enum SchemaState {
    Empty,
    Current,
    Older(i64),
    Foreign,
    Newer(i64),
}
