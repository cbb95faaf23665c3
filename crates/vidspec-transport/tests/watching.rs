//! The wait as a stream, against the in-process simulator under paused tokio
//! time: `Client::watch` yields each new snapshot and every retry as it
//! happens, then how the wait ended; `Client::wait_each` yields each task's
//! result as it completes. The deadline bounds a watched wait as it bounds
//! `Client::wait`. Nothing leaves 127.0.0.1. (The same retries as `tracing`
//! events: `tracing_events.rs`.)

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use tokio::time::Instant;
use vidspec_core::{Plan, Registry};
use vidspec_sim::{FaultTarget, Scripted, Sim, SimConfig};
use vidspec_transport::{
    ApiKey, Backoff, Client, ClientOptions, Error, Outcome, Status, TaskHandle, WaitEvent,
    WaitOptions,
};

/// Simulated seconds a task takes (at speed 1: tokio seconds).
const TASK_SECONDS: f64 = 600.0;

fn registry() -> &'static Registry {
    Registry::embedded()
}

async fn sim() -> Sim {
    Sim::start(
        "127.0.0.1:0".parse().expect("loopback"),
        SimConfig {
            task_seconds: TASK_SECONDS,
            ..SimConfig::default()
        },
    )
    .await
    .expect("the simulator starts")
}

fn client(sim: &Sim) -> Client {
    Client::new(
        ApiKey::new("sim-key"),
        ClientOptions {
            base_url: sim.base_url(),
            requests_per_second: 0.0,
            poll_backoff: Backoff::fast(),
            submit_backoff: Backoff::fast(),
            ..ClientOptions::default()
        },
    )
    .expect("client")
}

fn omni(prompt: &str) -> Plan {
    registry()
        .model("Omni-Flash-Ext")
        .expect("model")
        .prepare(json!({"model": "Omni-Flash-Ext", "prompt": prompt}))
        .expect("valid")
}

async fn all_events(client: &Client, handle: &TaskHandle, options: &WaitOptions) -> Vec<WaitEvent> {
    client.watch(handle, options).collect().await
}

fn finished(events: &[WaitEvent]) -> Option<&Result<Outcome, Error>> {
    match events.last() {
        Some(WaitEvent::Finished(result)) => Some(result),
        _ => None,
    }
}

fn retries(events: &[WaitEvent]) -> Vec<&vidspec_transport::Retry> {
    events
        .iter()
        .filter_map(|event| match event {
            WaitEvent::Retrying(retry) => Some(retry),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_watched_task_yields_its_snapshots_then_finished_as_the_last_event() {
    let sim = sim().await;
    let client = client(&sim);
    let handle = client.submit(&omni("a fox")).await.expect("submit");
    let events = all_events(&client, &handle, &WaitOptions::default()).await;
    let snapshots: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            WaitEvent::Snapshot(snapshot) => Some(snapshot),
            _ => None,
        })
        .collect();
    assert!(snapshots.len() >= 2, "{events:?}");
    assert_eq!(
        snapshots.last().map(|s| &s.status),
        Some(&Status::Succeeded)
    );
    assert!(
        matches!(finished(&events), Some(Ok(outcome)) if outcome.task_id == handle.id),
        "{events:?}"
    );
    let finishes = events
        .iter()
        .filter(|event| matches!(event, WaitEvent::Finished(_)))
        .count();
    assert_eq!(finishes, 1);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_snapshot_is_yielded_only_when_the_task_changed() {
    let sim = sim().await;
    let client = client(&sim);
    let handle = client.submit(&omni("a fox")).await.expect("submit");
    let options = WaitOptions {
        adaptive: false,
        interval: Some(Duration::from_millis(100)),
        first_poll: Some(Duration::ZERO),
        ..WaitOptions::default()
    };
    let events = all_events(&client, &handle, &options).await;
    let snapshots: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            WaitEvent::Snapshot(snapshot) => Some(snapshot),
            _ => None,
        })
        .collect();
    // Polled about 6,000 times over 600 s; progress moves in whole percents.
    assert!(snapshots.len() <= 110, "{} snapshots", snapshots.len());
    for pair in snapshots.windows(2) {
        assert!(
            pair[0].status != pair[1].status
                || pair[0].progress != pair[1].progress
                || pair[0].videos != pair[1].videos,
            "{:?} then {:?}",
            pair[0],
            pair[1]
        );
    }
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn four_injected_500s_on_polls_are_four_retry_events() {
    let sim = sim().await;
    let client = client(&sim);
    let handle = client.submit(&omni("a fox")).await.expect("submit");
    sim.script(vec![
        Scripted::ServerError {
            on: FaultTarget::Polls,
        };
        4
    ]);
    let events = all_events(&client, &handle, &WaitOptions::default()).await;
    let retries = retries(&events);
    assert_eq!(retries.len(), 4, "{events:?}");
    for (index, retry) in retries.iter().enumerate() {
        assert!(
            matches!(retry.error, Error::Server { status: 500, .. }),
            "{retry:?}"
        );
        assert_eq!(retry.attempt, u32::try_from(index + 1).expect("small"));
        assert!(!retry.next_poll);
    }
    assert!(matches!(finished(&events), Some(Ok(_))), "{events:?}");
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_429_on_a_poll_is_a_retry_event_that_honours_retry_after() {
    let sim = sim().await;
    let client = client(&sim);
    let handle = client.submit(&omni("a fox")).await.expect("submit");
    sim.script(vec![Scripted::RateLimited {
        retry_after: Some(1),
        on: FaultTarget::Polls,
    }]);
    let events = all_events(&client, &handle, &WaitOptions::default()).await;
    let retries = retries(&events);
    assert_eq!(retries.len(), 1, "{events:?}");
    assert_eq!(retries[0].retry_after, Some(Duration::from_secs(1)));
    assert_eq!(retries[0].delay, Duration::from_secs(1));
    assert!(matches!(retries[0].error, Error::RateLimited { .. }));
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_poll_that_fails_after_all_its_retries_is_a_retry_at_the_next_poll() {
    let sim = sim().await;
    let client = Client::new(
        ApiKey::new("sim-key"),
        ClientOptions {
            base_url: sim.base_url(),
            requests_per_second: 0.0,
            poll_backoff: Backoff {
                max_attempts: 2,
                ..Backoff::fast()
            },
            ..ClientOptions::default()
        },
    )
    .expect("client");
    let handle = client.submit(&omni("a fox")).await.expect("submit");
    sim.script(vec![
        Scripted::ServerError {
            on: FaultTarget::Polls,
        };
        2
    ]);
    let events = all_events(&client, &handle, &WaitOptions::default()).await;
    let retries = retries(&events);
    assert_eq!(retries.len(), 2, "{events:?}");
    assert!(!retries[0].next_poll);
    assert!(retries[1].next_poll, "{:?}", retries[1]);
    assert_eq!(retries[1].attempt, 1);
    assert!(matches!(finished(&events), Some(Ok(_))), "{events:?}");
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn the_deadline_ends_a_watch_with_deadline_passed_and_no_later() {
    let sim = sim().await;
    let client = client(&sim);
    let handle = client.submit(&omni("a fox")).await.expect("submit");
    let deadline = Duration::from_secs(120);
    let options = WaitOptions {
        deadline: Some(deadline),
        ..WaitOptions::default()
    };
    let started = Instant::now();
    let events = all_events(&client, &handle, &options).await;
    assert!(started.elapsed() <= deadline, "{:?}", started.elapsed());
    assert!(
        matches!(finished(&events), Some(Err(Error::DeadlinePassed { .. }))),
        "{events:?}"
    );
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn wait_each_yields_each_result_as_its_task_ends_not_in_the_order_given() {
    let sim = sim().await;
    let client = client(&sim);
    let running = client.submit(&omni("a fox")).await.expect("submit");
    let model = registry().model("Omni-Flash-Ext").expect("model");
    let unknown = TaskHandle::new("task_that_does_not_exist", model);
    let started = Instant::now();
    let mut results = client.wait_each(
        vec![running.clone(), unknown.clone()],
        &WaitOptions::default(),
    );
    let (first, first_result) = results.next().await.expect("a first result");
    assert_eq!(first.id, unknown.id);
    assert!(
        matches!(first_result, Err(Error::TaskNotFound { .. })),
        "{first_result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(TASK_SECONDS as u64),
        "the unknown task is reported before the running one ends"
    );
    let (second, second_result) = results.next().await.expect("a second result");
    assert_eq!(second.id, running.id);
    assert!(second_result.is_ok(), "{second_result:?}");
    assert!(results.next().await.is_none());
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn dropping_a_watch_stops_its_polls() {
    let sim = sim().await;
    let client = client(&sim);
    let handle = client.submit(&omni("a fox")).await.expect("submit");
    let mut events = client.watch(&handle, &WaitOptions::default());
    let first = events.next().await;
    assert!(matches!(first, Some(WaitEvent::Snapshot(_))), "{first:?}");
    drop(events);
    let polls = sim.stats().polls;
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(sim.stats().polls, polls);
    sim.shutdown().await;
}
