//! The task store contract: what every `TaskStore` must do, written once and
//! run against each store (`contract_sqlite.rs`, `contract_postgres.rs`).
//!
//! Owns the checks, each a `pub async fn` taking a [`Fresh`] factory that
//! opens a new, empty store, and [`store_contract!`], which turns every
//! check into a `#[tokio::test]` of the file that invokes it (so a check
//! added here runs against every store). It must not know which store it
//! checks: no file, SQL or server in it.
//!
//! Leases are whole seconds of the store's clock and end when the store's
//! clock passes them: checks of expiry take leases of 0 seconds and wait
//! [`LEASES_END`] (just over a second) rather than long.

#![allow(dead_code)] // Each test file uses the checks through the macro.

use std::any::Any;
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use vidspec_journal::{
    Billing, Claim, Entry, Guard, Intent, JobRef, LearnedPrice, Lease, LedgerError, PageRequest,
    State, StateFilter, Step, TaskStore, all_run_entries,
};

/// A future that opens a handle on a store.
pub type Opening = Pin<Box<dyn Future<Output = Arc<dyn TaskStore>> + Send>>;

/// A new, empty store under test.
pub struct Subject {
    /// The store.
    pub store: Arc<dyn TaskStore>,
    /// Opens another handle on the same store, with its own connection(s),
    /// as another process would: concurrency checks race several of them.
    pub open_another: Box<dyn Fn() -> Opening + Send + Sync>,
    /// Whatever must live as long as the check (a temporary folder, …).
    pub keep: Option<Box<dyn Any + Send + Sync>>,
}

/// Opens a new, empty store for one check.
pub type Fresh = dyn Fn() -> Pin<Box<dyn Future<Output = Subject> + Send>> + Sync;

/// How long a check waits for leases of 0 seconds to end: the store's clock
/// must pass the second they were taken in.
pub const LEASES_END: Duration = Duration::from_millis(1_100);

/// Every check of the contract as a `#[tokio::test]` (multi-threaded, so
/// that racing claims run in parallel) against the store `$fresh` opens:
/// `store_contract!(fresh_sqlite);` with `#[macro_use] mod contract;` at
/// the test crate's root. `store_contract!(fresh, skip_unless = ready);`
/// runs a check only when `ready()` is true (a store that needs a server
/// the machine may not have; `ready` says why it skips).
macro_rules! store_contract {
    ($fresh:path) => {
        store_contract!($fresh, skip_unless = crate::contract::always_ready);
    };
    ($fresh:path, skip_unless = $ready:path) => {
        store_contract!(@checks $fresh, $ready;
            a_submission_moves_through_its_states,
            a_step_for_an_entry_the_store_does_not_hold_is_an_error,
            unfinished_and_finished_entries_are_listed_page_by_page_oldest_first,
            the_unfinished_guard_refuses_an_identical_unfinished_request_and_records_nothing,
            the_unfinished_guard_lets_a_request_through_once_its_entry_has_finished,
            the_again_guard_records_a_second_identical_entry,
            the_once_guard_lets_the_first_claim_of_a_key_through,
            the_once_guard_refuses_a_key_whose_newest_entry_may_be_or_was_paid_for,
            the_once_guard_lets_a_key_through_whose_newest_entry_was_not_sent,
            the_once_guard_lets_a_failed_key_through_only_with_retry_failed,
            the_once_guard_is_decided_by_the_newest_entry_of_the_key,
            concurrent_once_claims_of_one_key_from_many_handles_let_exactly_one_through,
            concurrent_unfinished_claims_of_one_key_from_many_handles_let_exactly_one_through,
            concurrent_once_claims_of_different_keys_all_go_through,
            a_claim_records_the_job_the_billing_and_the_lease_of_its_intent,
            an_outcome_records_the_reported_cost,
            latest_with_request_sees_the_newest_entry_in_any_state,
            latest_with_request_of_an_unknown_key_is_none,
            take_over_never_returns_an_entry_whose_lease_lasts,
            take_over_returns_entries_whose_lease_ended_now_held_by_the_new_owner,
            take_over_returns_unfinished_entries_of_the_run_that_no_one_holds,
            take_over_leaves_finished_entries_and_other_runs_alone,
            take_over_returns_at_most_limit_entries_oldest_first,
            concurrent_take_overs_never_return_the_same_entry,
            renew_leases_keeps_an_entry_from_being_taken_over,
            renew_leases_extends_only_the_unfinished_entries_of_that_owner,
            release_leases_makes_the_entries_available_at_once,
            run_entries_lists_every_entry_of_the_run_page_by_page_oldest_first,
            learned_prices_average_cost_per_multiplier_for_each_billing_key,
            learned_prices_skip_entries_without_a_cost_or_a_billing,
            learned_prices_skip_tasks_that_failed,
            learned_prices_count_a_task_whose_outcome_was_recorded_twice_once,
        );
    };
    (@checks $fresh:path, $ready:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                if !$ready() {
                    return;
                }
                crate::contract::$check(&$fresh).await
            }
        )*
    };
}

/// The `skip_unless` of a store every machine can open: never skips.
pub fn always_ready() -> bool {
    true
}

// ---- helpers ------------------------------------------------------------

/// An intent whose request key is `request` (no job, billing or lease).
pub fn intent(request: &str) -> Intent {
    Intent {
        model: "m".into(),
        spec: "s".into(),
        request: request.into(),
        endpoint: "/v1/x".into(),
        ..Default::default()
    }
}

/// The request key of job `job` of run `run` in these checks.
pub fn job_key(run: &str, job: &str) -> String {
    format!("{run}/{job}")
}

/// An intent for job `job` of run `run`, leased to `owner` for `seconds`.
pub fn job_intent(run: &str, job: &str, owner: &str, seconds: u32) -> Intent {
    Intent {
        job: Some(JobRef {
            run: run.into(),
            job: job.into(),
        }),
        lease: Some(Lease {
            owner: owner.into(),
            seconds,
        }),
        ..intent(&job_key(run, job))
    }
}

/// An intent billed as `key` times `multiplier`.
pub fn billed_intent(request: &str, key: &str, multiplier: u64) -> Intent {
    Intent {
        billing: Some(Billing {
            key: key.into(),
            multiplier,
        }),
        ..intent(request)
    }
}

/// The entry id of a claim that must go through.
pub async fn claimed(store: &dyn TaskStore, intent: Intent, guard: Guard) -> String {
    match store.claim(intent, guard).await.expect("claim") {
        Claim::Claimed(entry) => entry,
        Claim::Duplicate(entry) => panic!("unexpected duplicate {entry:?}"),
    }
}

/// The entry a claim that must be refused names.
pub async fn refused(store: &dyn TaskStore, intent: Intent, guard: Guard) -> Entry {
    match store.claim(intent, guard).await.expect("claim") {
        Claim::Claimed(entry) => panic!("unexpected claim {entry}"),
        Claim::Duplicate(entry) => *entry,
    }
}

async fn record(store: &dyn TaskStore, entry: &str, step: Step) {
    store.record(entry.to_owned(), step).await.expect("record");
}

fn outcome(status: &str, cost: Option<f64>) -> Step {
    Step::Outcome {
        status: status.into(),
        videos: Vec::new(),
        error: (status != "succeeded").then(|| "it failed".to_owned()),
        cost,
    }
}

/// Records the steps that take a new (unknown) entry to `state`, with
/// `cost` in its outcome, if it has one.
pub async fn move_to(store: &dyn TaskStore, entry: &str, state: State, cost: Option<f64>) {
    let submitted = || Step::Submitted {
        task_id: format!("task-{entry}"),
    };
    match state {
        State::Unknown => {}
        State::NotSent => {
            record(
                store,
                entry,
                Step::NotSent {
                    reason: "402".into(),
                },
            )
            .await;
        }
        State::Running => record(store, entry, submitted()).await,
        State::Succeeded | State::Downloaded | State::Failed => {
            record(store, entry, submitted()).await;
            let status = if state == State::Failed {
                "failed"
            } else {
                "succeeded"
            };
            record(store, entry, outcome(status, cost)).await;
            if state == State::Downloaded {
                record(
                    store,
                    entry,
                    Step::Downloaded {
                        paths: vec![format!("videos/{entry}-0.mp4")],
                    },
                )
                .await;
            }
        }
    }
}

/// A new entry for `intent` (claimed with `Guard::Again`) moved to `state`.
pub async fn entry_in(store: &dyn TaskStore, intent: Intent, state: State) -> String {
    let entry = claimed(store, intent, Guard::Again).await;
    move_to(store, &entry, state, None).await;
    entry
}

async fn latest(store: &dyn TaskStore, request: &str) -> Entry {
    store
        .latest_with_request(request.to_owned())
        .await
        .expect("latest")
        .expect("an entry with the key")
}

fn ids(entries: &[Entry]) -> Vec<String> {
    entries.iter().map(|entry| entry.entry.clone()).collect()
}

async fn take_over(store: &dyn TaskStore, run: &str, owner: &str, limit: usize) -> Vec<Entry> {
    store
        .take_over(run.into(), owner.into(), 60, limit)
        .await
        .expect("take over")
}

// ---- the basics ---------------------------------------------------------

pub async fn a_submission_moves_through_its_states(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let entry = claimed(store, intent("r"), Guard::Unfinished).await;
    let mut states = vec![latest(store, "r").await.state];
    for step in [
        Step::Submitted {
            task_id: "task_1".into(),
        },
        outcome("succeeded", None),
        Step::Downloaded {
            paths: vec!["videos/a.mp4".into()],
        },
    ] {
        record(store, &entry, step).await;
        states.push(latest(store, "r").await.state);
    }
    assert_eq!(
        states,
        [
            State::Unknown,
            State::Running,
            State::Succeeded,
            State::Downloaded
        ]
    );
    let found = store
        .find_by_task_id("task_1".into())
        .await
        .expect("find")
        .expect("by task id");
    assert_eq!(
        (found.entry, found.paths),
        (entry, vec!["videos/a.mp4".to_owned()])
    );
}

pub async fn a_step_for_an_entry_the_store_does_not_hold_is_an_error(fresh: &Fresh) {
    let subject = fresh().await;
    let result = subject
        .store
        .record(
            "no-such-entry".into(),
            Step::Submitted {
                task_id: "t".into(),
            },
        )
        .await;
    assert!(
        matches!(result, Err(LedgerError::NoSuchEntry { .. })),
        "{result:?}"
    );
}

pub async fn unfinished_and_finished_entries_are_listed_page_by_page_oldest_first(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let mut entries = Vec::new();
    for index in 0..7 {
        entries.push(claimed(store, intent(&format!("r{index}")), Guard::Unfinished).await);
    }
    move_to(store, &entries[3], State::NotSent, None).await;
    move_to(store, &entries[5], State::Downloaded, None).await;
    let first = store
        .unfinished(StateFilter::Any, PageRequest::first(3))
        .await
        .expect("page");
    let second = store
        .unfinished(
            StateFilter::Any,
            PageRequest {
                after: first.next,
                limit: 3,
            },
        )
        .await
        .expect("page");
    assert_eq!((first.entries.len(), second.entries.len()), (3, 2));
    assert_eq!(second.next, None);
    let listed: Vec<String> = ids(&first.entries)
        .into_iter()
        .chain(ids(&second.entries))
        .collect();
    let expected: Vec<String> = [0, 1, 2, 4, 6]
        .into_iter()
        .map(|index| entries[index].clone())
        .collect();
    assert_eq!(listed, expected);
    let finished = store
        .finished(StateFilter::Any, Some(10), PageRequest::first(10))
        .await
        .expect("finished");
    assert_eq!(
        ids(&finished.entries),
        [entries[3].clone(), entries[5].clone()]
    );
    assert_eq!(
        store.count_finished(StateFilter::Any).await.expect("count"),
        2
    );
}

// ---- claim and its guards -----------------------------------------------

pub async fn the_unfinished_guard_refuses_an_identical_unfinished_request_and_records_nothing(
    fresh: &Fresh,
) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let first = claimed(store, intent("r"), Guard::Unfinished).await;
    move_to(store, &first, State::Running, None).await;
    let duplicate = refused(store, intent("r"), Guard::Unfinished).await;
    assert_eq!(duplicate.entry, first);
    let all = store
        .unfinished(StateFilter::Any, PageRequest::first(10))
        .await
        .expect("list");
    assert_eq!(ids(&all.entries), [first]);
}

pub async fn the_unfinished_guard_lets_a_request_through_once_its_entry_has_finished(
    fresh: &Fresh,
) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    for (index, state) in [State::Downloaded, State::Failed, State::NotSent]
        .into_iter()
        .enumerate()
    {
        let request = format!("r{index}");
        entry_in(store, intent(&request), state).await;
        claimed(store, intent(&request), Guard::Unfinished).await;
    }
}

pub async fn the_again_guard_records_a_second_identical_entry(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let first = claimed(store, intent("r"), Guard::Unfinished).await;
    let second = claimed(store, intent("r"), Guard::Again).await;
    assert_ne!(first, second);
    assert_eq!(latest(store, "r").await.entry, second);
}

pub async fn the_once_guard_lets_the_first_claim_of_a_key_through(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let entry = claimed(
        store,
        intent("r"),
        Guard::Once {
            retry_failed: false,
        },
    )
    .await;
    assert_eq!(latest(store, "r").await.entry, entry);
}

pub async fn the_once_guard_refuses_a_key_whose_newest_entry_may_be_or_was_paid_for(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    for state in [
        State::Unknown,
        State::Running,
        State::Succeeded,
        State::Downloaded,
    ] {
        let request = format!("r-{}", state.name());
        let entry = entry_in(store, intent(&request), state).await;
        for retry_failed in [false, true] {
            let duplicate = refused(store, intent(&request), Guard::Once { retry_failed }).await;
            assert_eq!(
                (duplicate.entry.as_str(), duplicate.state),
                (entry.as_str(), state)
            );
        }
        assert_eq!(latest(store, &request).await.entry, entry, "nothing new");
    }
}

pub async fn the_once_guard_lets_a_key_through_whose_newest_entry_was_not_sent(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    entry_in(store, intent("r"), State::NotSent).await;
    let entry = claimed(
        store,
        intent("r"),
        Guard::Once {
            retry_failed: false,
        },
    )
    .await;
    assert_eq!(latest(store, "r").await.entry, entry);
}

pub async fn the_once_guard_lets_a_failed_key_through_only_with_retry_failed(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let failed = entry_in(store, intent("r"), State::Failed).await;
    let duplicate = refused(
        store,
        intent("r"),
        Guard::Once {
            retry_failed: false,
        },
    )
    .await;
    assert_eq!(
        (duplicate.entry.as_str(), duplicate.state),
        (failed.as_str(), State::Failed)
    );
    let retried = claimed(store, intent("r"), Guard::Once { retry_failed: true }).await;
    assert_eq!(latest(store, "r").await.entry, retried);
}

pub async fn the_once_guard_is_decided_by_the_newest_entry_of_the_key(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    // An older entry that was paid for does not stop a claim whose newest
    // entry was not sent…
    entry_in(store, intent("a"), State::Downloaded).await;
    entry_in(store, intent("a"), State::NotSent).await;
    claimed(
        store,
        intent("a"),
        Guard::Once {
            retry_failed: false,
        },
    )
    .await;
    // …and an older entry that was not sent does not let one through whose
    // newest entry runs.
    entry_in(store, intent("b"), State::NotSent).await;
    let running = entry_in(store, intent("b"), State::Running).await;
    let duplicate = refused(store, intent("b"), Guard::Once { retry_failed: true }).await;
    assert_eq!(duplicate.entry, running);
}

async fn race_claims(fresh: &Fresh, guard: Guard) {
    const CLAIMERS: usize = 12;
    let subject = fresh().await;
    let barrier = Arc::new(tokio::sync::Barrier::new(CLAIMERS));
    let mut claims = Vec::new();
    for _ in 0..CLAIMERS {
        let store = (subject.open_another)().await;
        let barrier = Arc::clone(&barrier);
        claims.push(tokio::spawn(async move {
            barrier.wait().await;
            store.claim(intent("same"), guard).await.expect("claim")
        }));
    }
    let mut winners = Vec::new();
    let mut named = BTreeSet::new();
    for claim in claims {
        match claim.await.expect("joined") {
            Claim::Claimed(entry) => winners.push(entry),
            Claim::Duplicate(entry) => {
                named.insert(entry.entry);
            }
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert!(
        named.iter().all(|entry| *entry == winners[0]),
        "every duplicate names the winner: {named:?}"
    );
    let all = subject
        .store
        .unfinished(StateFilter::Any, PageRequest::first(100))
        .await
        .expect("list");
    assert_eq!(ids(&all.entries), winners);
}

pub async fn concurrent_once_claims_of_one_key_from_many_handles_let_exactly_one_through(
    fresh: &Fresh,
) {
    race_claims(
        fresh,
        Guard::Once {
            retry_failed: false,
        },
    )
    .await;
}

pub async fn concurrent_unfinished_claims_of_one_key_from_many_handles_let_exactly_one_through(
    fresh: &Fresh,
) {
    race_claims(fresh, Guard::Unfinished).await;
}

pub async fn concurrent_once_claims_of_different_keys_all_go_through(fresh: &Fresh) {
    const CLAIMERS: usize = 12;
    let subject = fresh().await;
    let barrier = Arc::new(tokio::sync::Barrier::new(CLAIMERS));
    let mut claims = Vec::new();
    for claimer in 0..CLAIMERS {
        let store = (subject.open_another)().await;
        let barrier = Arc::clone(&barrier);
        claims.push(tokio::spawn(async move {
            barrier.wait().await;
            let intent = job_intent("run", &format!("job-{claimer}"), "worker", 60);
            claimed(
                store.as_ref(),
                intent,
                Guard::Once {
                    retry_failed: false,
                },
            )
            .await
        }));
    }
    let mut entries = BTreeSet::new();
    for claim in claims {
        entries.insert(claim.await.expect("joined"));
    }
    assert_eq!(entries.len(), CLAIMERS, "entry ids are unique");
    let run = all_run_entries(subject.store.as_ref(), "run")
        .await
        .expect("run");
    assert_eq!(
        run.iter()
            .map(|entry| entry.entry.clone())
            .collect::<BTreeSet<_>>(),
        entries
    );
}

pub async fn a_claim_records_the_job_the_billing_and_the_lease_of_its_intent(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let intent = Intent {
        billing: Some(Billing {
            key: "model@720p".into(),
            multiplier: 2,
        }),
        ..job_intent("nightly", "job-1", "worker-a", 60)
    };
    claimed(store, intent, Guard::Once { retry_failed: true }).await;
    let entry = latest(store, &job_key("nightly", "job-1")).await;
    assert_eq!(
        entry.job,
        Some(JobRef {
            run: "nightly".into(),
            job: "job-1".into()
        })
    );
    assert_eq!(
        entry.billing,
        Some(Billing {
            key: "model@720p".into(),
            multiplier: 2
        })
    );
    assert_eq!(entry.owner.as_deref(), Some("worker-a"));
    let until = entry.lease_until.expect("a lease");
    assert!(
        (entry.submitted_at + 60..=entry.submitted_at + 61).contains(&until),
        "lease until {until}, taken at {}",
        entry.submitted_at
    );
    assert_eq!(entry.cost, None);
}

pub async fn an_outcome_records_the_reported_cost(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let entry = claimed(store, intent("r"), Guard::Unfinished).await;
    move_to(store, &entry, State::Succeeded, Some(0.15)).await;
    assert_eq!(latest(store, "r").await.cost, Some(0.15));
}

// ---- latest_with_request ------------------------------------------------

pub async fn latest_with_request_sees_the_newest_entry_in_any_state(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    entry_in(store, intent("r"), State::Running).await;
    let newest = entry_in(store, intent("r"), State::Downloaded).await;
    entry_in(store, intent("other"), State::Running).await;
    let found = latest(store, "r").await;
    assert_eq!((found.entry, found.state), (newest, State::Downloaded));
}

pub async fn latest_with_request_of_an_unknown_key_is_none(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    entry_in(store, intent("r"), State::Running).await;
    let found = store
        .latest_with_request("never-claimed".into())
        .await
        .expect("latest");
    assert_eq!(found, None);
}

// ---- leases and take-over -----------------------------------------------

pub async fn take_over_never_returns_an_entry_whose_lease_lasts(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let lasting = claimed(store, job_intent("run", "a", "alive", 60), Guard::Again).await;
    let ended = claimed(store, job_intent("run", "b", "dead", 0), Guard::Again).await;
    move_to(store, &lasting, State::Running, None).await;
    move_to(store, &ended, State::Running, None).await;
    tokio::time::sleep(LEASES_END).await;
    let taken = take_over(store, "run", "taker", 10).await;
    assert_eq!(ids(&taken), [ended]);
    assert!(take_over(store, "run", "another", 10).await.is_empty());
}

pub async fn take_over_returns_entries_whose_lease_ended_now_held_by_the_new_owner(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let entry = claimed(store, job_intent("run", "a", "dead", 0), Guard::Again).await;
    tokio::time::sleep(LEASES_END).await;
    let taken = take_over(store, "run", "taker", 10).await;
    assert_eq!(ids(&taken), [entry]);
    let now_held = &taken[0];
    assert_eq!(now_held.owner.as_deref(), Some("taker"));
    assert!(now_held.lease_until.expect("a lease") >= now_held.submitted_at + 60);
    let stored = latest(store, &job_key("run", "a")).await;
    assert_eq!(
        (stored.owner, stored.lease_until),
        (now_held.owner.clone(), now_held.lease_until)
    );
}

pub async fn take_over_returns_unfinished_entries_of_the_run_that_no_one_holds(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let unheld = Intent {
        lease: None,
        ..job_intent("run", "a", "nobody", 60)
    };
    let entry = claimed(store, unheld, Guard::Again).await;
    let taken = take_over(store, "run", "taker", 10).await;
    assert_eq!(ids(&taken), [entry]);
    assert_eq!(taken[0].owner.as_deref(), Some("taker"));
}

pub async fn take_over_leaves_finished_entries_and_other_runs_alone(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let mut expected = Vec::new();
    for (index, state) in State::ALL.into_iter().enumerate() {
        let entry = claimed(
            store,
            job_intent("run", &format!("job-{index}"), "dead", 0),
            Guard::Again,
        )
        .await;
        move_to(store, &entry, state, None).await;
        if state.is_unfinished() {
            expected.push(entry);
        }
        let elsewhere = claimed(
            store,
            job_intent("other-run", &format!("job-{index}"), "dead", 0),
            Guard::Again,
        )
        .await;
        move_to(store, &elsewhere, state, None).await;
    }
    // An entry without a job is no run's.
    entry_in(store, intent("single"), State::Running).await;
    tokio::time::sleep(LEASES_END).await;
    let taken = take_over(store, "run", "taker", 100).await;
    assert_eq!(ids(&taken), expected);
}

pub async fn take_over_returns_at_most_limit_entries_oldest_first(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let mut entries = Vec::new();
    for index in 0..5 {
        entries.push(
            claimed(
                store,
                job_intent("run", &format!("job-{index}"), "dead", 0),
                Guard::Again,
            )
            .await,
        );
    }
    tokio::time::sleep(LEASES_END).await;
    let first = take_over(store, "run", "taker-1", 3).await;
    let second = take_over(store, "run", "taker-2", 3).await;
    assert_eq!(ids(&first), entries[..3]);
    assert_eq!(ids(&second), entries[3..]);
}

pub async fn concurrent_take_overs_never_return_the_same_entry(fresh: &Fresh) {
    const ENTRIES: usize = 24;
    const TAKERS: usize = 8;
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let mut entries = BTreeSet::new();
    for index in 0..ENTRIES {
        entries.insert(
            claimed(
                store,
                job_intent("run", &format!("job-{index}"), "dead", 0),
                Guard::Again,
            )
            .await,
        );
    }
    tokio::time::sleep(LEASES_END).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(TAKERS));
    let mut takers = Vec::new();
    for taker in 0..TAKERS {
        let store = (subject.open_another)().await;
        let barrier = Arc::clone(&barrier);
        takers.push(tokio::spawn(async move {
            barrier.wait().await;
            let owner = format!("taker-{taker}");
            let taken = take_over(store.as_ref(), "run", &owner, 5).await;
            assert!(
                taken
                    .iter()
                    .all(|entry| entry.owner.as_ref() == Some(&owner))
            );
            ids(&taken)
        }));
    }
    let mut taken = Vec::new();
    for taker in takers {
        taken.extend(taker.await.expect("joined"));
    }
    let distinct: BTreeSet<String> = taken.iter().cloned().collect();
    assert_eq!(distinct.len(), taken.len(), "taken twice: {taken:?}");
    // 8 take-overs of up to 5 entries each had room for all 24.
    assert_eq!(distinct, entries);
}

pub async fn renew_leases_keeps_an_entry_from_being_taken_over(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    claimed(store, job_intent("run", "a", "worker", 0), Guard::Again).await;
    let renewed = store
        .renew_leases("worker".into(), 60)
        .await
        .expect("renew");
    assert_eq!(renewed, 1);
    tokio::time::sleep(LEASES_END).await;
    assert!(take_over(store, "run", "taker", 10).await.is_empty());
}

pub async fn renew_leases_extends_only_the_unfinished_entries_of_that_owner(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let running = claimed(store, job_intent("run", "a", "worker", 0), Guard::Again).await;
    move_to(store, &running, State::Running, None).await;
    let done = claimed(store, job_intent("run", "b", "worker", 0), Guard::Again).await;
    move_to(store, &done, State::Downloaded, None).await;
    let others = claimed(store, job_intent("run", "c", "other", 0), Guard::Again).await;
    let renewed = store
        .renew_leases("worker".into(), 60)
        .await
        .expect("renew");
    assert_eq!(renewed, 1);
    tokio::time::sleep(LEASES_END).await;
    let taken = take_over(store, "run", "taker", 10).await;
    assert_eq!(ids(&taken), [others]);
}

pub async fn release_leases_makes_the_entries_available_at_once(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let first = claimed(store, job_intent("run", "a", "worker", 60), Guard::Again).await;
    let second = claimed(store, job_intent("run", "b", "worker", 60), Guard::Again).await;
    claimed(store, job_intent("run", "c", "other", 60), Guard::Again).await;
    let released = store
        .release_leases("worker".into())
        .await
        .expect("release");
    assert_eq!(released, 2);
    let taken = take_over(store, "run", "taker", 10).await;
    assert_eq!(ids(&taken), [first, second]);
    assert_eq!(
        store
            .renew_leases("worker".into(), 60)
            .await
            .expect("renew"),
        0,
        "a released lease is not the worker's any more"
    );
}

// ---- run listing ----------------------------------------------------------

pub async fn run_entries_lists_every_entry_of_the_run_page_by_page_oldest_first(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let mut expected = Vec::new();
    for (index, state) in State::ALL.into_iter().enumerate() {
        let entry = claimed(
            store,
            job_intent("run", &format!("job-{index}"), "worker", 60),
            Guard::Again,
        )
        .await;
        move_to(store, &entry, state, None).await;
        expected.push(entry);
        claimed(
            store,
            job_intent("other-run", &format!("job-{index}"), "worker", 60),
            Guard::Again,
        )
        .await;
        entry_in(store, intent(&format!("single-{index}")), state).await;
    }
    let first = store
        .run_entries("run".into(), PageRequest::first(4))
        .await
        .expect("page");
    assert_eq!(first.entries.len(), 4);
    let second = store
        .run_entries(
            "run".into(),
            PageRequest {
                after: first.next,
                limit: 4,
            },
        )
        .await
        .expect("page");
    assert_eq!(second.next, None);
    let listed: Vec<String> = ids(&first.entries)
        .into_iter()
        .chain(ids(&second.entries))
        .collect();
    assert_eq!(listed, expected);
    let all = all_run_entries(store, "run").await.expect("all");
    assert_eq!(ids(&all), expected);
    assert!(
        all.iter()
            .all(|entry| entry.job.as_ref().is_some_and(|job| job.run == "run"))
    );
}

// ---- learned prices -------------------------------------------------------

async fn priced(store: &dyn TaskStore, intent: Intent, state: State, cost: Option<f64>) {
    let entry = claimed(store, intent, Guard::Again).await;
    move_to(store, &entry, state, cost).await;
}

fn assert_prices(prices: &[LearnedPrice], expected: &[(&str, f64, u64)]) {
    assert_eq!(prices.len(), expected.len(), "{prices:?}");
    for (price, (key, amount, tasks)) in prices.iter().zip(expected) {
        assert_eq!(
            (price.key.as_str(), price.tasks),
            (*key, *tasks),
            "{prices:?}"
        );
        assert!(
            (price.price - amount).abs() < 1e-9,
            "{key}: {} instead of {amount}",
            price.price
        );
    }
}

pub async fn learned_prices_average_cost_per_multiplier_for_each_billing_key(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    priced(
        store,
        billed_intent("a", "zeta@1080p", 1),
        State::Downloaded,
        Some(0.5),
    )
    .await;
    priced(
        store,
        billed_intent("b", "alpha@720p", 2),
        State::Succeeded,
        Some(0.4),
    )
    .await;
    priced(
        store,
        billed_intent("c", "alpha@720p", 1),
        State::Downloaded,
        Some(0.3),
    )
    .await;
    let prices = store.learned_prices().await.expect("prices");
    // alpha: (0.4 / 2 + 0.3 / 1) / 2 = 0.25.
    assert_prices(&prices, &[("alpha@720p", 0.25, 2), ("zeta@1080p", 0.5, 1)]);
}

pub async fn learned_prices_skip_entries_without_a_cost_or_a_billing(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    priced(
        store,
        billed_intent("a", "alpha@720p", 1),
        State::Downloaded,
        Some(0.3),
    )
    .await;
    priced(
        store,
        billed_intent("b", "alpha@720p", 1),
        State::Downloaded,
        None,
    )
    .await;
    priced(
        store,
        billed_intent("c", "beta@720p", 1),
        State::Running,
        None,
    )
    .await;
    priced(store, intent("d"), State::Downloaded, Some(9.0)).await;
    let prices = store.learned_prices().await.expect("prices");
    assert_prices(&prices, &[("alpha@720p", 0.3, 1)]);
}

pub async fn learned_prices_skip_tasks_that_failed(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    priced(
        store,
        billed_intent("a", "alpha@720p", 1),
        State::Downloaded,
        Some(0.3),
    )
    .await;
    // A failed task's reported cost (often 0, a refund) is not the price.
    priced(
        store,
        billed_intent("b", "alpha@720p", 1),
        State::Failed,
        Some(0.0),
    )
    .await;
    let prices = store.learned_prices().await.expect("prices");
    assert_prices(&prices, &[("alpha@720p", 0.3, 1)]);
}

pub async fn learned_prices_count_a_task_whose_outcome_was_recorded_twice_once(fresh: &Fresh) {
    let subject = fresh().await;
    let store = subject.store.as_ref();
    let entry = claimed(store, billed_intent("a", "alpha@720p", 2), Guard::Again).await;
    move_to(store, &entry, State::Succeeded, Some(0.5)).await;
    // The poller and a callback both saw it end; the second report wins.
    record(store, &entry, outcome("succeeded", Some(0.6))).await;
    let prices = store.learned_prices().await.expect("prices");
    assert_prices(&prices, &[("alpha@720p", 0.3, 1)]);
}
