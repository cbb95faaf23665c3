//! Submits with idempotency keys against the simulator on loopback: with the
//! made-up spec that declares `Idempotency-Key` (`tests/specs/idempotent`),
//! a submit whose answer is lost is resent with the same key and body until
//! it ends with a task id, and the simulator counts one task (one charge) per
//! logical submission; without the declaration the same faults leave the
//! submit unresolved, never resent.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use vidspec_core::{Plan, Registry};
use vidspec_sim::{FaultTarget, Faults, Scripted, Sim, SimConfig};
use vidspec_transport::{
    ApiKey, Backoff, Client, ClientOptions, Error, IdempotencyKey, IdempotencyRefusal, Operation,
};

/// The made-up family whose endpoint declares `Idempotency-Key`.
fn idempotent_family() -> Registry {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/specs/idempotent");
    Registry::load_dir(&folder).unwrap_or_else(|errors| panic!("{}: {errors}", folder.display()))
}

fn idempotent_plan(registry: &Registry, prompt: &str) -> Plan {
    registry
        .model("idempotent-1")
        .expect("the made-up model")
        .prepare(json!({"model": "idempotent-1", "prompt": prompt}))
        .unwrap_or_else(|errors| panic!("{errors}"))
}

/// A seed model, whose spec declares no idempotency.
fn undeclared_plan(prompt: &str) -> Plan {
    Registry::embedded()
        .model("Omni-Flash-Ext")
        .expect("a seed model")
        .prepare(json!({"model": "Omni-Flash-Ext", "prompt": prompt}))
        .unwrap_or_else(|errors| panic!("{errors}"))
}

async fn start(faults: Faults) -> Sim {
    let config = SimConfig {
        speed: 1000.0,
        task_seconds: 2.0,
        seed: 13,
        faults,
        ..SimConfig::default()
    };
    Sim::start("127.0.0.1:0".parse().expect("loopback"), config)
        .await
        .expect("the simulator starts")
}

/// A client with millisecond backoffs and `attempts` keyed attempts (and a
/// generous timeout: the faults here drop connections, they do not stall).
fn client(sim: &Sim, attempts: u32) -> Client {
    Client::new(
        ApiKey::new("sim-key"),
        ClientOptions {
            base_url: sim.base_url(),
            requests_per_second: 0.0,
            timeout: Duration::from_secs(10),
            poll_backoff: Backoff::fast(),
            submit_backoff: Backoff::fast(),
            idempotent_resend: Backoff {
                max_attempts: attempts,
                ..Backoff::fast()
            },
            ..ClientOptions::default()
        },
    )
    .expect("client")
}

fn drops_on_submits(rate: f64) -> Faults {
    Faults {
        drop_connection: rate,
        apply_to: FaultTarget::Submits,
        ..Faults::default()
    }
}

#[tokio::test]
async fn every_logical_submission_ends_with_a_task_id_and_one_charge_while_answers_are_dropped() {
    const SUBMISSIONS: u64 = 20;
    let sim = start(drops_on_submits(0.4)).await;
    let client = client(&sim, 16);
    let registry = idempotent_family();
    let mut ids = Vec::new();
    for index in 0..SUBMISSIONS {
        let plan = idempotent_plan(&registry, &format!("a paper boat, take {index}"));
        let key = IdempotencyKey::new();
        let handle = client
            .submit_idempotent(&plan, &key)
            .await
            .unwrap_or_else(|error| panic!("submission {index}: {error}"));
        ids.push(handle.id);
    }
    ids.sort();
    ids.dedup();
    let stats = sim.stats();
    assert_eq!(ids.len() as u64, SUBMISSIONS, "one task id per submission");
    assert_eq!(
        stats.submits, SUBMISSIONS,
        "one task created (charged) per submission"
    );
    assert!(stats.faults_injected > 0, "answers were dropped: {stats:?}");
    assert!(
        stats.idempotent_replays > 0,
        "resends were replayed: {stats:?}"
    );
    assert_eq!(
        stats.submit_attempts,
        SUBMISSIONS + stats.idempotent_replays + stats.idempotency_refusals,
        "each resend was answered from the key, never run again: {stats:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn without_the_declaration_a_dropped_submit_stays_unresolved_and_is_never_resent() {
    let sim = start(Faults::default()).await;
    sim.script(vec![Scripted::Drop {
        on: FaultTarget::Submits,
    }]);
    let client = client(&sim, 16);
    let error = client
        .submit_idempotent(&undeclared_plan("a paper boat"), &IdempotencyKey::new())
        .await
        .expect_err("the answer was dropped");
    assert!(
        matches!(
            error,
            Error::NoAnswer {
                operation: Operation::Submit,
                ..
            }
        ),
        "{error:?}"
    );
    let stats = sim.stats();
    assert_eq!((stats.submit_attempts, stats.submits), (1, 1), "{stats:?}");
    assert_eq!(stats.idempotent_replays, 0, "no key was sent");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_500_and_a_503_unavailable_are_resent_and_create_one_task() {
    let sim = start(Faults::default()).await;
    sim.script(vec![
        Scripted::ServerError {
            on: FaultTarget::Submits,
        },
        Scripted::IdempotencyUnavailable {
            on: FaultTarget::Submits,
        },
    ]);
    let registry = idempotent_family();
    client(&sim, 4)
        .submit_idempotent(
            &idempotent_plan(&registry, "a boat"),
            &IdempotencyKey::new(),
        )
        .await
        .expect("resent until answered");
    let stats = sim.stats();
    assert_eq!((stats.submit_attempts, stats.submits), (3, 1), "{stats:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_submission_still_in_progress_is_resent_after_retry_after_and_gets_its_task() {
    let sim = start(Faults::default()).await;
    // The first attempt's answer comes after the client's 300 ms timeout;
    // the resend finds the key running (409, Retry-After: 1, perhaps twice),
    // and a later one gets the finished answer replayed.
    sim.script(vec![Scripted::Slow {
        ms: 1500,
        on: FaultTarget::Submits,
    }]);
    let registry = idempotent_family();
    let client = Client::new(
        ApiKey::new("sim-key"),
        ClientOptions {
            base_url: sim.base_url(),
            timeout: Duration::from_millis(300),
            idempotent_resend: Backoff {
                max_attempts: 6,
                ..Backoff::fast()
            },
            ..ClientOptions::default()
        },
    )
    .expect("client");
    client
        .submit_idempotent(
            &idempotent_plan(&registry, "a boat"),
            &IdempotencyKey::new(),
        )
        .await
        .expect("replayed once finished");
    let stats = sim.stats();
    assert_eq!(stats.submits, 1, "{stats:?}");
    assert!(
        stats.idempotency_refusals >= 1,
        "answered in progress: {stats:?}"
    );
    assert_eq!(stats.idempotent_replays, 1, "{stats:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_same_key_and_plan_sent_again_later_gets_the_same_task() {
    let sim = start(Faults::default()).await;
    let registry = idempotent_family();
    let plan = idempotent_plan(&registry, "a boat");
    let key = IdempotencyKey::new();
    let first = client(&sim, 4)
        .submit_idempotent(&plan, &key)
        .await
        .expect("sent");
    // As after a crash: a new client, the key read back from a ledger.
    let stored = IdempotencyKey::parse(key.as_str()).expect("a stored key");
    let again = client(&sim, 4)
        .submit_idempotent(&plan, &stored)
        .await
        .expect("replayed");
    assert_eq!(first.id, again.id);
    assert_eq!(sim.stats().submits, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_key_reused_with_another_body_is_an_error_saying_a_task_may_exist() {
    let sim = start(Faults::default()).await;
    let registry = idempotent_family();
    let key = IdempotencyKey::new();
    let client = client(&sim, 4);
    client
        .submit_idempotent(&idempotent_plan(&registry, "a boat"), &key)
        .await
        .expect("sent");
    let error = client
        .submit_idempotent(&idempotent_plan(&registry, "a ship"), &key)
        .await
        .expect_err("the key was used for another body");
    assert!(
        matches!(
            error,
            Error::IdempotencyConflict {
                refusal: IdempotencyRefusal::KeyReused,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("a task may exist"), "{error}");
    assert!(!error.is_retryable() && !error.is_safe_to_resubmit());
    let stats = sim.stats();
    assert_eq!((stats.submit_attempts, stats.submits), (2, 1), "{stats:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn an_indeterminate_result_stops_at_once_and_names_the_key_to_keep() {
    let sim = start(Faults::default()).await;
    sim.script(vec![Scripted::IdempotencyIndeterminate {
        on: FaultTarget::Submits,
    }]);
    let registry = idempotent_family();
    let key = IdempotencyKey::new();
    let error = client(&sim, 8)
        .submit_idempotent(&idempotent_plan(&registry, "a boat"), &key)
        .await
        .expect_err("the outcome is unknown");
    assert!(
        matches!(
            error,
            Error::IdempotencyConflict {
                refusal: IdempotencyRefusal::Indeterminate,
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains(key.as_str()), "{message}");
    assert!(message.contains("keep the key"), "{message}");
    assert_eq!(sim.stats().submit_attempts, 1, "never resent");
    sim.shutdown().await;
}

#[tokio::test]
async fn resends_stop_after_the_configured_attempts() {
    let sim = start(drops_on_submits(1.0)).await;
    let registry = idempotent_family();
    let error = client(&sim, 3)
        .submit_idempotent(
            &idempotent_plan(&registry, "a boat"),
            &IdempotencyKey::new(),
        )
        .await
        .expect_err("every answer dropped");
    assert!(matches!(error, Error::NoAnswer { .. }), "{error:?}");
    let stats = sim.stats();
    assert_eq!((stats.submit_attempts, stats.submits), (3, 1), "{stats:?}");
    sim.shutdown().await;
}
