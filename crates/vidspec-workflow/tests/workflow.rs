//! The workflow against the in-process simulator on loopback: what is
//! recorded at each step, the double-spend guard, and the cancel safety of
//! the submit step.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use vidspec_core::Registry;
use vidspec_journal::{Ledger, State, StateFilter, TaskStore, all_unfinished};
use vidspec_sim::{FaultTarget, Scripted, Sim, SimConfig};
use vidspec_transport::{ApiKey, Client, ClientOptions, WaitOptions};
use vidspec_workflow::{SubmitOptions, Workflow, WorkflowError};

const MODEL: &str = "Omni-Flash-Ext";

/// A fresh temporary folder (tempfile: a unique name, created exclusively),
/// kept: the test removes it.
fn temp_dir(label: &str) -> PathBuf {
    tempfile::Builder::new()
        .prefix(&format!("vidspec-workflow-{label}-"))
        .tempdir()
        .expect("temp dir")
        .keep()
}

struct Fixture {
    sim: Sim,
    workflow: Workflow,
    ledger: Ledger,
    dir: PathBuf,
}

async fn fixture(label: &str) -> Fixture {
    let config = SimConfig {
        speed: 1000.0,
        task_seconds: 1.0,
        ..SimConfig::default()
    };
    let sim = Sim::start("127.0.0.1:0".parse().expect("addr"), config)
        .await
        .expect("sim");
    let client = Client::new(
        ApiKey::parse("sim-key").expect("key"),
        ClientOptions {
            base_url: sim.base_url(),
            allow_insecure_http: true,
            ..ClientOptions::default()
        },
    )
    .expect("client");
    let dir = temp_dir(label);
    let ledger = Ledger::open(dir.join("ledger.sqlite3")).expect("ledger");
    let workflow = Workflow::new(Registry::embedded(), client, Arc::new(ledger.clone()));
    Fixture {
        sim,
        workflow,
        ledger,
        dir,
    }
}

fn request(prompt: &str) -> serde_json::Value {
    json!({"model": MODEL, "prompt": prompt})
}

async fn unfinished(ledger: &Ledger) -> Vec<vidspec_journal::Entry> {
    all_unfinished(ledger, StateFilter::Any)
        .await
        .expect("list")
}

#[tokio::test]
async fn a_valid_request_is_submitted_once_and_recorded_as_running_with_its_task_id() {
    let fixture = fixture("submit").await;
    let submitted = fixture
        .workflow
        .submit(request("a red kite"), &SubmitOptions::new(), &mut |_| {})
        .await
        .expect("submitted");
    let entries = unfinished(&fixture.ledger).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].state, State::Running);
    assert_eq!(
        entries[0].task_id.as_deref(),
        Some(submitted.handle.id.as_str())
    );
    assert_eq!(entries[0].entry, submitted.entry);
    assert_eq!(fixture.sim.stats().submits, 1);
    let outcome = fixture
        .workflow
        .wait(
            &submitted.entry,
            &submitted.handle,
            &WaitOptions::default(),
            |_| {},
        )
        .await
        .expect("finished");
    assert!(!outcome.videos().is_empty());
    let entry = TaskStore::find_by_task_id(&fixture.ledger, submitted.handle.id.clone())
        .await
        .expect("find")
        .expect("entry");
    assert_eq!(entry.state, State::Succeeded);
    fixture.sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&fixture.dir);
}

#[tokio::test]
async fn an_identical_unfinished_request_is_refused_before_anything_is_sent() {
    let fixture = fixture("duplicate").await;
    fixture
        .workflow
        .submit(request("the same kite"), &SubmitOptions::new(), &mut |_| {})
        .await
        .expect("first");
    let second = fixture
        .workflow
        .submit(request("the same kite"), &SubmitOptions::new(), &mut |_| {})
        .await;
    assert!(
        matches!(second, Err(WorkflowError::Duplicate { .. })),
        "{second:?}"
    );
    assert_eq!(fixture.sim.stats().submit_attempts, 1);
    let mut again = SubmitOptions::new();
    again.guard = vidspec_journal::Guard::Again;
    fixture
        .workflow
        .submit(request("the same kite"), &again, &mut |_| {})
        .await
        .expect("paid for again on purpose");
    assert_eq!(fixture.sim.stats().submits, 2);
    fixture.sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&fixture.dir);
}

#[tokio::test]
async fn an_invalid_request_is_refused_with_its_diagnostics_and_nothing_is_recorded() {
    let fixture = fixture("invalid").await;
    let refused = fixture
        .workflow
        .submit(json!({"model": MODEL}), &SubmitOptions::new(), &mut |_| {})
        .await;
    assert!(
        matches!(refused, Err(WorkflowError::Invalid { .. })),
        "{refused:?}"
    );
    assert!(unfinished(&fixture.ledger).await.is_empty());
    assert_eq!(fixture.sim.stats().submit_attempts, 0);
    fixture.sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&fixture.dir);
}

#[tokio::test]
async fn an_unknown_model_is_refused_naming_the_closest_known_id() {
    let fixture = fixture("unknown-model").await;
    let refused = fixture
        .workflow
        .submit(
            json!({"model": "omni-flash-ext", "prompt": "a kite"}),
            &SubmitOptions::new(),
            &mut |_| {},
        )
        .await;
    match refused {
        Err(WorkflowError::UnknownModel(error)) => {
            assert!(error.to_string().contains(MODEL), "{error}");
        }
        other => panic!("expected an unknown model, got {other:?}"),
    }
    fixture.sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&fixture.dir);
}

#[tokio::test]
async fn a_submit_future_dropped_after_the_gateway_received_the_body_still_records_the_task_id() {
    let fixture = fixture("cancel").await;
    // The gateway takes the body, then answers half a second later.
    fixture.sim.script(vec![Scripted::Slow {
        ms: 500,
        on: FaultTarget::Submits,
    }]);
    let options = SubmitOptions::new();
    let mut ignore = |_| {};
    let submit =
        fixture
            .workflow
            .submit(request("a kite dropped mid-flight"), &options, &mut ignore);
    let sim = &fixture.sim;
    let received = async {
        while sim.stats().submit_attempts == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    // Whichever finishes first, the other is dropped: the submit future is
    // dropped as soon as the simulator has the body.
    tokio::select! {
        _ = submit => panic!("the submit finished before the slow answer"),
        () = received => {}
    }
    let entries = unfinished(&fixture.ledger).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].state, State::Unknown, "not answered yet");
    let mut recorded = None;
    for _ in 0..400 {
        let entries = unfinished(&fixture.ledger).await;
        if let Some(task_id) = entries[0].task_id.clone() {
            recorded = Some((entries[0].state, task_id));
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (state, task_id) = recorded.expect("the answer was recorded after the future was dropped");
    assert_eq!(state, State::Running);
    assert!(task_id.starts_with("task_"), "{task_id}");
    assert_eq!(fixture.sim.stats().submits, 1);
    fixture.sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&fixture.dir);
}

#[tokio::test]
async fn an_unknown_entry_without_an_idempotency_key_is_not_resent() {
    let fixture = fixture("resend").await;
    let store: &dyn TaskStore = &fixture.ledger;
    let intent = vidspec_journal::Intent {
        model: MODEL.into(),
        spec: "s".into(),
        request: "r".into(),
        endpoint: "/v1/videos/generations".into(),
        download_dir: None,
        idempotency_key: None,
        body: None,
        ..Default::default()
    };
    store
        .claim(intent, vidspec_journal::Guard::Unfinished)
        .await
        .expect("claim");
    let entry = unfinished(&fixture.ledger).await.remove(0);
    let refused = fixture.workflow.resend(&entry).await;
    assert!(
        matches!(refused, Err(WorkflowError::NotResendable { .. })),
        "{refused:?}"
    );
    assert_eq!(fixture.sim.stats().submit_attempts, 0);
    fixture.sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&fixture.dir);
}

/// An `unknown` entry as a submit with an idempotency key leaves it when its
/// answer is lost: the key and the exact body bytes are stored.
async fn keyed_unknown_entry(fixture: &Fixture, body: Vec<u8>) -> vidspec_journal::Entry {
    let store: &dyn TaskStore = &fixture.ledger;
    let intent = vidspec_journal::Intent {
        model: MODEL.into(),
        spec: "s".into(),
        request: "r".into(),
        endpoint: "/v1/videos/generations".into(),
        download_dir: None,
        idempotency_key: Some("vidspec-key-1".into()),
        body: Some(body),
        ..Default::default()
    };
    store
        .claim(intent, vidspec_journal::Guard::Unfinished)
        .await
        .expect("claim");
    unfinished(&fixture.ledger).await.remove(0)
}

#[tokio::test]
async fn an_unknown_entry_with_an_idempotency_key_is_resent_with_the_same_body_and_recorded() {
    let fixture = fixture("resend-keyed").await;
    let plan = Registry::embedded()
        .model(MODEL)
        .expect("model")
        .prepare(request("a kite whose answer was lost"))
        .expect("valid");
    let body = serde_json::to_vec(plan.body()).expect("bytes");
    let entry = keyed_unknown_entry(&fixture, body).await;
    let handle = fixture.workflow.resend(&entry).await.expect("resent");
    let recorded = TaskStore::find_by_task_id(&fixture.ledger, handle.id.clone())
        .await
        .expect("find")
        .expect("recorded");
    assert_eq!(recorded.entry, entry.entry);
    assert_eq!(recorded.state, State::Running);
    assert_eq!(fixture.sim.stats().submits, 1);
    fixture.sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&fixture.dir);
}

#[tokio::test]
async fn a_stored_body_that_no_longer_prepares_to_the_same_bytes_is_not_resent() {
    let fixture = fixture("resend-changed").await;
    // Written with extra spaces: valid, but not the bytes the plan would send.
    let body = format!(r#"{{ "model": "{MODEL}", "prompt": "a kite" }}"#).into_bytes();
    let entry = keyed_unknown_entry(&fixture, body).await;
    let refused = fixture.workflow.resend(&entry).await;
    assert!(
        matches!(refused, Err(WorkflowError::NotResendable { .. })),
        "{refused:?}"
    );
    assert_eq!(fixture.sim.stats().submit_attempts, 0);
    fixture.sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&fixture.dir);
}
