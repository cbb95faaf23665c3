//! Models added as data: a model id the simulator has no checks for, or a
//! submit posted to a path under `/v1/` it has no route for, gets a generic
//! task in the gateway's usual shapes, so a spec written outside this
//! repository can be tried end to end. The models it knows keep their checks.

use serde_json::json;

use crate::common::{
    fast, get, poll_until_finished, post, start, status_and_json, status_of, submit,
};

const GENERATIONS: &str = "/v1/videos/generations";

#[tokio::test]
async fn an_unknown_model_gets_a_generic_task_that_completes_with_a_downloadable_video() {
    let sim = start(fast()).await;
    let id = submit(
        &sim,
        GENERATIONS,
        &json!({"model": "acme-video-1", "prompt": "a fox"}),
    )
    .await;
    let done = poll_until_finished(&sim, &id).await;
    assert_eq!(status_of(&done), "completed", "{done}");
    let url = done["data"]["result"]["videos"][0]["url"][0]
        .as_str()
        .expect("a video URL in the standard answer shape");
    let video = get(url).await;
    assert_eq!(video.status().as_u16(), 200);
    assert_eq!(sim.stats().submits, 1);
    assert_eq!(sim.stats().rejected, 0);
}

#[tokio::test]
async fn an_unknown_model_needs_no_prompt_since_its_rules_are_not_known() {
    let sim = start(fast()).await;
    let id = submit(
        &sim,
        GENERATIONS,
        &json!({"model": "acme-video-1", "image_urls": ["https://example.com/a.png"]}),
    )
    .await;
    assert_eq!(
        status_of(&poll_until_finished(&sim, &id).await),
        "completed"
    );
}

#[tokio::test]
async fn a_submit_on_a_path_the_simulator_has_no_route_for_under_v1_is_a_generic_submit() {
    let sim = start(fast()).await;
    let id = submit(
        &sim,
        "/v1/videos/image2video",
        &json!({"model": "acme-video-1", "prompt": "a fox", "image": "https://example.com/a.png"}),
    )
    .await;
    assert_eq!(
        status_of(&poll_until_finished(&sim, &id).await),
        "completed"
    );
}

#[tokio::test]
async fn a_known_model_keeps_its_own_checks_on_a_path_the_simulator_has_no_route_for() {
    let sim = start(fast()).await;
    let (status, answer) = status_and_json(
        post(
            &sim,
            "/v1/videos/image2video",
            &json!({"model": "Omni-Flash-Ext", "prompt": "a fox", "duration": 7}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_duration");
}

#[tokio::test]
async fn a_known_model_keeps_its_own_checks_on_the_generations_route() {
    let sim = start(fast()).await;
    let (status, answer) = status_and_json(
        post(
            &sim,
            GENERATIONS,
            &json!({"model": "pixverse-v6", "prompt": " "}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "{answer}");
}

#[tokio::test]
async fn a_generic_submit_still_needs_a_json_object_and_a_string_model_when_one_is_given() {
    let sim = start(fast()).await;
    for body in [json!([1, 2]), json!({"model": 7, "prompt": "a fox"})] {
        let (status, answer) =
            status_and_json(post(&sim, "/v1/videos/image2video", &body).await).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert_eq!(answer["error"]["code"], "invalid_request_error");
    }
}

#[tokio::test]
async fn a_generic_submit_needs_the_api_key() {
    let sim = start(fast()).await;
    let response = crate::common::client()
        .post(format!("{}/v1/videos/image2video", sim.base_url()))
        .json(&json!({"model": "acme-video-1", "prompt": "a fox"}))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(sim.stats().submits, 0);
}

#[tokio::test]
async fn paths_outside_v1_and_gets_of_unknown_paths_are_still_not_found() {
    let sim = start(fast()).await;
    let outside = post(&sim, "/v2/videos/generations", &json!({"model": "x"})).await;
    assert_eq!(outside.status().as_u16(), 404);
    let unknown_get = get(&format!("{}/v1/videos/image2video", sim.base_url())).await;
    assert_eq!(unknown_get.status().as_u16(), 404);
    assert_eq!(sim.stats().submits, 0);
}
