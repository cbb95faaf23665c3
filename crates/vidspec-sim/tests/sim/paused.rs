//! Task time is tokio time: with the clock paused, a task finishes when the
//! test advances the clock, not when the wall clock says so.

use std::time::Duration;

use crate::common::{fast, get, omni, start, status_and_json, status_of, submit};
use vidspec_sim::SimConfig;

#[tokio::test(start_paused = true)]
async fn a_task_finishes_when_paused_time_is_advanced() {
    // Far longer than any timer reqwest or hyper keeps, so auto-advance while
    // waiting for a socket cannot finish the task early.
    let sim = start(SimConfig {
        speed: 1.0,
        task_seconds: 1_000_000.0,
        ..fast()
    })
    .await;
    let id = submit(&sim, "/v1/videos/generations", &omni("a fox")).await;
    let url = format!("{}/v1/tasks/{id}", sim.base_url());
    let (_, before) = status_and_json(get(&url).await).await;
    assert_ne!(status_of(&before), "completed", "{before}");
    tokio::time::advance(Duration::from_secs(1_000_001)).await;
    let (_, after) = status_and_json(get(&url).await).await;
    assert_eq!(status_of(&after), "completed", "{after}");
    assert_eq!(after["data"]["actual_time"], 1_000_000);
}
