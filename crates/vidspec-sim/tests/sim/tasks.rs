//! Task life cycles as a client sees them: the standard shape from submit to
//! download, failures, Midjourney's bare shape, running snapshots and 404s.

use serde_json::json;

use crate::common::{client, fast, get, omni, poll_until_finished, start, status_and_json, submit};
use vidspec_sim::SimConfig;

#[tokio::test]
async fn a_standard_task_completes_and_its_video_is_an_mp4() {
    let sim = start(fast()).await;
    let id = submit(&sim, "/v1/videos/generations", &omni("a red fox")).await;
    assert!(id.starts_with("task_"), "{id}");

    let done = poll_until_finished(&sim, &id).await;
    let data = &done["data"];
    assert_eq!(done["code"], 200);
    assert_eq!(data["id"], id.as_str());
    assert_eq!(data["status"], "completed");
    assert_eq!(data["progress"], 100);
    assert_eq!(data["cost"], 0.2);
    assert_eq!(data["actual_time"], 2);
    assert_eq!(data["estimated_time"], 4);
    let created = data["created"].as_u64().expect("created");
    let completed = data["completed"].as_u64().expect("completed");
    assert_eq!(completed, created + 2);
    let video = &data["result"]["videos"][0];
    assert_eq!(video["expires_at"].as_u64(), Some(completed + 86_400));
    let url = video["url"][0].as_str().expect("a video URL");
    assert_eq!(url, format!("{}/__sim/videos/{id}/0.mp4", sim.base_url()));

    // Result URLs need no key, like the gateway's CDN links.
    let download = client().get(url).send().await.expect("an answer");
    assert_eq!(download.status().as_u16(), 200);
    assert_eq!(
        download.headers().get("content-type").map(|v| v.as_bytes()),
        Some(&b"video/mp4"[..])
    );
    let bytes = download.bytes().await.expect("the video");
    assert_eq!(&bytes[4..8], b"ftyp");
    assert!(bytes.windows(4).any(|w| w == b"moov"));
    assert!(bytes.windows(4).any(|w| w == b"mdat"));
    assert_eq!(sim.stats().downloads, 1);
}

#[tokio::test]
async fn a_prompt_with_the_word_fail_ends_failed_with_the_seed_shape() {
    let sim = start(fast()).await;
    let id = submit(&sim, "/v1/videos/generations", &omni("please FAIL this")).await;
    let done = poll_until_finished(&sim, &id).await;
    let data = &done["data"];
    assert_eq!(data["status"], "failed");
    assert_eq!(data["cost"], 0);
    assert_eq!(
        data["error"],
        json!({"code": "task_failed", "message": "simulated failure: moderation failed", "type": "task_failed"})
    );
    assert!(data.get("result").is_none());
    let video = client()
        .get(format!("{}/__sim/videos/{id}/0.mp4", sim.base_url()))
        .send()
        .await
        .expect("an answer");
    assert_eq!(video.status().as_u16(), 404);
}

#[tokio::test]
async fn fail_rate_one_fails_every_task() {
    let sim = start(SimConfig {
        fail_rate: 1.0,
        ..fast()
    })
    .await;
    let id = submit(&sim, "/v1/videos/generations", &omni("a fox")).await;
    let done = poll_until_finished(&sim, &id).await;
    assert_eq!(done["data"]["status"], "failed");
    assert_eq!(sim.stats().tasks_failed, 1);
}

#[tokio::test]
async fn a_running_task_reports_progress_and_a_pessimistic_estimate() {
    let sim = start(SimConfig {
        speed: 1.0,
        task_seconds: 600.0,
        ..SimConfig::default()
    })
    .await;
    let id = submit(&sim, "/v1/videos/generations", &omni("a slow fox")).await;
    let url = format!("{}/v1/tasks/{id}", sim.base_url());
    let (status, body) = status_and_json(get(&url).await).await;
    assert_eq!(status, 200);
    let data = &body["data"];
    assert!(
        matches!(data["status"].as_str(), Some("submitted" | "processing")),
        "{body}"
    );
    assert!(data["progress"].as_u64().is_some_and(|p| p < 100));
    assert_eq!(data["estimated_time"], 1200);
    assert!(data["created"].is_u64());
    assert!(data.get("result").is_none());
    let early = client()
        .get(format!("{}/__sim/videos/{id}/0.mp4", sim.base_url()))
        .send()
        .await
        .expect("an answer");
    assert_eq!(early.status().as_u16(), 404);
}

#[tokio::test]
async fn a_midjourney_task_answers_the_bare_midjourney_shape() {
    let sim = start(fast()).await;
    let request = json!({"prompt": "the cat turns", "image_urls": ["https://example.com/cat.png"], "batch_size": 2});
    let id = submit(&sim, "/v1/midjourney/generations/video", &request).await;
    let done = poll_until_finished(&sim, &id).await;
    assert!(
        done.get("code").is_none() && done.get("data").is_none(),
        "{done}"
    );
    assert_eq!(done["id"], id.as_str());
    assert_eq!(done["status"], "SUCCESS");
    assert_eq!(done["action"], "VIDEO");
    assert_eq!(done["mode"], "FAST");
    assert_eq!(done["progress"], 100);
    let urls = done["video_urls"].as_array().expect("video_urls");
    assert_eq!(urls.len(), 2);
    assert_eq!(done["video_url"], urls[0]);
    let second = urls[1].as_str().expect("a URL");
    let bytes = get(second).await.bytes().await.expect("the video");
    assert_eq!(&bytes[4..8], b"ftyp");
}

#[tokio::test]
async fn a_failing_midjourney_task_ends_in_failure_with_a_reason() {
    let sim = start(fast()).await;
    let request = json!({"prompt": "FAIL", "image_urls": ["https://example.com/cat.png"]});
    let id = submit(&sim, "/v1/midjourney/generations/video", &request).await;
    let done = poll_until_finished(&sim, &id).await;
    assert_eq!(done["status"], "FAILURE");
    assert_eq!(done["fail_reason"], "simulated failure: moderation failed");
    assert_eq!(done["video_urls"], json!([]));
}

#[tokio::test]
async fn unknown_tasks_and_videos_are_404() {
    let sim = start(fast()).await;
    let (status, body) =
        status_and_json(get(&format!("{}/v1/tasks/task_NOPE", sim.base_url())).await).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": {"code": 404, "message": "task not found", "type": "not_found"}})
    );
    let id = submit(&sim, "/v1/videos/generations", &omni("a fox")).await;
    poll_until_finished(&sim, &id).await;
    for path in [
        format!("/__sim/videos/{id}/1.mp4"),
        format!("/__sim/videos/{id}/x.mp4"),
        "/__sim/videos/task_NOPE/0.mp4".to_owned(),
    ] {
        let response = get(&format!("{}{path}", sim.base_url())).await;
        assert_eq!(response.status().as_u16(), 404, "{path}");
    }
    assert_eq!(sim.stats().downloads, 0);
}
