//! The workflow with a callback URL (`SubmitOptions::webhook`): the URL
//! goes in the body field the spec declares, after validation and before
//! the claim, so the body stored for an idempotent resend holds it and a
//! resend sends the same bytes.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use vidspec_core::{Registry, Source};
use vidspec_journal::{Ledger, TaskStore};
use vidspec_sim::{Sim, SimConfig};
use vidspec_transport::{ApiKey, Client, ClientOptions};
use vidspec_workflow::{SubmitOptions, Workflow, WorkflowError};

/// The made-up family `tests/specs/idempotent`, its endpoint declaring a
/// callback field too (or not).
fn registry(webhook: bool) -> Registry {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/specs/idempotent");
    let text = std::fs::read_to_string(folder.join("idempotent.yaml")).expect("the spec reads");
    let text = if webhook {
        text.replace(
            "  idempotency: {header: Idempotency-Key}\n",
            "  idempotency: {header: Idempotency-Key}\n  webhook: {field: webhook, callback: callback}\n",
        )
    } else {
        text
    };
    let mut sources = Registry::embedded_sources();
    sources.retain(|source| source.stem() == "vocabulary");
    sources.push(Source::new("idempotent.yaml", text));
    Registry::from_sources(sources).unwrap_or_else(|errors| panic!("{errors}"))
}

async fn workflow(registry: Registry, sim: &Sim, dir: &Path) -> (Workflow, Ledger) {
    let client = Client::new(
        ApiKey::new("sim-key"),
        ClientOptions {
            base_url: sim.base_url(),
            allow_insecure_http: true,
            requests_per_second: 0.0,
            timeout: Duration::from_secs(10),
            ..ClientOptions::default()
        },
    )
    .expect("client");
    let ledger = Ledger::open(dir.join("ledger.sqlite3")).expect("ledger");
    (
        Workflow::new(registry, client, Arc::new(ledger.clone())),
        ledger,
    )
}

async fn sim() -> Sim {
    Sim::start(
        "127.0.0.1:0".parse().expect("loopback"),
        SimConfig {
            speed: 1000.0,
            task_seconds: 2.0,
            ..SimConfig::default()
        },
    )
    .await
    .expect("the simulator starts")
}

fn options(webhook: &str) -> SubmitOptions {
    let mut options = SubmitOptions::new();
    options.webhook = Some(url::Url::parse(webhook).expect("a URL"));
    options
}

#[tokio::test]
async fn a_keyed_entry_sent_with_a_callback_url_is_resent_with_the_same_body() {
    let sim = sim().await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (workflow, ledger) = workflow(registry(true), &sim, dir.path()).await;
    let request = json!({"model": "idempotent-1", "prompt": "a paper boat"});
    let submitted = workflow
        .submit(
            request,
            &options("http://127.0.0.1:9/hooks/abc"),
            &mut |_| {},
        )
        .await
        .expect("the submission is accepted");
    assert_eq!(
        submitted.plan.body()["webhook"],
        "http://127.0.0.1:9/hooks/abc"
    );
    let entry = TaskStore::find_by_task_id(&ledger, submitted.handle.id.clone())
        .await
        .expect("the ledger reads")
        .expect("the task is recorded");
    let stored: Value =
        serde_json::from_slice(entry.body.as_deref().expect("a keyed entry keeps its body"))
            .expect("JSON");
    assert_eq!(stored["webhook"], "http://127.0.0.1:9/hooks/abc");
    let resent = workflow
        .resend(&entry)
        .await
        .expect("the same bytes are resent");
    assert_eq!(
        resent.id, submitted.handle.id,
        "the gateway replays the task"
    );
    let stats = sim.stats();
    assert_eq!(stats.submits, 1, "one charge: {stats:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_callback_url_for_a_model_that_declares_none_is_refused_before_sending() {
    let sim = sim().await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (workflow, _ledger) = workflow(registry(false), &sim, dir.path()).await;
    let request = json!({"model": "idempotent-1", "prompt": "a paper boat"});
    let refused = workflow
        .submit(request, &options("https://example.com/hooks"), &mut |_| {})
        .await
        .map(|_| ());
    assert!(
        matches!(refused, Err(WorkflowError::Webhook(_))),
        "{refused:?}"
    );
    assert_eq!(sim.stats().submit_attempts, 0, "nothing was sent");
    sim.shutdown().await;
}
