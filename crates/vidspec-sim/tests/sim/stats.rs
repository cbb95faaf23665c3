//! The counters after a known sequence of requests, through `Sim::stats` and
//! `GET /__sim/stats` alike.

use serde_json::json;

use crate::common::{client, fast, get, omni, poll_until_finished, post, start, submit};
use vidspec_sim::{FaultTarget, Scripted, SimTask, Stats, TaskList};

#[tokio::test]
async fn counters_follow_a_known_sequence() {
    let sim = start(fast()).await;
    let generations = "/v1/videos/generations";
    let good = submit(&sim, generations, &omni("a fox")).await;
    let failing = submit(&sim, generations, &omni("FAIL")).await;
    // One rejected submit, one unauthorised one, one faulted poll.
    post(
        &sim,
        generations,
        &json!({"model": "Omni-Flash-Ext", "prompt": ""}),
    )
    .await;
    client()
        .post(format!("{}{generations}", sim.base_url()))
        .json(&omni("no key"))
        .send()
        .await
        .expect("an answer");
    sim.script(vec![Scripted::ServerError {
        on: FaultTarget::Polls,
    }]);
    get(&format!("{}/v1/tasks/{good}", sim.base_url())).await;
    let done = poll_until_finished(&sim, &good).await;
    poll_until_finished(&sim, &failing).await;
    let url = done["data"]["result"]["videos"][0]["url"][0]
        .as_str()
        .expect("a URL")
        .to_owned();
    get(&url).await.bytes().await.expect("the video");

    let stats = sim.stats();
    assert_eq!(stats.submits, 2);
    assert_eq!(stats.submit_attempts, 4);
    assert!(stats.polls >= 3, "{stats:?}");
    assert_eq!(stats.downloads, 1);
    assert_eq!(stats.uploads, 0);
    assert_eq!(stats.faults_injected, 1);
    assert_eq!(stats.rejected, 1);
    assert_eq!(stats.unauthorized, 1);
    assert_eq!(stats.tasks_completed, 1);
    assert_eq!(stats.tasks_failed, 1);

    let served: Stats = client()
        .get(format!("{}/__sim/stats", sim.base_url()))
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("Stats as JSON");
    assert_eq!(served, sim.stats());
}

#[tokio::test]
async fn the_task_list_names_every_created_task_with_its_prompt_and_status() {
    let sim = start(fast()).await;
    let generations = "/v1/videos/generations";
    let first = submit(&sim, generations, &omni("job one")).await;
    let second = submit(&sim, generations, &omni("job two FAIL")).await;
    // A rejected submit creates no task, so it is not listed.
    post(
        &sim,
        generations,
        &json!({"model": "Omni-Flash-Ext", "prompt": ""}),
    )
    .await;
    poll_until_finished(&sim, &first).await;
    poll_until_finished(&sim, &second).await;

    let listed: TaskList = client()
        .get(format!("{}/__sim/tasks", sim.base_url()))
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("a TaskList as JSON");
    let expected = vec![
        SimTask {
            id: first,
            status: "completed".to_owned(),
            prompt: "job one".to_owned(),
        },
        SimTask {
            id: second,
            status: "failed".to_owned(),
            prompt: "job two FAIL".to_owned(),
        },
    ];
    assert_eq!(listed.tasks, expected);
    assert_eq!(sim.tasks(), expected);
}

#[tokio::test]
async fn a_submit_whose_answer_was_dropped_is_still_listed() {
    let sim = start(fast()).await;
    sim.script(vec![Scripted::Drop {
        on: FaultTarget::Submits,
    }]);
    let _lost_answer = client()
        .post(format!("{}/v1/videos/generations", sim.base_url()))
        .bearer_auth(crate::common::KEY)
        .json(&omni("the lost one"))
        .send()
        .await;
    let tasks = sim.tasks();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0].prompt, "the lost one");
}
