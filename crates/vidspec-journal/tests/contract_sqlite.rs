//! The task store contract (`tests/contract`) run against the SQLite
//! ledger: each check on a new ledger file in a temporary folder, with
//! further handles opening their own connections to the same file, as other
//! processes do.

#[macro_use]
mod contract;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use vidspec_journal::{Ledger, TaskStore};

use contract::{Opening, Subject};

fn fresh_sqlite() -> Pin<Box<dyn Future<Output = Subject> + Send>> {
    Box::pin(async {
        let dir = tempfile::Builder::new()
            .prefix("vidspec-ledger-contract-")
            .tempdir()
            .expect("temp dir");
        let path = dir.path().join("ledger.sqlite3");
        let store: Arc<dyn TaskStore> = Arc::new(Ledger::open(&path).expect("open"));
        let open_another = move || -> Opening {
            let path = path.clone();
            Box::pin(async move {
                let another: Arc<dyn TaskStore> =
                    Arc::new(Ledger::open(&path).expect("open another"));
                another
            })
        };
        Subject {
            store,
            open_another: Box::new(open_another),
            keep: Some(Box::new(dir)),
        }
    })
}

store_contract!(fresh_sqlite);
