//! What can go wrong with the ledger, each with what to do about it.
//!
//! Owns the mapping from SQLite's error codes to messages a user can act on.
//! It must not decide exit codes (the CLI does), nor name a command, flag or
//! environment variable of a program using the ledger (the CLI adds those as
//! hints). SQLite's and the file system's errors are kept as sources
//! (`std::error::Error::source`); paths are `PathBuf`.

use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

/// Something went wrong with the ledger (or another task store: a network
/// store reports its failures as `Io` or `Busy` with what to do). The enum
/// may grow: match it with a `_` arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The file is not a database, or its pages are damaged.
    #[error(
        "the ledger {} is damaged: move it aside (to {}.bak) and a new one is started; the moved \
         file keeps the old records (the sqlite3 tool's `.recover` salvages what it can) — check \
         the gateway's console for tasks it held",
        .path.display(),
        .path.display()
    )]
    Damaged {
        /// The ledger path.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// Another process held the write lock for longer than the busy timeout.
    #[error(
        "the ledger {} is locked: another process is writing to it (waited {seconds} s); retry \
         when it is done",
        .path.display()
    )]
    Busy {
        /// The ledger path.
        path: PathBuf,
        /// How long this process waited.
        seconds: u64,
    },
    /// An SQLite file of another program.
    #[error(
        "{} is an SQLite database of another program, not a vidspec ledger: name a ledger of \
         vidspec's own",
        .path.display()
    )]
    Foreign {
        /// The path.
        path: PathBuf,
    },
    /// A ledger written by a newer vidspec.
    #[error(
        "the ledger {} has schema version {version}, newer than this vidspec knows ({known}): \
         upgrade vidspec, or name another ledger",
        .path.display()
    )]
    Newer {
        /// The ledger path.
        path: PathBuf,
        /// Its schema version.
        version: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// A step for an entry the ledger does not hold.
    #[error("the ledger {} holds no entry {entry} to record `{step}` for", .path.display())]
    NoSuchEntry {
        /// The ledger path.
        path: PathBuf,
        /// The entry id.
        entry: String,
        /// The step's name.
        step: &'static str,
    },
    /// SQLite failed on the file: the disk is full, it cannot be written, or
    /// another failure (the source says which).
    #[error("the ledger {}: {problem}", .path.display())]
    Sqlite {
        /// The ledger path.
        path: PathBuf,
        /// What failed and how to fix it.
        problem: String,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The PostgreSQL store failed: the server cannot be reached, refused
    /// the credentials, or failed a statement (the source says which).
    #[error("the ledger {location}: {problem}")]
    Postgres {
        /// The store's URL without user name or password.
        location: String,
        /// What failed and how to fix it.
        problem: String,
        /// What the driver or the server said, if it spoke.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The file, its directory or the disk failed.
    #[error("the ledger {}: {problem}", .path.display())]
    Io {
        /// The ledger path (or the journal being imported).
        path: PathBuf,
        /// What failed and how to fix it.
        problem: String,
        /// What the system said, if it spoke.
        #[source]
        source: Option<std::io::Error>,
    },
}

impl LedgerError {
    /// The error for `error` from SQLite while using the ledger at `path`.
    pub(crate) fn from_sqlite(
        path: &Path,
        busy_seconds: u64,
        error: rusqlite::Error,
    ) -> LedgerError {
        let path = path.to_owned();
        let sqlite = |problem: &str, source| LedgerError::Sqlite {
            path: path.clone(),
            problem: problem.to_owned(),
            source,
        };
        match error.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => LedgerError::Damaged {
                path,
                source: error,
            },
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => LedgerError::Busy {
                path,
                seconds: busy_seconds,
            },
            Some(ErrorCode::DiskFull) => sqlite(
                "cannot write: the disk is full; free some space, then retry",
                error,
            ),
            Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
                sqlite(
                    "cannot open it for writing: make it and its directory writable, or name \
                     another ledger",
                    error,
                )
            }
            _ => sqlite("SQLite failed; if it persists, name another ledger", error),
        }
    }

    /// The ledger's path (or the journal's, for an import).
    pub fn path(&self) -> &Path {
        match self {
            LedgerError::Damaged { path, .. }
            | LedgerError::Busy { path, .. }
            | LedgerError::Foreign { path }
            | LedgerError::Newer { path, .. }
            | LedgerError::NoSuchEntry { path, .. }
            | LedgerError::Sqlite { path, .. }
            | LedgerError::Io { path, .. } => path,
            LedgerError::Postgres { location, .. } => Path::new(location),
        }
    }
}
