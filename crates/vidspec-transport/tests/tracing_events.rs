//! Observability: spans per task and request, an event for every HTTP
//! attempt and every retry, and never the API key or a result URL's query in
//! any of them. One subscriber is installed for the whole test binary (a
//! thread-local one races with tracing's global callsite cache when tests run
//! in parallel); it records each span's and event's fields as a line.
//! Against the in-process simulator under paused tokio time, on loopback.

use std::sync::{Arc, Mutex, OnceLock};

use serde_json::json;
use vidspec_core::{Plan, Registry};
use vidspec_sim::{FaultTarget, Scripted, Sim, SimConfig};
use vidspec_transport::{ApiKey, Backoff, Client, ClientOptions, DownloadOptions, WaitOptions};

async fn sim() -> Sim {
    Sim::start(
        "127.0.0.1:0".parse().expect("loopback"),
        SimConfig {
            task_seconds: 600.0,
            ..SimConfig::default()
        },
    )
    .await
    .expect("the simulator starts")
}

fn client(sim: &Sim) -> Client {
    Client::new(
        ApiKey::new("sim-key"),
        ClientOptions {
            base_url: sim.base_url(),
            requests_per_second: 0.0,
            poll_backoff: Backoff::fast(),
            submit_backoff: Backoff::fast(),
            ..ClientOptions::default()
        },
    )
    .expect("client")
}

fn omni(prompt: &str) -> Plan {
    let registry = Registry::embedded();
    registry
        .model("Omni-Flash-Ext")
        .expect("model")
        .prepare(json!({"model": "Omni-Flash-Ext", "prompt": prompt}))
        .expect("valid")
}

/// The lines recorded so far by the binary's one subscriber.
fn recorded() -> Recorded {
    static RECORDED: OnceLock<Recorded> = OnceLock::new();
    RECORDED
        .get_or_init(|| {
            let recorded = Recorded::default();
            tracing::subscriber::set_global_default(recorded.clone())
                .expect("the only global subscriber");
            recorded
        })
        .clone()
}

/// What a `tracing` subscriber saw: each span's and event's fields as text.
#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<Vec<String>>>);

impl Recorded {
    fn lines(&self) -> Vec<String> {
        self.0.lock().map(|lines| lines.clone()).unwrap_or_default()
    }
}

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl tracing::Subscriber for Recorded {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut fields = Fields(format!("span {}", span.metadata().name()));
        span.record(&mut fields);
        let mut lines = self.0.lock().expect("log");
        lines.push(fields.0);
        tracing::span::Id::from_u64(u64::try_from(lines.len()).expect("small"))
    }

    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut fields = Fields("record".to_owned());
        values.record(&mut fields);
        self.0.lock().expect("log").push(fields.0);
    }

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Fields(format!("event {}", event.metadata().level()));
        event.record(&mut fields);
        self.0.lock().expect("log").push(fields.0);
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test(start_paused = true)]
async fn every_retry_is_a_tracing_event_naming_the_attempt_the_delay_and_what_failed() {
    let recorded = recorded();
    let sim = sim().await;
    let client = client(&sim);
    let handle = client.submit(&omni("a fox")).await.expect("submit");
    sim.script(vec![
        Scripted::RateLimited {
            retry_after: Some(1),
            on: FaultTarget::Polls,
        },
        Scripted::ServerError {
            on: FaultTarget::Polls,
        },
    ]);
    client
        .wait(&handle, &WaitOptions::default())
        .await
        .expect("wait");
    // Only this test's polls are faulted, so every retry recorded is its own.
    let lines = recorded.lines();
    let retried: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("retrying"))
        .collect();
    assert_eq!(retried.len(), 2, "{lines:#?}");
    assert!(
        retried[0].contains("attempt=1")
            && retried[0].contains("delay_ms=1000")
            && retried[0].contains("retry_after_ms=1000")
            && retried[0].contains("429"),
        "{}",
        retried[0]
    );
    assert!(
        retried[1].contains("attempt=2") && retried[1].contains("500"),
        "{}",
        retried[1]
    );
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("span task") && line.contains(&handle.id)),
        "{lines:#?}"
    );
    assert!(lines.iter().any(|line| line.starts_with("span submit")));
    assert!(lines.iter().any(|line| line.starts_with("span poll")));
    assert!(
        lines
            .iter()
            .any(|line| line.contains("HTTP attempt answered"))
    );
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn no_span_or_event_holds_the_key_or_a_result_urls_query() {
    let recorded = recorded();
    let sim = sim().await;
    let client = client(&sim);
    let handle = client.submit(&omni("a fox")).await.expect("submit");
    let outcome = client
        .wait(&handle, &WaitOptions::default())
        .await
        .expect("wait");
    let mut signed = outcome.clone();
    for video in &mut signed.snapshot.videos {
        video.url.push_str("?X-Signature=very-secret-token");
    }
    let mut sink = Vec::new();
    for video in signed.videos() {
        // The simulator ignores the query; the point is what gets logged.
        let _ = client
            .download_to(video, &mut sink, &DownloadOptions::default())
            .await;
    }
    let lines = recorded.lines();
    assert!(lines.iter().any(|line| line.starts_with("span download")));
    for line in &lines {
        assert!(!line.contains("sim-key"), "the key is logged: {line}");
        assert!(
            !line.contains("very-secret-token"),
            "a URL's query is logged: {line}"
        );
    }
    sim.shutdown().await;
}
