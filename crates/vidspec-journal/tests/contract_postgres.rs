//! The task store contract (`tests/contract`) run against the PostgreSQL
//! store on a real server (`VIDSPEC_TEST_POSTGRES`, started by
//! `.ci/postgres`): each check in a new schema of its own, with further
//! handles opening their own pools of connections to it, as other processes
//! and machines do. Without a server every check says it was skipped —
//! except under CI (`CI` set), where a missing server fails it.

#[macro_use]
mod contract;
mod postgres_support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use vidspec_journal::{PgLedger, TaskStore};

use contract::{Opening, Subject};

fn fresh_postgres() -> Pin<Box<dyn Future<Output = Subject> + Send>> {
    Box::pin(async {
        let url = postgres_support::fresh_store_url("contract")
            .await
            .expect("the check runs only with a server");
        let store: Arc<dyn TaskStore> = Arc::new(PgLedger::open(&url).await.expect("open"));
        let open_another = move || -> Opening {
            let url = url.clone();
            Box::pin(async move {
                let another: Arc<dyn TaskStore> =
                    Arc::new(PgLedger::open(&url).await.expect("open another"));
                another
            })
        };
        Subject {
            store,
            open_another: Box::new(open_another),
            keep: None,
        }
    })
}

/// Whether a server is there (prints that the check was skipped if not;
/// under CI a missing server fails the check).
fn server_ready() -> bool {
    postgres_support::server_url().is_some()
}

store_contract!(fresh_postgres, skip_unless = server_ready);
