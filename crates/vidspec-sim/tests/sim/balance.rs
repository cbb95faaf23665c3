//! `GET /v1/balance`: a configured balance charged by each created task's
//! cost, refunded for failed tasks, and 402 once it cannot pay.

use serde_json::{Value, json};
use vidspec_sim::SimConfig;

use crate::common::{
    client, fast, get, omni, poll_until_finished, post, start, status_and_json, submit,
};

async fn balance(sim: &vidspec_sim::Sim, path: &str) -> Value {
    let (status, body) = status_and_json(get(&format!("{}{path}", sim.base_url())).await).await;
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn the_balance_decreases_by_each_tasks_cost_and_a_submit_beyond_it_is_402() {
    let sim = start(SimConfig {
        balance: Some(0.5),
        ..fast()
    })
    .await;
    let id = submit(&sim, "/v1/videos/generations", &omni("one")).await;
    submit(&sim, "/v1/videos/generations", &omni("two")).await;
    let cost = poll_until_finished(&sim, &id).await["data"]["cost"].clone();
    assert_eq!(cost, json!(0.2));
    let (status, refused) =
        status_and_json(post(&sim, "/v1/videos/generations", &omni("three")).await).await;
    assert_eq!(status, 402, "{refused}");
    assert_eq!(refused["error"]["type"], "payment_required");
    assert_eq!(
        balance(&sim, "/v1/balance").await,
        json!({"remain_balance": 0.1, "remain_credits": 1.0, "used_balance": 0.4,
               "used_credits": 4.0, "unlimited_quota": false})
    );
    let stats = sim.stats();
    assert_eq!((stats.submits, stats.balance_refusals), (2, 1));
}

#[tokio::test]
async fn the_user_balance_path_answers_the_same() {
    let sim = start(SimConfig {
        balance: Some(1.0),
        ..fast()
    })
    .await;
    submit(&sim, "/v1/videos/generations", &omni("one")).await;
    assert_eq!(
        balance(&sim, "/v1/balance").await,
        balance(&sim, "/v1/user/balance").await
    );
}

#[tokio::test]
async fn a_failed_task_is_refunded_when_it_fails() {
    let sim = start(SimConfig {
        balance: Some(0.2),
        ..fast()
    })
    .await;
    let id = submit(&sim, "/v1/videos/generations", &omni("FAIL")).await;
    poll_until_finished(&sim, &id).await;
    assert_eq!(
        balance(&sim, "/v1/balance").await["remain_balance"],
        json!(0.2)
    );
    submit(&sim, "/v1/videos/generations", &omni("paid again")).await;
}

#[tokio::test]
async fn without_a_configured_balance_the_quota_is_unlimited() {
    let sim = start(fast()).await;
    for _ in 0..10 {
        submit(&sim, "/v1/videos/generations", &omni("many")).await;
    }
    let data = balance(&sim, "/v1/balance").await;
    assert_eq!(data["unlimited_quota"], true);
    assert_eq!(data["used_balance"], json!(2.0));
}

#[tokio::test]
async fn the_balance_needs_the_api_key() {
    let sim = start(fast()).await;
    let response = client()
        .get(format!("{}/v1/balance", sim.base_url()))
        .send()
        .await
        .expect("the simulator answers");
    assert_eq!(response.status().as_u16(), 401);
}

#[test]
fn a_negative_balance_is_refused_at_start() {
    let config = SimConfig {
        balance: Some(-1.0),
        ..SimConfig::default()
    };
    assert!(config.validate().is_err());
}

#[tokio::test]
async fn a_keyed_submit_refused_for_the_balance_leaves_its_key_free() {
    let sim = start(SimConfig {
        balance: Some(0.2),
        // The failing task fails after 100 ms: the first keyed submit comes before.
        task_seconds: 200.0,
        ..fast()
    })
    .await;
    let failing = submit(&sim, "/v1/videos/generations", &omni("FAIL")).await;
    let keyed = || {
        client()
            .post(format!("{}/v1/videos/generations", sim.base_url()))
            .bearer_auth(crate::common::KEY)
            .header("Idempotency-Key", "balance-key-1")
            .json(&omni("keyed"))
            .send()
    };
    let refused = keyed().await.expect("the simulator answers");
    assert_eq!(refused.status().as_u16(), 402);
    poll_until_finished(&sim, &failing).await;
    let accepted = keyed().await.expect("the simulator answers");
    assert_eq!(accepted.status().as_u16(), 200);
    assert!(accepted.headers().get("idempotency-replayed").is_none());
}
