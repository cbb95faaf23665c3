//! Fault injection as a client sees it: scripted answers (429 with
//! Retry-After, 402, 500, slow, dropped, malformed), their targets, random
//! rates that a seed reproduces, and changing faults at run time.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{KEY, client, fast, get, omni, post, start, status_and_json, submit};
use vidspec_sim::{FaultTarget, Faults, Scripted, SimConfig};

const GENERATIONS: &str = "/v1/videos/generations";

#[tokio::test]
async fn a_scripted_429_carries_retry_after_and_is_used_once() {
    let sim = start(fast()).await;
    sim.script(vec![Scripted::RateLimited {
        retry_after: Some(1),
        on: FaultTarget::Submits,
    }]);
    let limited = post(&sim, GENERATIONS, &omni("a fox")).await;
    assert_eq!(limited.status().as_u16(), 429);
    assert_eq!(
        limited.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    let (_, body) = status_and_json(limited).await;
    assert_eq!(
        body,
        json!({"error": {"code": 429, "message": "Rate limit exceeded. Please try again later", "type": "rate_limit_error"}})
    );
    let next = post(&sim, GENERATIONS, &omni("a fox")).await;
    assert_eq!(next.status().as_u16(), 200);
    let stats = sim.stats();
    assert_eq!(
        (stats.submit_attempts, stats.submits, stats.faults_injected),
        (2, 1, 1)
    );
}

#[tokio::test]
async fn a_429_without_retry_after_sends_no_header() {
    let sim = start(fast()).await;
    sim.script(vec![Scripted::RateLimited {
        retry_after: None,
        on: FaultTarget::Both,
    }]);
    let limited = post(&sim, GENERATIONS, &omni("a fox")).await;
    assert_eq!(limited.status().as_u16(), 429);
    assert!(limited.headers().get("retry-after").is_none());
}

#[tokio::test]
async fn a_dropped_submit_creates_its_task_and_the_client_errors() {
    let sim = start(fast()).await;
    sim.script(vec![Scripted::Drop {
        on: FaultTarget::Submits,
    }]);
    let outcome = async {
        client()
            .post(format!("{}{GENERATIONS}", sim.base_url()))
            .bearer_auth(KEY)
            .json(&omni("a fox"))
            .send()
            .await?
            .bytes()
            .await
    }
    .await;
    assert!(
        outcome.is_err(),
        "the client got a complete answer: {outcome:?}"
    );
    let stats = sim.stats();
    assert_eq!(stats.submits, 1, "the task was created before the drop");
    assert_eq!(stats.submit_attempts, 1);
    assert_eq!(stats.faults_injected, 1);
}

#[tokio::test]
async fn a_malformed_poll_is_a_200_with_truncated_json() {
    let sim = start(fast()).await;
    let id = submit(&sim, GENERATIONS, &omni("a fox")).await;
    sim.script(vec![Scripted::Malformed {
        on: FaultTarget::Polls,
    }]);
    let response = get(&format!("{}/v1/tasks/{id}", sim.base_url())).await;
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.expect("a body");
    assert!(text.starts_with('{'), "{text}");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
}

#[tokio::test]
async fn a_scripted_402_has_the_payment_required_body() {
    let sim = start(fast()).await;
    sim.script(vec![Scripted::PaymentRequired {
        on: FaultTarget::Submits,
    }]);
    let (status, body) = status_and_json(post(&sim, GENERATIONS, &omni("a fox")).await).await;
    assert_eq!(status, 402);
    assert_eq!(
        body,
        json!({"error": {"code": 402, "message": "Insufficient balance. Please top up your account", "type": "payment_required"}})
    );
    assert_eq!(sim.stats().submits, 0);
}

#[tokio::test]
async fn a_scripted_500_on_polls_leaves_submits_alone() {
    let sim = start(fast()).await;
    sim.script(vec![Scripted::ServerError {
        on: FaultTarget::Polls,
    }]);
    let id = submit(&sim, GENERATIONS, &omni("a fox")).await;
    let (status, body) =
        status_and_json(get(&format!("{}/v1/tasks/{id}", sim.base_url())).await).await;
    assert_eq!(status, 500);
    assert_eq!(
        body,
        json!({"error": {"code": 500, "message": "Internal server error. Please try again later", "type": "server_error"}})
    );
}

#[tokio::test]
async fn a_slow_answer_is_late_but_normal() {
    let sim = start(fast()).await;
    sim.script(vec![Scripted::Slow {
        ms: 100,
        on: FaultTarget::Submits,
    }]);
    let started = Instant::now();
    let response = post(&sim, GENERATIONS, &omni("a fox")).await;
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(sim.stats().faults_injected, 1);
}

/// HTTP statuses of `count` submits to a fresh simulator with `config`.
async fn submit_statuses(config: SimConfig, count: usize) -> Vec<u16> {
    let sim = start(config).await;
    let mut statuses = Vec::new();
    for _ in 0..count {
        statuses.push(
            post(&sim, GENERATIONS, &omni("a fox"))
                .await
                .status()
                .as_u16(),
        );
    }
    statuses
}

#[tokio::test]
async fn random_faults_are_reproducible_with_a_seed() {
    let config = SimConfig {
        seed: 42,
        faults: Faults::parse("429=0.3,500=0.2,on=submits").expect("a valid spec"),
        ..fast()
    };
    let first = submit_statuses(config.clone(), 40).await;
    let second = submit_statuses(config, 40).await;
    assert_eq!(first, second);
    for status in [200, 429, 500] {
        assert!(first.contains(&status), "{status} never seen in {first:?}");
    }
}

#[tokio::test]
async fn faults_can_change_at_run_time_and_skip_sim_routes() {
    let sim = start(fast()).await;
    sim.set_faults(Faults {
        server_error: 1.0,
        ..Faults::default()
    });
    assert_eq!(
        post(&sim, GENERATIONS, &omni("a fox"))
            .await
            .status()
            .as_u16(),
        500
    );
    let stats = get(&format!("{}/__sim/stats", sim.base_url())).await;
    assert_eq!(stats.status().as_u16(), 200);
    sim.set_faults(Faults::default());
    assert_eq!(
        post(&sim, GENERATIONS, &omni("a fox"))
            .await
            .status()
            .as_u16(),
        200
    );
}
