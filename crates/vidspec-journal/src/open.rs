//! Opening a task store by its location: a PostgreSQL URL or an SQLite path.
//!
//! Owns the one decision of which store a location names. It must not
//! choose a default location (the caller does) nor open anything itself
//! beyond calling the store's own `open`.

use std::sync::Arc;

use crate::error::LedgerError;
use crate::ledger::Ledger;
use crate::postgres::{PgLedger, is_postgres_url};
use crate::store::TaskStore;

/// Opens the task store at `location`: a `postgres://` or `postgresql://`
/// URL opens a [`PgLedger`] (shared by several machines), anything else is
/// the path of an SQLite [`Ledger`] (created if missing). Messages about a
/// PostgreSQL store show its URL without user name or password.
pub async fn open_store(location: &str) -> Result<Arc<dyn TaskStore>, LedgerError> {
    if is_postgres_url(location) {
        return Ok(Arc::new(PgLedger::open(location).await?));
    }
    let path = std::path::PathBuf::from(location);
    // Opening SQLite may wait on another process's lock: off the async
    // threads when there is a runtime.
    let ledger = match tokio::runtime::Handle::try_current() {
        Ok(runtime) => runtime
            .spawn_blocking(move || Ledger::open(path))
            .await
            .map_err(|error| LedgerError::Io {
                path: location.into(),
                problem: "the thread opening the ledger stopped: retry".to_owned(),
                source: Some(std::io::Error::other(error)),
            })??,
        Err(_) => Ledger::open(path)?,
    };
    Ok(Arc::new(ledger))
}
