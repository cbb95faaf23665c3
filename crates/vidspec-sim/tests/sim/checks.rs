//! The simulator's own request checks as a client sees them: one 400 per
//! rule, each with the gateway's code and a readable message.

use serde_json::{Value, json};

use crate::common::{fast, post, start, status_and_json};
use vidspec_sim::Sim;

const GENERATIONS: &str = "/v1/videos/generations";
const MIDJOURNEY: &str = "/v1/midjourney/generations/video";

/// Posts `body` and returns the error object of a 400 answer.
async fn rejected(sim: &Sim, path: &str, body: Value) -> Value {
    let (status, answer) = status_and_json(post(sim, path, &body).await).await;
    assert_eq!(status, 400, "{body} → {answer}");
    assert_eq!(answer["error"]["type"], "invalid_request_error", "{answer}");
    answer["error"].clone()
}

#[tokio::test]
async fn omni_duration_outside_4_6_8_10_is_invalid_duration() {
    let sim = start(fast()).await;
    let error = rejected(
        &sim,
        GENERATIONS,
        json!({"model": "Omni-Flash-Ext", "prompt": "a fox", "duration": 7}),
    )
    .await;
    assert_eq!(error["code"], "invalid_duration");
    assert_eq!(
        error["message"],
        "invalid duration 7, must be one of 4/6/8/10"
    );
    assert_eq!(sim.stats().rejected, 1);
    assert_eq!(sim.stats().submits, 0);
}

#[tokio::test]
async fn omni_resolution_is_checked_case_insensitively() {
    let sim = start(fast()).await;
    let error = rejected(
        &sim,
        GENERATIONS,
        json!({"model": "Omni-Flash-Ext", "prompt": "a fox", "resolution": "2k"}),
    )
    .await;
    assert_eq!(error["code"], "invalid_resolution");
    let accepted = post(
        &sim,
        GENERATIONS,
        &json!({"model": "Omni-Flash-Ext", "prompt": "a fox", "resolution": "1080P"}),
    )
    .await;
    assert_eq!(accepted.status().as_u16(), 200);
}

#[tokio::test]
async fn omni_two_images_is_unsupported_image_count() {
    let sim = start(fast()).await;
    let two = json!(["https://example.com/a.png", "https://example.com/b.png"]);
    let error = rejected(
        &sim,
        GENERATIONS,
        json!({"model": "Omni-Flash-Ext", "prompt": "a fox", "image_urls": two}),
    )
    .await;
    assert_eq!(error["code"], "unsupported_image_count");
}

#[tokio::test]
async fn a_missing_or_empty_prompt_is_an_invalid_request() {
    let sim = start(fast()).await;
    for body in [
        json!({"model": "pixverse-v6"}),
        json!({"model": "veo3.1-fast-official", "prompt": ""}),
    ] {
        let error = rejected(&sim, GENERATIONS, body).await;
        assert_eq!(error["code"], "invalid_request_error");
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_an_invalid_request() {
    let sim = start(fast()).await;
    let response = crate::common::client()
        .post(format!("{}{GENERATIONS}", sim.base_url()))
        .bearer_auth(crate::common::KEY)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("an answer");
    let (status, answer) = status_and_json(response).await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["code"], "invalid_request_error");
}

#[tokio::test]
async fn midjourney_needs_exactly_one_of_image_urls_and_task_id() {
    let sim = start(fast()).await;
    rejected(&sim, MIDJOURNEY, json!({"prompt": "a cat"})).await;
    rejected(
        &sim,
        MIDJOURNEY,
        json!({"prompt": "a cat", "image_urls": ["https://example.com/c.png"], "task_id": "task_A"}),
    )
    .await;
    let with_task_only = post(&sim, MIDJOURNEY, &json!({"task_id": "task_A"})).await;
    assert_eq!(with_task_only.status().as_u16(), 200);
}

#[tokio::test]
async fn midjourney_needs_a_prompt_unless_task_id_is_given() {
    let sim = start(fast()).await;
    let error = rejected(
        &sim,
        MIDJOURNEY,
        json!({"image_urls": ["https://example.com/c.png"]}),
    )
    .await;
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("prompt")),
        "{error}"
    );
}

#[tokio::test]
async fn midjourney_batch_size_is_strictly_1_2_or_4() {
    let sim = start(fast()).await;
    rejected(
        &sim,
        MIDJOURNEY,
        json!({"prompt": "a cat", "image_urls": ["https://example.com/c.png"], "batch_size": 3}),
    )
    .await;
}
