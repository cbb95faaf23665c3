//! The workflow with an endpoint that honours idempotency keys (the made-up
//! family `tests/specs/idempotent`), against the simulator dropping the
//! connection after it received many of the submits: each logical
//! submission gets one key, stored in the ledger before sending, and ends
//! with a task id; the simulator creates (charges) one task each.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use vidspec_core::Registry;
use vidspec_journal::{Ledger, State, TaskStore};
use vidspec_sim::{FaultTarget, Faults, Sim, SimConfig};
use vidspec_transport::{ApiKey, Backoff, Client, ClientOptions};
use vidspec_workflow::{SubmitOptions, Workflow};

#[tokio::test]
async fn every_submission_through_the_workflow_ends_with_a_task_id_and_one_charge_while_answers_are_dropped()
 {
    const SUBMISSIONS: u64 = 12;
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/specs/idempotent");
    let registry = Registry::load_dir(&folder).unwrap_or_else(|errors| panic!("{errors}"));
    let sim = Sim::start(
        "127.0.0.1:0".parse().expect("loopback"),
        SimConfig {
            speed: 1000.0,
            task_seconds: 2.0,
            seed: 7,
            faults: Faults {
                drop_connection: 0.5,
                apply_to: FaultTarget::Submits,
                ..Faults::default()
            },
            ..SimConfig::default()
        },
    )
    .await
    .expect("the simulator starts");
    let client = Client::new(
        ApiKey::new("sim-key"),
        ClientOptions {
            base_url: sim.base_url(),
            allow_insecure_http: true,
            requests_per_second: 0.0,
            timeout: Duration::from_secs(10),
            idempotent_resend: Backoff {
                max_attempts: 32,
                ..Backoff::fast()
            },
            ..ClientOptions::default()
        },
    )
    .expect("client");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let ledger = Ledger::open(dir.path().join("ledger.sqlite3")).expect("ledger");
    let workflow = Workflow::new(registry, client, Arc::new(ledger.clone()));
    let mut tasks = Vec::new();
    for index in 0..SUBMISSIONS {
        let request =
            json!({"model": "idempotent-1", "prompt": format!("a paper boat, take {index}")});
        let submitted = workflow
            .submit(request, &SubmitOptions::new(), &mut |_| {})
            .await
            .unwrap_or_else(|error| panic!("submission {index}: {error}"));
        let key = submitted
            .idempotency_key
            .clone()
            .expect("the endpoint honours keys");
        let entry = TaskStore::find_by_task_id(&ledger, submitted.handle.id.clone())
            .await
            .expect("the ledger reads")
            .expect("the task is recorded");
        assert_eq!(entry.state, State::Running, "{entry:?}");
        assert_eq!(entry.idempotency_key.as_deref(), Some(key.as_str()));
        tasks.push(submitted.handle.id);
    }
    tasks.sort();
    tasks.dedup();
    let stats = sim.stats();
    assert_eq!(tasks.len() as u64, SUBMISSIONS, "one task id each");
    assert_eq!(stats.submits, SUBMISSIONS, "one charge each: {stats:?}");
    assert!(stats.faults_injected > 0, "answers were dropped: {stats:?}");
    sim.shutdown().await;
}
