//! The PostgreSQL task store on a real server (`VIDSPEC_TEST_POSTGRES`,
//! started by `.ci/postgres`): what only a store shared by several
//! connections and machines must do — claims from several handles at once,
//! take-overs that never hand one entry to two workers, leases on the
//! database's clock — and that its URL's password never shows. Each test
//! has a schema of its own. Without a server the tests say they were
//! skipped (under CI they fail instead).

mod postgres_support;
mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use vidspec_journal::{
    Billing, Claim, Guard, Intent, JobRef, Lease, LedgerError, PageRequest, PgLedger, State, Step,
    TaskStore, all_run_entries, open_store, redacted_location,
};

use postgres_support::{
    connect, fresh_schema, fresh_store_url, server_url, with_options, with_search_path,
};
use support::intent;

/// An intent of job `job` of run `run`, leased to `owner` for `seconds`.
fn job_intent(run: &str, job: &str, owner: &str, seconds: u32) -> Intent {
    Intent {
        job: Some(JobRef {
            run: run.into(),
            job: job.into(),
        }),
        lease: Some(Lease {
            owner: owner.into(),
            seconds,
        }),
        ..intent(&format!("{run}/{job}"))
    }
}

async fn claimed(store: &dyn TaskStore, intent: Intent, guard: Guard) -> String {
    match store.claim(intent, guard).await.expect("claim") {
        Claim::Claimed(entry) => entry,
        Claim::Duplicate(entry) => panic!("unexpected duplicate {entry:?}"),
    }
}

/// A store whose pool has its connections open already, so that claims
/// made on it at once run at once.
async fn warm_store(url: &str) -> Arc<PgLedger> {
    let store = Arc::new(PgLedger::open(url).await.expect("open"));
    let looks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.latest_with_request("warm up".into()).await })
        })
        .collect();
    for look in looks {
        look.await.expect("task").expect("look");
    }
    store
}

/// How many concurrent claims of each of 8 request keys, 12 claims per key
/// spread over two handles (two pools of connections), were let through.
async fn concurrent_claims_let_through(url: &str, guard: Guard) -> Vec<usize> {
    let handles = [warm_store(url).await, warm_store(url).await];
    let mut tasks = Vec::new();
    for claim in 0..96 {
        let store = handles[claim % 2].clone();
        let key = claim % 8;
        tasks.push(tokio::spawn(async move {
            (
                key,
                store.claim(intent(&format!("request {key}")), guard).await,
            )
        }));
    }
    let mut through = vec![0; 8];
    for task in tasks {
        let (key, claim) = task.await.expect("task");
        if let Claim::Claimed(_) = claim.expect("claim") {
            through[key] += 1;
        }
    }
    through
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_claims_of_one_request_from_two_handles_exactly_one_goes_through() {
    let Some(url) = fresh_store_url("claims").await else {
        return;
    };
    assert_eq!(
        concurrent_claims_let_through(&url, Guard::Unfinished).await,
        vec![1; 8]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_once_claims_of_one_job_from_two_handles_exactly_one_goes_through() {
    let Some(url) = fresh_store_url("once").await else {
        return;
    };
    let once = Guard::Once {
        retry_failed: false,
    };
    assert_eq!(concurrent_claims_let_through(&url, once).await, vec![1; 8]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expired_leases_taken_over_by_two_handles_at_once_go_to_exactly_one_each() {
    let Some(url) = fresh_store_url("takeover").await else {
        return;
    };
    let setup = PgLedger::open(&url).await.expect("open");
    for job in 0..40 {
        let intent = job_intent("run", &format!("job{job}"), "dead worker", 0);
        claimed(
            &setup,
            intent,
            Guard::Once {
                retry_failed: false,
            },
        )
        .await;
    }
    // A lease of 0 seconds ends once the database's clock passes the
    // second it was taken in.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let first = PgLedger::open(&url).await.expect("open");
    let second = PgLedger::open(&url).await.expect("open again");
    let mut tasks = Vec::new();
    for round in 0..8 {
        let (store, owner) = if round % 2 == 0 {
            (first.clone(), "first")
        } else {
            (second.clone(), "second")
        };
        tasks.push(tokio::spawn(async move {
            store
                .take_over("run".into(), owner.into(), 60, 7)
                .await
                .map(|entries| (owner, entries))
        }));
    }
    let mut taken = BTreeSet::new();
    for task in tasks {
        let (owner, entries) = task.await.expect("task").expect("take over");
        for entry in entries {
            assert_eq!(entry.owner.as_deref(), Some(owner));
            assert!(
                taken.insert(entry.entry.clone()),
                "{} taken twice",
                entry.entry
            );
        }
    }
    assert_eq!(taken.len(), 40);
}

#[tokio::test]
async fn a_lease_that_has_not_ended_is_not_taken_over() {
    let Some(url) = fresh_store_url("alive").await else {
        return;
    };
    let store = PgLedger::open(&url).await.expect("open");
    claimed(
        &store,
        job_intent("run", "a", "alive worker", 60),
        Guard::Again,
    )
    .await;
    let taken = store
        .take_over("run".into(), "other".into(), 60, 10)
        .await
        .expect("take over");
    assert_eq!(taken, Vec::new());
}

#[tokio::test]
async fn released_leases_are_taken_over_at_once() {
    let Some(url) = fresh_store_url("release").await else {
        return;
    };
    let store = PgLedger::open(&url).await.expect("open");
    claimed(&store, job_intent("run", "a", "leaving", 600), Guard::Again).await;
    assert_eq!(
        store
            .release_leases("leaving".into())
            .await
            .expect("release"),
        1
    );
    let taken = store
        .take_over("run".into(), "next".into(), 60, 10)
        .await
        .expect("take over");
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].owner.as_deref(), Some("next"));
}

#[tokio::test]
async fn a_renewed_lease_runs_from_the_database_clock_and_is_not_taken_over() {
    let Some(url) = fresh_store_url("renew").await else {
        return;
    };
    let store = PgLedger::open(&url).await.expect("open");
    claimed(&store, job_intent("run", "a", "worker", 0), Guard::Again).await;
    assert_eq!(
        store
            .renew_leases("worker".into(), 600)
            .await
            .expect("renew"),
        1
    );
    let database_now: i64 = connect(&url)
        .await
        .query_one("SELECT floor(extract(epoch FROM now()))::bigint", &[])
        .await
        .expect("now")
        .get(0);
    let entry = &all_run_entries(&store, "run").await.expect("run")[0];
    let lease_until = entry.lease_until.expect("a lease");
    assert!(
        (database_now + 590..=database_now + 610).contains(&lease_until),
        "lease until {lease_until}, database now {database_now}"
    );
    let taken = store
        .take_over("run".into(), "other".into(), 60, 10)
        .await
        .expect("take over");
    assert_eq!(taken, Vec::new());
}

#[tokio::test]
async fn a_finished_entry_is_never_taken_over() {
    let Some(url) = fresh_store_url("finished").await else {
        return;
    };
    let store = PgLedger::open(&url).await.expect("open");
    let entry = claimed(&store, job_intent("run", "a", "worker", 0), Guard::Again).await;
    store
        .record(
            entry,
            Step::NotSent {
                reason: "refused".into(),
            },
        )
        .await
        .expect("record");
    let taken = store
        .take_over("run".into(), "other".into(), 60, 10)
        .await
        .expect("take over");
    assert_eq!(taken, Vec::new());
}

#[tokio::test]
async fn every_field_of_an_entry_reads_back_as_recorded() {
    let Some(url) = fresh_store_url("fields").await else {
        return;
    };
    let store = PgLedger::open(&url).await.expect("open");
    let intent = Intent {
        download_dir: Some("videos".into()),
        idempotency_key: Some("key-1".into()),
        body: Some(b"{\"prompt\":\"a cat\"}".to_vec()),
        billing: Some(Billing {
            key: "m@720p".into(),
            multiplier: 2,
        }),
        ..job_intent("run", "a", "worker", 60)
    };
    let entry = claimed(
        &store,
        intent,
        Guard::Once {
            retry_failed: false,
        },
    )
    .await;
    let steps = [
        Step::Submitted {
            task_id: "task_1".into(),
        },
        Step::Outcome {
            status: "succeeded".into(),
            videos: vec![serde_json::json!({"url": "https://cdn.example/v.mp4"})],
            error: None,
            cost: Some(0.5),
        },
        Step::Downloaded {
            paths: vec!["videos/a-1.mp4".into()],
        },
    ];
    for step in steps {
        store.record(entry.clone(), step).await.expect("record");
    }
    let read = store
        .find_by_task_id("task_1".into())
        .await
        .expect("find")
        .expect("the entry");
    assert_eq!(read.entry, entry);
    assert_eq!(read.state, State::Downloaded);
    assert_eq!(read.download_dir.as_deref(), Some("videos"));
    assert_eq!(read.idempotency_key.as_deref(), Some("key-1"));
    assert_eq!(read.body.as_deref(), Some(&b"{\"prompt\":\"a cat\"}"[..]));
    assert_eq!(
        read.job,
        Some(JobRef {
            run: "run".into(),
            job: "a".into()
        })
    );
    assert_eq!(
        read.billing,
        Some(Billing {
            key: "m@720p".into(),
            multiplier: 2
        })
    );
    assert_eq!(read.cost, Some(0.5));
    assert_eq!(read.owner.as_deref(), Some("worker"));
    assert_eq!(
        read.videos,
        vec![serde_json::json!({"url": "https://cdn.example/v.mp4"})]
    );
    assert_eq!(read.paths, vec!["videos/a-1.mp4".to_owned()]);
}

#[tokio::test]
async fn a_body_without_an_idempotency_key_is_not_kept() {
    let Some(url) = fresh_store_url("body").await else {
        return;
    };
    let store = PgLedger::open(&url).await.expect("open");
    let intent = Intent {
        body: Some(b"{\"prompt\":\"private\"}".to_vec()),
        ..intent("r")
    };
    claimed(&store, intent, Guard::Unfinished).await;
    let read = store
        .latest_with_request("r".into())
        .await
        .expect("latest")
        .expect("the entry");
    assert_eq!(read.body, None);
}

#[tokio::test]
async fn a_step_for_an_entry_the_store_does_not_hold_is_an_error_naming_it() {
    let Some(url) = fresh_store_url("nosuch").await else {
        return;
    };
    let store = PgLedger::open(&url).await.expect("open");
    let error = store
        .record(
            "pg999".into(),
            Step::Submitted {
                task_id: "t".into(),
            },
        )
        .await
        .expect_err("no such entry");
    assert!(
        matches!(error, LedgerError::NoSuchEntry { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("pg999"), "{error}");
}

#[tokio::test]
async fn entry_ids_are_unique_across_handles() {
    let Some(url) = fresh_store_url("ids").await else {
        return;
    };
    let first = PgLedger::open(&url).await.expect("open");
    let second = PgLedger::open(&url).await.expect("open again");
    let mut ids = BTreeSet::new();
    for claim in 0..20 {
        let store = if claim % 2 == 0 { &first } else { &second };
        assert!(ids.insert(claimed(store, intent("r"), Guard::Again).await));
    }
}

#[tokio::test]
async fn learned_prices_are_the_mean_cost_per_multiplier_by_billing_key() {
    let Some(url) = fresh_store_url("prices").await else {
        return;
    };
    let store = PgLedger::open(&url).await.expect("open");
    for (key, multiplier, cost) in [("b", 1, 0.3), ("a", 2, 1.0), ("a", 1, 0.7)] {
        let intent = Intent {
            billing: Some(Billing {
                key: key.into(),
                multiplier,
            }),
            ..intent(&format!("{key}{cost}"))
        };
        let entry = claimed(&store, intent, Guard::Again).await;
        let outcome = Step::Outcome {
            status: "succeeded".into(),
            videos: Vec::new(),
            error: None,
            cost: Some(cost),
        };
        store.record(entry, outcome).await.expect("record");
    }
    let prices = store.learned_prices().await.expect("prices");
    let read: Vec<(&str, f64, u64)> = prices
        .iter()
        .map(|price| (price.key.as_str(), price.price, price.tasks))
        .collect();
    assert_eq!(read.len(), 2);
    assert_eq!((read[0].0, read[0].2), ("a", 2));
    assert!((read[0].1 - 0.6).abs() < 1e-9, "{read:?}");
    assert_eq!(read[1], ("b", 0.3, 1));
}

#[tokio::test]
async fn a_run_lists_only_its_own_entries_page_by_page_oldest_first() {
    let Some(url) = fresh_store_url("run").await else {
        return;
    };
    let store = PgLedger::open(&url).await.expect("open");
    let mut expected = Vec::new();
    for job in 0..5 {
        expected.push(
            claimed(
                &store,
                job_intent("run", &format!("{job}"), "w", 60),
                Guard::Again,
            )
            .await,
        );
        claimed(
            &store,
            job_intent("other", &format!("{job}"), "w", 60),
            Guard::Again,
        )
        .await;
    }
    let first = store
        .run_entries("run".into(), PageRequest::first(3))
        .await
        .expect("first page");
    assert_eq!(first.entries.len(), 3);
    let next = first.next.expect("a next page");
    let second = store
        .run_entries(
            "run".into(),
            PageRequest {
                after: Some(next),
                limit: 3,
            },
        )
        .await
        .expect("second page");
    let listed: Vec<String> = first
        .entries
        .into_iter()
        .chain(second.entries)
        .map(|entry| entry.entry)
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(second.next, None);
}

#[tokio::test]
async fn opening_a_store_of_a_newer_schema_version_is_refused() {
    let Some(url) = fresh_store_url("newer").await else {
        return;
    };
    PgLedger::open(&url).await.expect("created");
    connect(&url)
        .await
        .batch_execute("UPDATE vidspec_schema SET version = 99")
        .await
        .expect("a newer version");
    let error = PgLedger::open(&url).await.expect_err("newer");
    assert!(
        matches!(error, LedgerError::Newer { version: 99, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_schema_holding_another_programs_entries_table_is_refused() {
    let Some(url) = fresh_store_url("foreign").await else {
        return;
    };
    connect(&url)
        .await
        .batch_execute("CREATE TABLE entries (id integer)")
        .await
        .expect("a foreign table");
    let error = PgLedger::open(&url).await.expect_err("foreign");
    assert!(
        error.to_string().contains("not a vidspec ledger"),
        "{error}"
    );
}

#[tokio::test]
async fn several_handles_opening_a_new_store_at_once_all_succeed() {
    let Some(url) = fresh_store_url("open").await else {
        return;
    };
    let opens: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PgLedger::open(&url).await.map(|_| ()) })
        })
        .collect();
    for open in opens {
        open.await.expect("task").expect("open");
    }
}

#[tokio::test]
async fn open_store_opens_postgresql_for_a_url_and_sqlite_for_a_path() {
    let dir = support::temp_dir("open-store");
    let path = dir.join("ledger.sqlite3");
    let sqlite = open_store(path.to_str().expect("utf-8 path"))
        .await
        .expect("sqlite");
    assert_eq!(sqlite.location(), path.display().to_string());
    std::fs::remove_dir_all(&dir).expect("clean up");
    let Some(url) = fresh_store_url("openstore").await else {
        return;
    };
    let postgres = open_store(&url).await.expect("postgres");
    assert!(
        postgres.location().starts_with("postgres://127.0.0.1"),
        "{}",
        postgres.location()
    );
}

#[tokio::test]
async fn the_password_is_in_neither_the_location_nor_an_error() {
    let Some((url, schema)) = fresh_schema("secret").await else {
        return;
    };
    let password = url::Url::parse(&url)
        .expect("url")
        .password()
        .map(str::to_owned)
        .expect("the test server's URL has a password");
    let store = PgLedger::open(&url).await.expect("open");
    assert!(
        !store.location().contains(&password),
        "{}",
        store.location()
    );
    assert!(!format!("{store:?}").contains(&password));
    let mut wrong = url::Url::parse(&url).expect("url");
    wrong
        .set_password(Some("wrong-password-9f8e7d"))
        .expect("set");
    let error = PgLedger::open(wrong.as_str()).await.expect_err("refused");
    let shown = format!("{error} {error:?} {}", error.path().display());
    assert!(!shown.contains("wrong-password-9f8e7d"), "{shown}");
    assert!(!shown.contains(&password), "{shown}");
    assert!(
        error.to_string().contains("user name or password"),
        "{error}"
    );
    assert!(error.to_string().contains(&schema), "{error}");
}

#[test]
fn a_location_shows_neither_user_info_nor_password_parameters() {
    assert_eq!(
        redacted_location(
            "postgres://user:secret@db.example:5432/ledger?password=also&sslmode=disable"
        ),
        "postgres://db.example:5432/ledger?sslmode=disable"
    );
    assert_eq!(
        redacted_location("postgresql://user@db.example/ledger?user=u&password=p"),
        "postgresql://db.example/ledger"
    );
    assert!(!redacted_location("postgres://u:sec ret@[bad/x").contains("sec"));
}

#[tokio::test]
async fn a_url_requiring_tls_is_refused_with_a_message_saying_so() {
    let error = PgLedger::open("postgres://u:p@127.0.0.1:1/db?sslmode=require")
        .await
        .expect_err("tls");
    assert!(error.to_string().contains("TLS"), "{error}");
}

#[tokio::test]
async fn an_unreachable_server_is_an_error_saying_what_to_check() {
    // Port 1 on loopback: nothing listens there.
    let error = PgLedger::open("postgres://u:p@127.0.0.1:1/db")
        .await
        .expect_err("unreachable");
    assert!(error.to_string().contains("check that it runs"), "{error}");
}

#[tokio::test]
async fn the_search_path_in_the_url_keeps_stores_apart() {
    let Some(server) = server_url() else {
        return;
    };
    let Some((first_url, _)) = fresh_schema("apart").await else {
        return;
    };
    let Some((_, second_schema)) = fresh_schema("apart").await else {
        return;
    };
    let first = PgLedger::open(&first_url).await.expect("open");
    let second = PgLedger::open(&with_search_path(&server, &second_schema))
        .await
        .expect("open");
    claimed(&first, intent("r"), Guard::Unfinished).await;
    assert_eq!(
        second.latest_with_request("r".into()).await.expect("look"),
        None
    );
}

/// Whether a `Once` claim goes through after an entry that reached `step`.
async fn once_claim_goes_through_after(
    store: &PgLedger,
    key: &str,
    step: Option<Step>,
    retry_failed: bool,
) -> bool {
    let entry = claimed(store, intent(key), Guard::Again).await;
    if let Some(step) = step {
        store.record(entry, step).await.expect("record");
    }
    matches!(
        store
            .claim(intent(key), Guard::Once { retry_failed })
            .await
            .expect("claim"),
        Claim::Claimed(_)
    )
}

#[tokio::test]
async fn a_once_claim_is_decided_by_the_newest_entry_of_its_key() {
    let Some(url) = fresh_store_url("oncestates").await else {
        return;
    };
    let store = PgLedger::open(&url).await.expect("open");
    let failed = || Step::Outcome {
        status: "failed".into(),
        videos: Vec::new(),
        error: Some("refused by moderation".into()),
        cost: None,
    };
    let not_sent = Step::NotSent {
        reason: "400".into(),
    };
    let running = Step::Submitted {
        task_id: "t".into(),
    };
    let downloaded = Step::Downloaded { paths: Vec::new() };
    assert!(once_claim_goes_through_after(&store, "not_sent", Some(not_sent), false).await);
    assert!(!once_claim_goes_through_after(&store, "failed", Some(failed()), false).await);
    assert!(once_claim_goes_through_after(&store, "retried", Some(failed()), true).await);
    assert!(!once_claim_goes_through_after(&store, "unknown", None, true).await);
    assert!(!once_claim_goes_through_after(&store, "running", Some(running), true).await);
    assert!(!once_claim_goes_through_after(&store, "done", Some(downloaded), true).await);
}

#[tokio::test]
async fn a_claim_kept_waiting_past_the_lock_timeout_fails_saying_to_retry() {
    let Some(server) = server_url() else {
        return;
    };
    let Some((_, schema)) = fresh_schema("locktimeout").await else {
        return;
    };
    let url = with_options(
        &server,
        &format!("-csearch_path={schema} -clock_timeout=300ms"),
    );
    let store = PgLedger::open(&url).await.expect("open");
    // A stopped worker in the middle of a claim of the same key.
    let mut stopped = connect(&url).await;
    let transaction = stopped.transaction().await.expect("begin");
    transaction
        .execute(
            "SELECT pg_advisory_xact_lock(1986618483, hashtext('held'))",
            &[],
        )
        .await
        .expect("hold the key's lock");
    let error = store
        .claim(intent("held"), Guard::Unfinished)
        .await
        .expect_err("the lock is held");
    assert!(
        error.to_string().contains("nothing was recorded; retry"),
        "{error}"
    );
    transaction.rollback().await.expect("release");
    assert!(
        store
            .latest_with_request("held".into())
            .await
            .expect("look")
            .is_none()
    );
}

#[tokio::test]
async fn a_search_path_naming_no_existing_schema_is_an_error_saying_to_create_it() {
    let Some(server) = server_url() else {
        return;
    };
    let url = with_search_path(&server, "no_such_schema_anywhere");
    let error = PgLedger::open(&url).await.expect_err("no schema");
    assert!(error.to_string().contains("CREATE SCHEMA"), "{error}");
}
