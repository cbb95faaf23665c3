//! The two submit answer shapes the gateway uses, and alternating between them.

use serde_json::json;

use crate::common::{fast, omni, post, start, status_and_json};
use vidspec_sim::{SimConfig, SubmitShape};

#[tokio::test]
async fn the_default_submit_shape_is_the_seed_pages_array() {
    let sim = start(fast()).await;
    let (status, answer) =
        status_and_json(post(&sim, "/v1/videos/generations", &omni("a fox")).await).await;
    assert_eq!(status, 200);
    assert_eq!(answer["code"], 200);
    let item = &answer["data"][0];
    assert_eq!(item["status"], "submitted");
    assert!(
        item["task_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("task_"))
    );
}

#[tokio::test]
async fn the_object_submit_shape_has_data_id() {
    let sim = start(SimConfig {
        submit_shape: SubmitShape::Object,
        ..fast()
    })
    .await;
    let (_, answer) =
        status_and_json(post(&sim, "/v1/videos/generations", &omni("a fox")).await).await;
    assert_eq!(answer["code"], 200);
    assert_eq!(answer["data"]["status"], "submitted");
    assert!(
        answer["data"]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("task_"))
    );
}

#[tokio::test]
async fn alternate_switches_shape_on_every_submit() {
    let sim = start(SimConfig {
        submit_shape: SubmitShape::Alternate,
        ..fast()
    })
    .await;
    let mut shapes = Vec::new();
    for _ in 0..4 {
        let (_, answer) = status_and_json(
            post(
                &sim,
                "/v1/midjourney/generations/video",
                &json!({"prompt": "a cat", "image_urls": ["https://example.com/c.png"]}),
            )
            .await,
        )
        .await;
        shapes.push(if answer["data"].is_array() {
            "array"
        } else {
            "object"
        });
    }
    assert_eq!(shapes, ["array", "object", "array", "object"]);
}
