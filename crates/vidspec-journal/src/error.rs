//! What can go wrong with the ledger, each with what to do about it.
//!
//! Owns the mapping from SQLite's error codes to messages a user can act on.
//! It must not decide exit codes (the CLI does).

use std::path::Path;

use rusqlite::ErrorCode;

/// Something went wrong with the ledger (or another task store: a network
/// store reports its failures as `Io` or `Busy` with what to do).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The file is not a database, or its pages are damaged.
    #[error(
        "the ledger {path} is damaged ({detail}): move it aside (`mv {path} {path}.bak`) and \
         vidspec will start a new one; {path}.bak keeps the old records (the sqlite3 tool's \
         `.recover` salvages what it can) — check the gateway's console for tasks it held"
    )]
    Damaged {
        /// The ledger path.
        path: String,
        /// What SQLite said.
        detail: String,
    },
    /// Another process held the write lock for longer than the busy timeout.
    #[error(
        "the ledger {path} is locked: another vidspec is writing to it (waited {seconds} s); \
         retry when it is done"
    )]
    Busy {
        /// The ledger path.
        path: String,
        /// How long this process waited.
        seconds: u64,
    },
    /// An SQLite file of another program.
    #[error(
        "{path} is an SQLite database of another program, not a vidspec ledger: name a ledger \
         of vidspec's own with --journal PATH or VIDSPEC_JOURNAL"
    )]
    Foreign {
        /// The path.
        path: String,
    },
    /// A ledger written by a newer vidspec.
    #[error(
        "the ledger {path} has schema version {version}, newer than this vidspec knows \
         ({known}): upgrade vidspec, or name another ledger with --journal PATH"
    )]
    Newer {
        /// The ledger path.
        path: String,
        /// Its schema version.
        version: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// A step for an entry the ledger does not hold.
    #[error("the ledger {path} holds no entry {entry} to record `{step}` for")]
    NoSuchEntry {
        /// The ledger path.
        path: String,
        /// The entry id.
        entry: String,
        /// The step's name.
        step: &'static str,
    },
    /// The file, its directory or the disk failed.
    #[error("the ledger {path}: {message}")]
    Io {
        /// The ledger path (or the journal being imported).
        path: String,
        /// What failed and how to fix it.
        message: String,
    },
}

impl LedgerError {
    /// The error for `error` from SQLite while using the ledger at `path`.
    pub(crate) fn from_sqlite(
        path: &Path,
        busy_seconds: u64,
        error: rusqlite::Error,
    ) -> LedgerError {
        let path = path.display().to_string();
        let code = error.sqlite_error_code();
        match code {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => LedgerError::Damaged {
                path,
                detail: error.to_string(),
            },
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => LedgerError::Busy {
                path,
                seconds: busy_seconds,
            },
            Some(ErrorCode::DiskFull) => LedgerError::Io {
                path,
                message: format!(
                    "cannot write: the disk is full ({error}); free some space, then retry"
                ),
            },
            Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
                LedgerError::Io {
                    path,
                    message: format!(
                        "cannot open it for writing ({error}); make it and its directory \
                         writable, or name another ledger with --journal PATH or VIDSPEC_JOURNAL"
                    ),
                }
            }
            _ => LedgerError::Io {
                path,
                message: format!(
                    "{error}; if it persists, name another ledger with --journal PATH"
                ),
            },
        }
    }
}
