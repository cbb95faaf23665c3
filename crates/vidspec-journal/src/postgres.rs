//! The PostgreSQL task store ([`PgLedger`]): one ledger shared by several
//! processes on several machines (`postgres://…`), with the same semantics
//! as the SQLite ledger.
//!
//! Owns the connection (a small `deadpool-postgres` pool of `tokio-postgres`
//! connections, no TLS), the schema (created on first open, with a version
//! row), the mapping of PostgreSQL's failures to messages a user can act on,
//! and the URL shown in messages (never its user name or password). The
//! queries behind [`TaskStore`] are in `postgres/store.rs`.
//!
//! How concurrency is decided, all by the database:
//! - a claim is one transaction that first takes a transaction-scoped
//!   advisory lock on its request key (`pg_advisory_xact_lock`), then reads
//!   the newest entry with that key and inserts the intent. The advisory
//!   lock, not `SELECT … FOR UPDATE`, because the first claim of a key has
//!   no row to lock: two first claims would both pass. Unrelated keys never
//!   wait for each other (except on a 32-bit hash collision, which only
//!   serialises them);
//! - leases are whole seconds of the database's clock (`now()`), so
//!   workers on machines whose clocks disagree agree on when a lease ends;
//! - a take-over is `UPDATE … WHERE seq IN (SELECT … FOR UPDATE SKIP LOCKED
//!   LIMIT n) RETURNING …`: workers taking over at once skip each other's
//!   rows instead of waiting, and never get the same entry;
//! - entry ids come from the table's identity column (`pg<seq>`), unique
//!   across every machine sharing the database.
//!
//! It must not hold a transaction across anything but its own statements
//! (never across network I/O to the gateway), and it does no I/O but
//! talking to the database.

mod store;

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Config, NoTls};

use crate::error::LedgerError;

/// The schema version this build writes (the row of `vidspec_schema`).
pub const PG_SCHEMA_VERSION: i32 = 1;

/// The first key of every advisory lock vidspec takes ("vids"), so that
/// its locks do not meet another program's in the same database.
const LOCK_NAMESPACE: i32 = 0x7669_6473;

/// How many connections one [`PgLedger`] opens at most.
const POOL_SIZE: usize = 8;

/// How long a statement waits for a lock another session holds.
const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the server lets a session sit idle inside a transaction.
const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

/// How long connecting (or waiting for a free connection) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The schema, created in the first schema of the connection's
/// `search_path` (by default `public`; a URL may name another with
/// `options=-csearch_path%3DNAME`).
const SCHEMA: &str = "
CREATE TABLE vidspec_schema (version integer NOT NULL);
CREATE TABLE entries (
    seq                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry              text GENERATED ALWAYS AS ('pg' || seq::text) STORED UNIQUE,
    state              text NOT NULL,
    model              text NOT NULL,
    spec               text NOT NULL,
    request            text NOT NULL,
    endpoint           text NOT NULL,
    task_id            text,
    submitted_at       bigint NOT NULL,
    updated_at         bigint NOT NULL,
    download_dir       text,
    videos             jsonb NOT NULL DEFAULT '[]',
    paths              jsonb NOT NULL DEFAULT '[]',
    reason             text,
    idempotency_key    text,
    body               bytea,
    job_run            text,
    job_id             text,
    billing_key        text,
    billing_multiplier bigint,
    cost               double precision,
    owner              text,
    lease_until        bigint
);
CREATE INDEX entries_by_request ON entries (request, seq);
CREATE INDEX entries_by_task_id ON entries (task_id, seq);
CREATE INDEX entries_by_state ON entries (state, seq);
CREATE INDEX entries_by_run ON entries (job_run, seq) WHERE job_run IS NOT NULL;
-- What take-overs, heartbeats and releases look for: unfinished entries only,
-- so they do not read a long run's finished ones.
CREATE INDEX entries_unfinished_by_run ON entries (job_run, seq)
    WHERE job_run IS NOT NULL AND state IN ('unknown', 'running', 'succeeded');
CREATE INDEX entries_by_owner ON entries (owner)
    WHERE owner IS NOT NULL AND state IN ('unknown', 'running', 'succeeded');
-- Exactly the entries prices are learned from, with what they need.
CREATE INDEX entries_priced ON entries (billing_key) INCLUDE (cost, billing_multiplier)
    WHERE cost IS NOT NULL AND billing_key IS NOT NULL AND billing_multiplier > 0
    AND state IN ('succeeded', 'downloaded');
";

/// A task store in a PostgreSQL database, shared by every process that
/// opens the same database (and schema). Cheap to clone: clones share one
/// pool of connections.
#[derive(Clone)]
pub struct PgLedger {
    pool: Pool,
    location: Arc<str>,
}

impl std::fmt::Debug for PgLedger {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PgLedger")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl PgLedger {
    /// Connects to the database at `url` (`postgres://` or `postgresql://`,
    /// as libpq reads it), creating the schema if it is missing. TLS is not
    /// supported: a URL that requires it (`sslmode=require`) is refused.
    pub async fn open(url: &str) -> Result<PgLedger, LedgerError> {
        let location: Arc<str> = redacted_location(url).into();
        let mut config: Config = url.parse().map_err(|error| LedgerError::Postgres {
            location: location.to_string(),
            problem: "the URL is not a PostgreSQL connection URL: write it as \
                      postgres://USER:PASSWORD@HOST:PORT/DATABASE"
                .to_owned(),
            source: Some(Box::new(error)),
        })?;
        if config.get_ssl_mode() == SslMode::Require {
            return Err(LedgerError::Postgres {
                location: location.to_string(),
                problem: "the URL requires TLS (sslmode=require), which this build does not \
                          support: reach the server over a trusted network or a unix socket \
                          and drop sslmode=require"
                    .to_owned(),
                source: None,
            });
        }
        // A claim waits for another's lock at most LOCK_TIMEOUT (as the
        // SQLite ledger's busy timeout), and the server ends a session left
        // idle inside a transaction (a stopped process) so that its locks
        // are freed; the URL's own options may change both. Every commit
        // waits for the server's disk (a claimed intent is durable before
        // the claim resolves), whatever the server's or URL's setting.
        config.options(format!(
            "-c lock_timeout={}s -c idle_in_transaction_session_timeout={}s {} \
             -c synchronous_commit=on",
            LOCK_TIMEOUT.as_secs(),
            IDLE_IN_TRANSACTION_TIMEOUT.as_secs(),
            config.get_options().unwrap_or_default(),
        ));
        config.connect_timeout(CONNECT_TIMEOUT);
        if config.get_application_name().is_none() {
            config.application_name("vidspec");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(CONNECT_TIMEOUT))
            .wait_timeout(Some(CONNECT_TIMEOUT * 3))
            .build()
            .map_err(|error| LedgerError::Postgres {
                location: location.to_string(),
                problem: "cannot set up the connection pool: report this as a bug".to_owned(),
                source: Some(Box::new(error)),
            })?;
        let ledger = PgLedger { pool, location };
        ledger.ensure_schema().await?;
        Ok(ledger)
    }

    /// Where the store is: its URL without user name or password.
    pub fn location(&self) -> String {
        self.location.to_string()
    }

    /// A connection from the pool.
    pub(crate) async fn connection(&self) -> Result<deadpool_postgres::Object, LedgerError> {
        self.pool
            .get()
            .await
            .map_err(|error| self.pool_error(error))
    }

    fn pool_error(&self, error: PoolError) -> LedgerError {
        match error {
            PoolError::Backend(error) => self.error(error),
            PoolError::Timeout(_) => LedgerError::Postgres {
                location: self.location(),
                problem: "timed out connecting to the PostgreSQL server: check that it runs and \
                          accepts connections at the URL's host and port, then retry"
                    .to_owned(),
                source: Some(Box::new(error)),
            },
            error => LedgerError::Postgres {
                location: self.location(),
                problem: "cannot get a connection to the PostgreSQL server: retry".to_owned(),
                source: Some(Box::new(error)),
            },
        }
    }

    /// The error for `error` from the driver or the server.
    pub(crate) fn error(&self, error: tokio_postgres::Error) -> LedgerError {
        LedgerError::Postgres {
            location: self.location(),
            problem: problem(&error).to_owned(),
            source: Some(Box::new(error)),
        }
    }

    async fn ensure_schema(&self) -> Result<(), LedgerError> {
        let mut connection = self.connection().await?;
        let transaction = connection
            .transaction()
            .await
            .map_err(|error| self.error(error))?;
        // Several processes may open a new store at once: one creates the
        // schema while the others wait here, then find it.
        transaction
            .execute("SELECT pg_advisory_xact_lock($1, 0)", &[&LOCK_NAMESPACE])
            .await
            .map_err(|error| self.error(error))?;
        let row = transaction
            .query_one(
                "SELECT to_regclass('vidspec_schema') IS NOT NULL, \
                 to_regclass('entries') IS NOT NULL",
                &[],
            )
            .await
            .map_err(|error| self.error(error))?;
        let (has_version, has_entries): (bool, bool) = (
            row.try_get(0).map_err(|error| self.error(error))?,
            row.try_get(1).map_err(|error| self.error(error))?,
        );
        if has_version {
            let version: Option<i32> = transaction
                .query_opt("SELECT max(version) FROM vidspec_schema", &[])
                .await
                .map_err(|error| self.error(error))?
                .and_then(|row| row.get(0));
            return match version {
                Some(PG_SCHEMA_VERSION) => Ok(()),
                Some(version) if version > PG_SCHEMA_VERSION => Err(LedgerError::Newer {
                    path: self.location().into(),
                    version: i64::from(version),
                    known: i64::from(PG_SCHEMA_VERSION),
                }),
                _ => Err(self.foreign()),
            };
        }
        if has_entries {
            return Err(self.foreign());
        }
        transaction
            .batch_execute(SCHEMA)
            .await
            .map_err(|error| self.error(error))?;
        transaction
            .execute(
                "INSERT INTO vidspec_schema (version) VALUES ($1)",
                &[&PG_SCHEMA_VERSION],
            )
            .await
            .map_err(|error| self.error(error))?;
        transaction
            .commit()
            .await
            .map_err(|error| self.error(error))
    }

    fn foreign(&self) -> LedgerError {
        LedgerError::Postgres {
            location: self.location(),
            problem: "its schema holds tables that are not a vidspec ledger's: name another \
                      database, or another schema with options=-csearch_path%3DNAME in the URL"
                .to_owned(),
            source: None,
        }
    }
}

/// What went wrong and what to do, for an error of the driver or server.
fn problem(error: &tokio_postgres::Error) -> &'static str {
    let Some(code) = error.code() else {
        if error.is_closed() {
            return "the connection to the PostgreSQL server was lost; the step may not be \
                    recorded: retry, and list the ledger to see what it holds";
        }
        return "cannot talk to the PostgreSQL server: check that it runs and accepts \
                connections at the URL's host and port, then retry";
    };
    if *code == SqlState::INVALID_PASSWORD || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
    {
        "the server refused the user name or password: check the URL's credentials"
    } else if *code == SqlState::INVALID_CATALOG_NAME {
        "the database does not exist: create it (createdb), or name another"
    } else if *code == SqlState::INVALID_SCHEMA_NAME {
        "no schema of the URL's search_path exists to hold the ledger: create it (CREATE \
         SCHEMA), or name another"
    } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
        "the user may not read or write the ledger's tables: grant it the rights, or name \
         another user"
    } else if *code == SqlState::DISK_FULL {
        "the server's disk is full: free some space, then retry"
    } else if *code == SqlState::TOO_MANY_CONNECTIONS {
        "the server has no free connections: retry with fewer workers, or raise the server's \
         max_connections"
    } else if *code == SqlState::ADMIN_SHUTDOWN
        || *code == SqlState::CRASH_SHUTDOWN
        || *code == SqlState::CANNOT_CONNECT_NOW
    {
        "the PostgreSQL server is shutting down or starting: the step may not be recorded; \
         retry when it is up"
    } else if *code == SqlState::LOCK_NOT_AVAILABLE {
        "another worker held a lock on the same entries for too long (a stopped process?): \
         nothing was recorded; retry"
    } else if *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
    {
        "the server aborted the step to resolve a conflict with another worker: retry"
    } else {
        "PostgreSQL failed; if it persists, name another ledger"
    }
}

/// `url` as shown in messages: without user name, password, or the
/// `user`/`password` query parameters. A URL the `url` crate cannot parse
/// is shown as its scheme only.
pub fn redacted_location(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        let scheme = url
            .split_once("://")
            .map_or("postgres", |(scheme, _)| scheme);
        let scheme = if scheme.eq_ignore_ascii_case("postgresql") {
            "postgresql"
        } else {
            "postgres"
        };
        return format!("{scheme}://(a URL that cannot be parsed)");
    };
    // Setting fails only on URLs without a host, which carry no user info.
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    if parsed.query().is_some() {
        let kept: Vec<(String, String)> = parsed
            .query_pairs()
            .filter(|(key, _)| key != "password" && key != "user")
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        if kept.is_empty() {
            parsed.set_query(None);
        } else {
            parsed.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    parsed.to_string()
}

/// Whether `location` names a PostgreSQL database rather than a file.
pub fn is_postgres_url(location: &str) -> bool {
    let lower = location.get(..13).unwrap_or(location).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}
