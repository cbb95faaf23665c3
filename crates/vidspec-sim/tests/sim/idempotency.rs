//! Idempotency keys on the wire: the first submit with a key runs, the same
//! key and body again is the same answer replayed (no second task), another
//! body is refused, a running key says so, a bad key is refused, and the two
//! idempotency faults answer as the gateway documents.

use std::time::Duration;

use reqwest::Response;
use serde_json::Value;
use vidspec_sim::{FaultTarget, Scripted, Sim};

use crate::common::{KEY, client, fast, omni, start, status_and_json, task_id_of};

const PATH: &str = "/v1/videos/generations";

/// `POST` of `body` with `Idempotency-Key: key`.
async fn keyed(sim: &Sim, key: &str, body: &Value) -> Response {
    client()
        .post(format!("{}{PATH}", sim.base_url()))
        .bearer_auth(KEY)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("the simulator answers")
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_same_key_and_body_is_replayed_without_a_second_task() {
    let sim = start(fast()).await;
    let first = keyed(&sim, "key-1", &omni("a kite")).await;
    assert_eq!(first.headers().get("idempotency-replayed"), None);
    let (_, first) = status_and_json(first).await;
    let again = keyed(&sim, "key-1", &omni("a kite")).await;
    assert_eq!(
        again
            .headers()
            .get("idempotency-replayed")
            .and_then(|value| value.to_str().ok()),
        Some("true")
    );
    let (status, again) = status_and_json(again).await;
    assert_eq!(status, 200);
    assert_eq!(task_id_of(&again), task_id_of(&first));
    let stats = sim.stats();
    assert_eq!((stats.submits, stats.idempotent_replays), (1, 1));
    sim.shutdown().await;
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused_as_reused() {
    let sim = start(fast()).await;
    keyed(&sim, "key-1", &omni("a kite")).await;
    let (status, body) = status_and_json(keyed(&sim, "key-1", &omni("a boat")).await).await;
    assert_eq!((status, error_code(&body)), (409, "idempotency_key_reused"));
    assert_eq!(sim.stats().submits, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_key_whose_first_request_still_runs_is_answered_in_progress_with_retry_after() {
    let sim = start(fast()).await;
    sim.script(vec![Scripted::Slow {
        ms: 1000,
        on: FaultTarget::Submits,
    }]);
    let slow = {
        let sim_base = sim.base_url();
        tokio::spawn(async move {
            client()
                .post(format!("{sim_base}{PATH}"))
                .bearer_auth(KEY)
                .header("Idempotency-Key", "key-1")
                .json(&omni("a kite"))
                .send()
                .await
                .map(|response| response.status().as_u16())
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let running = keyed(&sim, "key-1", &omni("a kite")).await;
    assert_eq!(
        running
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok()),
        Some("1")
    );
    let (status, body) = status_and_json(running).await;
    assert_eq!(
        (status, error_code(&body)),
        (409, "idempotency_in_progress")
    );
    assert_eq!(slow.await.ok().and_then(Result::ok), Some(200));
    assert_eq!(sim.stats().submits, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_key_that_is_not_visible_ascii_or_too_long_is_a_400() {
    let sim = start(fast()).await;
    let long = "k".repeat(192);
    let (status, body) = status_and_json(keyed(&sim, &long, &omni("a kite")).await).await;
    assert_eq!(
        (status, error_code(&body)),
        (400, "invalid_idempotency_key")
    );
    assert_eq!(sim.stats().submits, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn unavailable_answers_503_and_leaves_the_key_free() {
    let sim = start(fast()).await;
    sim.script(vec![Scripted::IdempotencyUnavailable {
        on: FaultTarget::Submits,
    }]);
    let (status, body) = status_and_json(keyed(&sim, "key-1", &omni("a kite")).await).await;
    assert_eq!(
        (status, error_code(&body)),
        (503, "idempotency_unavailable")
    );
    assert_eq!(sim.stats().submits, 0, "not executed");
    let (status, _) = status_and_json(keyed(&sim, "key-1", &omni("a kite")).await).await;
    assert_eq!(status, 200);
    assert_eq!(sim.stats().submits, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn indeterminate_creates_the_task_and_answers_409_for_the_key_from_then_on() {
    let sim = start(fast()).await;
    sim.script(vec![Scripted::IdempotencyIndeterminate {
        on: FaultTarget::Submits,
    }]);
    for _ in 0..2 {
        let (status, body) = status_and_json(keyed(&sim, "key-1", &omni("a kite")).await).await;
        assert_eq!(
            (status, error_code(&body)),
            (409, "idempotency_result_indeterminate")
        );
    }
    assert_eq!(sim.stats().submits, 1, "the task exists and is charged");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_dropped_answer_keeps_the_key_so_a_resend_is_replayed() {
    let sim = start(fast()).await;
    sim.script(vec![Scripted::Drop {
        on: FaultTarget::Submits,
    }]);
    let lost = client()
        .post(format!("{}{PATH}", sim.base_url()))
        .bearer_auth(KEY)
        .header("Idempotency-Key", "key-1")
        .json(&omni("a kite"))
        .send()
        .await;
    let lost = match lost {
        Ok(response) => response.bytes().await.is_err(),
        Err(_) => true,
    };
    assert!(lost, "the answer was dropped");
    let (status, body) = status_and_json(keyed(&sim, "key-1", &omni("a kite")).await).await;
    assert_eq!(status, 200, "{body}");
    let stats = sim.stats();
    assert_eq!((stats.submits, stats.idempotent_replays), (1, 1));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_submit_without_the_header_is_handled_as_before_even_under_an_idempotency_fault() {
    let sim = start(fast()).await;
    sim.script(vec![Scripted::IdempotencyIndeterminate {
        on: FaultTarget::Submits,
    }]);
    let (status, body) =
        status_and_json(crate::common::post(&sim, PATH, &omni("a kite")).await).await;
    assert_eq!(status, 200, "{body}");
    let stats = sim.stats();
    assert_eq!((stats.submits, stats.idempotency_refusals), (1, 0));
    sim.shutdown().await;
}
