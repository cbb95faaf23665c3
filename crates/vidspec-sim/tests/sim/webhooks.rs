//! Webhook callbacks: the bare task object POSTed to `<webhook>/callback` on
//! terminal states only, with the documented retries, duplicates and drops.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::routing::post;
use serde_json::{Value, json};
use vidspec_sim::{Sim, SimConfig, Stats};

use crate::common::{
    fast, get, omni, poll_until_finished, start, status_and_json, status_of, submit,
};

/// What the loopback receiver saw, and the statuses it answers with (200
/// once the script is used up).
#[derive(Default)]
struct Seen {
    calls: Vec<(String, Value)>,
    answers: VecDeque<u16>,
}

type Shared = Arc<Mutex<Seen>>;

async fn receive(State(seen): State<Shared>, uri: Uri, body: axum::body::Bytes) -> StatusCode {
    let mut seen = seen.lock().expect("the receiver's lock");
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    seen.calls.push((uri.path().to_owned(), value));
    let answer = seen.answers.pop_front().unwrap_or(200);
    StatusCode::from_u16(answer).unwrap_or(StatusCode::OK)
}

/// A loopback receiver answering `answers` in order, then 200; returns its
/// webhook base URL (`http://127.0.0.1:PORT/hook`) and what it saw.
async fn receiver(answers: &[u16]) -> (String, Shared) {
    let seen: Shared = Arc::new(Mutex::new(Seen {
        calls: Vec::new(),
        answers: answers.iter().copied().collect(),
    }));
    let app = Router::new()
        .route("/hook/callback", post(receive))
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr: SocketAddr = listener.local_addr().expect("a bound address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), seen)
}

fn calls(seen: &Shared) -> Vec<(String, Value)> {
    seen.lock().expect("the receiver's lock").calls.clone()
}

/// Waits (5 s at most) until the simulator's counters satisfy `done`.
async fn wait_for(sim: &Sim, done: impl Fn(&Stats) -> bool) -> Stats {
    for _ in 0..1000 {
        let stats = sim.stats();
        if done(&stats) {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the callbacks did not settle within 5 s: {:?}", sim.stats());
}

/// Settled: every callback is sent, dropped or given up, none pending.
fn settled(expected: u64) -> impl Fn(&Stats) -> bool {
    move |stats| {
        stats.callbacks_sent - stats.callback_retries - stats.callback_duplicates
            + stats.callbacks_dropped
            >= expected
            && stats.callbacks_sent >= stats.callback_retries + stats.callback_duplicates
    }
}

fn with_webhook(prompt: &str, webhook: &str) -> Value {
    let mut body = omni(prompt);
    body["webhook"] = json!(webhook);
    body
}

#[tokio::test]
async fn each_finished_task_gets_one_callback_with_its_bare_task_object() {
    let (webhook, seen) = receiver(&[]).await;
    let sim = start(fast()).await;
    let done = submit(
        &sim,
        "/v1/videos/generations",
        &with_webhook("a cat", &webhook),
    )
    .await;
    let failed = submit(
        &sim,
        "/v1/videos/generations",
        &with_webhook("FAIL", &webhook),
    )
    .await;
    wait_for(&sim, |stats| stats.callbacks_sent >= 2).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut calls = calls(&seen);
    calls.sort_by_key(|(_, body)| body["status"].as_str().map(str::to_owned));
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls.iter().all(|(path, _)| path == "/hook/callback"));
    let (completed, failure) = (&calls[0].1, &calls[1].1);
    assert_eq!(
        (&completed["id"], &completed["status"]),
        (&json!(done), &json!("completed"))
    );
    assert_eq!(
        (&failure["id"], &failure["status"]),
        (&json!(failed), &json!("failed"))
    );
    assert!(completed.get("code").is_none() && completed.get("data").is_none());
    let polled = poll_until_finished(&sim, &done).await;
    assert_eq!(completed, &polled["data"]);
}

#[tokio::test]
async fn no_callback_is_sent_while_the_task_runs() {
    let (webhook, seen) = receiver(&[]).await;
    let sim = start(SimConfig {
        task_seconds: 300.0,
        ..fast()
    })
    .await;
    let id = submit(
        &sim,
        "/v1/videos/generations",
        &with_webhook("a cat", &webhook),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let url = format!("{}/v1/tasks/{id}", sim.base_url());
    let (_, running) = status_and_json(get(&url).await).await;
    assert!(matches!(
        status_of(&running).as_str(),
        "submitted" | "processing"
    ));
    assert!(calls(&seen).is_empty());
    wait_for(&sim, |stats| stats.callbacks_sent == 1).await;
    assert_eq!(calls(&seen).len(), 1);
}

#[tokio::test]
async fn a_receiver_answering_500_twice_then_200_gets_three_deliveries() {
    let (webhook, seen) = receiver(&[500, 500]).await;
    let sim = start(fast()).await;
    submit(
        &sim,
        "/v1/videos/generations",
        &with_webhook("a cat", &webhook),
    )
    .await;
    let stats = wait_for(&sim, |stats| stats.callbacks_sent == 3).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(calls(&seen).len(), 3);
    assert_eq!((stats.callback_retries, stats.callbacks_failed), (2, 0));
}

#[tokio::test]
async fn a_receiver_that_always_fails_gets_the_first_try_and_three_retries() {
    let (webhook, seen) = receiver(&[503; 10]).await;
    let sim = start(fast()).await;
    submit(
        &sim,
        "/v1/videos/generations",
        &with_webhook("a cat", &webhook),
    )
    .await;
    let stats = wait_for(&sim, |stats| stats.callbacks_failed == 1).await;
    assert_eq!((stats.callbacks_sent, stats.callback_retries), (4, 3));
    assert_eq!(calls(&seen).len(), 4);
}

#[tokio::test]
async fn a_4xx_answer_stops_the_retries() {
    let (webhook, seen) = receiver(&[404]).await;
    let sim = start(fast()).await;
    submit(
        &sim,
        "/v1/videos/generations",
        &with_webhook("a cat", &webhook),
    )
    .await;
    let stats = wait_for(&sim, |stats| stats.callbacks_failed == 1).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(calls(&seen).len(), 1);
    assert_eq!((stats.callbacks_sent, stats.callback_retries), (1, 0));
}

#[tokio::test]
async fn a_duplicate_rate_of_one_sends_every_callback_twice() {
    let (webhook, seen) = receiver(&[]).await;
    let sim = start(SimConfig {
        webhook_duplicate_rate: 1.0,
        ..fast()
    })
    .await;
    let id = submit(
        &sim,
        "/v1/videos/generations",
        &with_webhook("a cat", &webhook),
    )
    .await;
    let stats = wait_for(&sim, |stats| stats.callbacks_sent == 2).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(stats.callback_duplicates, 1);
    let calls = calls(&seen);
    assert_eq!(calls.len(), 2);
    assert!(calls.iter().all(|(_, body)| body["id"] == json!(id)));
}

#[tokio::test]
async fn a_drop_rate_of_one_sends_no_callback() {
    let (webhook, seen) = receiver(&[]).await;
    let sim = start(SimConfig {
        webhook_drop_rate: 1.0,
        ..fast()
    })
    .await;
    for _ in 0..3 {
        submit(
            &sim,
            "/v1/videos/generations",
            &with_webhook("a cat", &webhook),
        )
        .await;
    }
    let stats = wait_for(&sim, settled(3)).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!((stats.callbacks_dropped, stats.callbacks_sent), (3, 0));
    assert!(calls(&seen).is_empty());
}

#[tokio::test]
async fn private_targets_are_dropped_silently_when_they_are_not_allowed() {
    let (webhook, seen) = receiver(&[]).await;
    let sim = start(SimConfig {
        webhook_allow_private: false,
        ..fast()
    })
    .await;
    let id = submit(
        &sim,
        "/v1/videos/generations",
        &with_webhook("a cat", &webhook),
    )
    .await;
    let stats = wait_for(&sim, |stats| stats.callbacks_dropped == 1).await;
    assert_eq!(stats.callbacks_sent, 0);
    assert!(calls(&seen).is_empty());
    assert_eq!(
        status_of(&poll_until_finished(&sim, &id).await),
        "completed"
    );
}

#[tokio::test]
async fn a_webhook_that_is_not_a_url_is_accepted_and_its_callback_dropped() {
    let sim = start(fast()).await;
    let mut body = omni("a cat");
    body["webhook"] = json!(42);
    submit(&sim, "/v1/videos/generations", &body).await;
    let stats = wait_for(&sim, |stats| stats.callbacks_dropped == 1).await;
    assert_eq!(stats.callbacks_sent, 0);
}

#[tokio::test]
async fn a_callback_still_pending_at_shutdown_is_abandoned() {
    let (webhook, seen) = receiver(&[]).await;
    let sim = start(SimConfig {
        task_seconds: 100.0,
        ..fast()
    })
    .await;
    submit(
        &sim,
        "/v1/videos/generations",
        &with_webhook("a cat", &webhook),
    )
    .await;
    sim.shutdown().await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(calls(&seen).is_empty());
}
