//! The ledger through the async, dyn-compatible `TaskStore` trait (as the
//! workflow and a shared network ledger use it), idempotency keys and bodies,
//! and the in-place migration of version-1 and version-2 ledgers. What every
//! store must do is checked by the contract (`contract_sqlite.rs`).

mod support;

use std::sync::Arc;

use vidspec_journal::{
    Claim, Intent, JobRef, Lease, Ledger, PageRequest, SCHEMA_VERSION, State, StateFilter, Step,
    TaskStore, all_run_entries, all_unfinished,
};

use support::{intent, temp_dir};

async fn claimed(store: &dyn TaskStore, intent: Intent) -> String {
    match store
        .claim(intent, vidspec_journal::Guard::Unfinished)
        .await
        .expect("claim")
    {
        Claim::Claimed(entry) => entry,
        Claim::Duplicate(entry) => panic!("unexpected duplicate {entry:?}"),
    }
}

/// The schema a version-1 ledger was created with (vidspec before
/// idempotency keys), as that build wrote it.
const VERSION_1_SCHEMA: &str = "
CREATE TABLE entries (
    seq INTEGER PRIMARY KEY, entry TEXT NOT NULL UNIQUE, state TEXT NOT NULL,
    model TEXT NOT NULL, spec TEXT NOT NULL, request TEXT NOT NULL, endpoint TEXT NOT NULL,
    task_id TEXT, submitted_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    download_dir TEXT, videos TEXT NOT NULL DEFAULT '[]', paths TEXT NOT NULL DEFAULT '[]',
    reason TEXT
);
CREATE INDEX entries_by_request ON entries (request);
CREATE INDEX entries_by_task_id ON entries (task_id);
CREATE INDEX entries_by_state ON entries (state, seq);
CREATE TABLE state_counts (state TEXT PRIMARY KEY, entries INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO state_counts (state, entries) VALUES
    ('unknown', 0), ('running', 1), ('succeeded', 0),
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
CREATE TABLE imports (source TEXT PRIMARY KEY, entries INTEGER NOT NULL, imported_at INTEGER NOT NULL);
PRAGMA application_id = 1986618483;
PRAGMA user_version = 1;
";

#[tokio::test]
async fn a_version_1_ledger_is_migrated_in_place_keeping_its_entries() {
    let dir = temp_dir("migrate");
    let path = dir.join("ledger.sqlite3");
    {
        let connection = rusqlite::Connection::open(&path).expect("open");
        connection
            .execute_batch(VERSION_1_SCHEMA)
            .expect("v1 schema");
        connection
            .execute(
                "INSERT INTO entries (entry, state, model, spec, request, endpoint, task_id, \
                 submitted_at, updated_at) VALUES ('j1', 'running', 'm', 's', 'r1', '/v1/x', \
                 'task_1', 1, 1)",
                [],
            )
            .expect("a v1 entry");
    }
    let ledger = Ledger::open(&path).expect("migrated");
    let version: i64 = rusqlite::Connection::open(&path)
        .and_then(|connection| {
            connection.pragma_query_value(None, "user_version", |row| row.get(0))
        })
        .expect("version");
    assert_eq!(version, SCHEMA_VERSION);
    let store: &dyn TaskStore = &ledger;
    let old = store
        .find_by_task_id("task_1".into())
        .await
        .expect("find")
        .expect("the v1 entry survives");
    assert_eq!(
        (old.state, old.idempotency_key, old.body),
        (State::Running, None, None)
    );
    let mut keyed = intent("r2");
    keyed.idempotency_key = Some("key-1".into());
    keyed.body = Some(b"{\"prompt\":\"a kite\"}".to_vec());
    claimed(store, keyed).await;
    let new = store
        .unfinished_with_request("r2".into())
        .await
        .expect("look")
        .expect("the new entry");
    assert_eq!(new.idempotency_key.as_deref(), Some("key-1"));
    assert_eq!(new.body.as_deref(), Some(&b"{\"prompt\":\"a kite\"}"[..]));
    drop(ledger);
    // Opening it again finds it current and changes nothing.
    Ledger::open(&path).expect("reopened");
    let _ = std::fs::remove_dir_all(&dir);
}

/// What version 2 added to a version-1 ledger (a version-2 ledger created
/// new had the same tables).
const VERSION_2_STEP: &str = "
ALTER TABLE entries ADD COLUMN idempotency_key TEXT;
ALTER TABLE entries ADD COLUMN body BLOB;
PRAGMA user_version = 2;
";

#[tokio::test]
async fn a_version_2_ledger_is_migrated_in_place_keeping_its_entries_and_keys() {
    let dir = temp_dir("migrate-2");
    let path = dir.join("ledger.sqlite3");
    {
        let connection = rusqlite::Connection::open(&path).expect("open");
        connection
            .execute_batch(VERSION_1_SCHEMA)
            .and_then(|()| connection.execute_batch(VERSION_2_STEP))
            .expect("v2 schema");
        connection
            .execute(
                "INSERT INTO entries (entry, state, model, spec, request, endpoint, task_id, \
                 submitted_at, updated_at, idempotency_key, body) VALUES ('j1', 'running', 'm', \
                 's', 'r1', '/v1/x', 'task_1', 1, 1, 'key-1', X'7B7D')",
                [],
            )
            .expect("a v2 entry");
    }
    let ledger = Ledger::open(&path).expect("migrated");
    let version: i64 = rusqlite::Connection::open(&path)
        .and_then(|connection| {
            connection.pragma_query_value(None, "user_version", |row| row.get(0))
        })
        .expect("version");
    assert_eq!(version, SCHEMA_VERSION);
    let store: &dyn TaskStore = &ledger;
    let old = store
        .latest_with_request("r1".into())
        .await
        .expect("latest")
        .expect("the v2 entry survives");
    assert_eq!(
        (
            old.state,
            old.idempotency_key.as_deref(),
            old.body.as_deref()
        ),
        (State::Running, Some("key-1"), Some(&b"{}"[..]))
    );
    assert_eq!(
        (old.job, old.billing, old.cost, old.owner, old.lease_until),
        (None, None, None, None, None)
    );
    let job = Intent {
        job: Some(JobRef {
            run: "nightly".into(),
            job: "a".into(),
        }),
        lease: Some(Lease {
            owner: "worker".into(),
            seconds: 60,
        }),
        ..intent("r2")
    };
    let entry = claimed(store, job).await;
    let run = all_run_entries(store, "nightly").await.expect("run");
    assert_eq!(run.len(), 1);
    assert_eq!(
        (run[0].entry.as_str(), run[0].owner.as_deref()),
        (entry.as_str(), Some("worker"))
    );
    drop(ledger);
    Ledger::open(&path).expect("reopened");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_body_is_kept_only_for_an_entry_with_an_idempotency_key() {
    let dir = temp_dir("body");
    let ledger = Ledger::open(dir.join("l.sqlite3")).expect("open");
    let mut unkeyed = intent("r");
    unkeyed.body = Some(b"{\"prompt\":\"secret plans\"}".to_vec());
    claimed(&ledger, unkeyed).await;
    let entry = TaskStore::unfinished_with_request(&ledger, "r".into())
        .await
        .expect("look")
        .expect("entry");
    assert_eq!(entry.body, None);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_dyn_store_lists_unfinished_entries_page_by_page_oldest_first() {
    let dir = temp_dir("pages");
    let store: Arc<dyn TaskStore> = Arc::new(Ledger::open(dir.join("l.sqlite3")).expect("open"));
    let mut entries = Vec::new();
    for index in 0..7 {
        entries.push(claimed(store.as_ref(), intent(&format!("r{index}"))).await);
    }
    store
        .record(
            entries[3].clone(),
            Step::NotSent {
                reason: "402".into(),
            },
        )
        .await
        .expect("record");
    let first = store
        .unfinished(StateFilter::Any, PageRequest::first(4))
        .await
        .expect("page");
    assert_eq!(first.entries.len(), 4);
    let second = store
        .unfinished(
            StateFilter::Any,
            PageRequest {
                after: first.next,
                limit: 4,
            },
        )
        .await
        .expect("page");
    assert_eq!(second.entries.len(), 2);
    assert_eq!(second.next, None);
    let listed: Vec<String> = first
        .entries
        .iter()
        .chain(&second.entries)
        .map(|entry| entry.entry.clone())
        .collect();
    let expected: Vec<String> = entries
        .iter()
        .enumerate()
        .filter(|(index, _)| *index != 3)
        .map(|(_, entry)| entry.clone())
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(
        all_unfinished(store.as_ref(), StateFilter::Any)
            .await
            .expect("all")
            .len(),
        6
    );
    let finished = store
        .finished(StateFilter::Any, Some(10), PageRequest::first(10))
        .await
        .expect("finished");
    assert_eq!(finished.entries.len(), 1);
    assert_eq!(
        store.count_finished(StateFilter::Any).await.expect("count"),
        1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_through_the_trait_from_many_connections_let_exactly_one_through() {
    let dir = temp_dir("race");
    let path = dir.join("l.sqlite3");
    let mut claims = Vec::new();
    for _ in 0..8 {
        let store: Arc<dyn TaskStore> = Arc::new(Ledger::open(&path).expect("open"));
        claims.push(tokio::spawn(async move {
            store
                .claim(intent("same"), vidspec_journal::Guard::Unfinished)
                .await
                .expect("claim")
        }));
    }
    let mut claimed = 0;
    for claim in claims {
        if matches!(claim.await.expect("joined"), Claim::Claimed(_)) {
            claimed += 1;
        }
    }
    assert_eq!(claimed, 1);
    let _ = std::fs::remove_dir_all(&dir);
}
