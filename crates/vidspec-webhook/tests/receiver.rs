//! The receiver against the simulator on loopback: callbacks are hints the
//! API confirms, each task is passed on once, a wrong token is a bare 404,
//! and a fallback poll catches callbacks that never come.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::json;
use url::Url;
use vidspec_core::Registry;
use vidspec_sim::{Sim, SimConfig};
use vidspec_transport::{ApiKey, Client, ClientOptions, Error, PollClock, TaskHandle};
use vidspec_webhook::{Receiver, ReceiverOptions};

/// The model every test submits to (its spec inherits the gateway's
/// `endpoint.webhook`).
const MODEL: &str = "Omni-Flash-Ext";

struct Fixture {
    sim: Sim,
    client: Client,
    receiver: Receiver,
    /// Where the receiver's router is served (the `base` of `public_url`).
    base: Url,
    registry: &'static Registry,
}

async fn fixture(config: SimConfig) -> Fixture {
    let speed = config.speed;
    let sim = Sim::start("127.0.0.1:0".parse().expect("address"), config)
        .await
        .expect("the simulator starts");
    let client = Client::new(
        ApiKey::new("sim-key"),
        ClientOptions {
            base_url: sim.base_url(),
            allow_insecure_http: true,
            requests_per_second: 0.0,
            timeout: Duration::from_secs(10),
            ..ClientOptions::default()
        },
    )
    .expect("client")
    .with_poll_clock(PollClock::simulated(speed));
    let registry = Registry::embedded();
    let declaration = registry
        .model(MODEL)
        .and_then(|model| model.endpoint().webhook.clone())
        .expect("the seed spec declares a webhook");
    let receiver =
        Receiver::new(client.clone(), ReceiverOptions::new(&declaration)).expect("a receiver");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address: SocketAddr = listener.local_addr().expect("its address");
    let router = receiver.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let base = Url::parse(&format!("http://{address}/")).expect("a URL");
    Fixture {
        sim,
        client,
        receiver,
        base,
        registry,
    }
}

impl Fixture {
    /// Submits a request whose body carries the receiver's callback URL.
    async fn submit(&self, prompt: &str) -> TaskHandle {
        let plan = self
            .registry
            .model(MODEL)
            .expect("the model")
            .prepare(json!({"model": MODEL, "prompt": prompt}))
            .expect("a valid request")
            .with_webhook(&self.receiver.public_url(&self.base))
            .expect("the model calls back");
        self.client.submit(&plan).await.expect("a task")
    }

    /// The full callback URL the gateway posts to.
    fn callback_url(&self) -> String {
        format!("{}/callback", self.receiver.public_url(&self.base))
    }
}

fn config(speed: f64, task_seconds: f64) -> SimConfig {
    SimConfig {
        speed,
        task_seconds,
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn every_task_is_detected_once_with_30_percent_of_callbacks_dropped_and_duplicates_on() {
    let tasks = 24;
    let fixture = fixture(SimConfig {
        webhook_drop_rate: 0.3,
        webhook_duplicate_rate: 0.5,
        duration_spread: 0.5,
        seed: 14,
        ..config(200.0, 60.0)
    })
    .await;
    let mut handles = Vec::new();
    for index in 0..tasks {
        handles.push(fixture.submit(&format!("a kite {index}")).await);
    }
    let waits = handles
        .iter()
        .map(|handle| fixture.receiver.wait(handle, Duration::from_secs(60)));
    let outcomes = futures_util::future::join_all(waits).await;
    let mut ids: Vec<String> = outcomes
        .into_iter()
        .map(|outcome| outcome.expect("every task succeeds").task_id)
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), tasks, "each task is passed on exactly once");
    let counters = fixture.receiver.counters();
    let stats = fixture.sim.stats();
    assert!(stats.callbacks_dropped > 0, "{stats:?}");
    assert!(
        counters.rereads <= tasks as u64,
        "a task is re-read at most once for its callbacks: {counters:?}"
    );
    assert_eq!(counters.rejected, 0, "{counters:?}");
    fixture.sim.shutdown().await;
}

#[tokio::test]
async fn duplicate_callbacks_are_answered_and_ignored() {
    let fixture = fixture(SimConfig {
        webhook_duplicate_rate: 1.0,
        ..config(200.0, 20.0)
    })
    .await;
    let handle = fixture.submit("a kite").await;
    fixture
        .receiver
        .wait(&handle, Duration::from_secs(3600))
        .await
        .expect("the task succeeds");
    // The second POST of the pair may still be on its way.
    for _ in 0..100 {
        if fixture.receiver.counters().callbacks_received >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let counters = fixture.receiver.counters();
    assert_eq!(counters.callbacks_received, 2, "{counters:?}");
    assert_eq!(counters.duplicates, 1, "{counters:?}");
    assert_eq!(counters.rereads, 1, "{counters:?}");
    fixture.sim.shutdown().await;
}

#[tokio::test]
async fn a_forged_callback_with_the_right_token_does_not_make_a_task_succeed() {
    // A task that runs for an hour of real time: only a forgery could end it.
    let fixture = fixture(config(1.0, 3600.0)).await;
    let handle = fixture.submit("a kite").await;
    let waiting = {
        let receiver = fixture.receiver.clone();
        let handle = handle.clone();
        tokio::spawn(async move { receiver.wait(&handle, Duration::from_secs(3600)).await })
    };
    let forged = json!({
        "id": handle.id,
        "status": "completed",
        "progress": 100,
        "cost": 0,
        "result": {"videos": [{"url": ["http://attacker.invalid/video.mp4"], "expires_at": 1}]}
    });
    let answer = reqwest::Client::new()
        .post(fixture.callback_url())
        .json(&forged)
        .send()
        .await
        .expect("the receiver answers");
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
    for _ in 0..200 {
        if fixture.receiver.counters().rereads >= 1 && fixture.sim.stats().polls >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !waiting.is_finished(),
        "the API says the task runs, so the wait goes on"
    );
    assert_eq!(fixture.receiver.counters().rereads, 1);
    waiting.abort();
    fixture.sim.shutdown().await;
}

#[tokio::test]
async fn a_wrong_token_gets_a_bare_404() {
    let fixture = fixture(config(1.0, 60.0)).await;
    let wrong = format!("{}0000/callback", fixture.base);
    let answer = reqwest::Client::new()
        .post(&wrong)
        .json(&json!({"id": "task_1", "status": "completed"}))
        .send()
        .await
        .expect("the receiver answers");
    assert_eq!(answer.status(), reqwest::StatusCode::NOT_FOUND);
    assert_eq!(answer.bytes().await.expect("a body").len(), 0);
    assert_eq!(fixture.receiver.counters().rejected, 1);
    fixture.sim.shutdown().await;
}

#[tokio::test]
async fn a_token_that_does_not_decode_gets_a_bare_404_too() {
    let fixture = fixture(config(1.0, 60.0)).await;
    let undecodable = format!("{}%FF%FE/callback", fixture.base);
    let answer = reqwest::Client::new()
        .post(&undecodable)
        .json(&json!({"id": "task_1"}))
        .send()
        .await
        .expect("the receiver answers");
    assert_eq!(answer.status(), reqwest::StatusCode::NOT_FOUND);
    assert_eq!(answer.bytes().await.expect("a body").len(), 0);
    assert_eq!(fixture.receiver.counters().rejected, 1);
    fixture.sim.shutdown().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let fixture = fixture(config(1.0, 60.0)).await;
    let huge = json!({"id": "task_1", "padding": "x".repeat(200_000)});
    let answer = reqwest::Client::new()
        .post(fixture.callback_url())
        .json(&huge)
        .send()
        .await
        .expect("the receiver answers");
    assert_eq!(answer.status(), reqwest::StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(fixture.receiver.counters().rejected, 1);
    fixture.sim.shutdown().await;
}

#[tokio::test]
async fn a_callback_without_a_task_id_is_refused() {
    let fixture = fixture(config(1.0, 60.0)).await;
    let answer = reqwest::Client::new()
        .post(fixture.callback_url())
        .json(&json!({"status": "completed"}))
        .send()
        .await
        .expect("the receiver answers");
    assert_eq!(answer.status(), reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(fixture.receiver.counters().rejected, 1);
    fixture.sim.shutdown().await;
}

#[tokio::test]
async fn detection_lag_with_callbacks_is_far_below_the_fallback_interval() {
    // Tasks of 20 simulated seconds at 20×: one real second. The fallback
    // (600 simulated seconds) would poll after 30 real seconds.
    let fixture = fixture(config(20.0, 20.0)).await;
    let started = tokio::time::Instant::now();
    let handle = fixture.submit("a kite").await;
    fixture
        .receiver
        .wait(&handle, Duration::from_secs(600))
        .await
        .expect("the task succeeds");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    let counters = fixture.receiver.counters();
    assert_eq!(counters.fallback_polls, 0, "{counters:?}");
    assert_eq!(counters.rereads, 1, "{counters:?}");
    fixture.sim.shutdown().await;
}

#[tokio::test]
async fn a_dropped_callback_is_caught_by_the_fallback_poll() {
    let fixture = fixture(SimConfig {
        webhook_drop_rate: 1.0,
        ..config(200.0, 20.0)
    })
    .await;
    let handle = fixture.submit("a kite").await;
    fixture
        .receiver
        .wait(&handle, Duration::from_secs(60))
        .await
        .expect("the task succeeds");
    let counters = fixture.receiver.counters();
    assert_eq!(counters.callbacks_received, 0, "{counters:?}");
    assert!(counters.fallback_polls >= 1, "{counters:?}");
    fixture.sim.shutdown().await;
}

#[tokio::test]
async fn a_callback_that_comes_before_the_wait_is_not_lost() {
    let fixture = fixture(config(200.0, 20.0)).await;
    let handle = fixture.submit("a kite").await;
    for _ in 0..300 {
        if fixture.receiver.counters().callbacks_received >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(fixture.receiver.counters().callbacks_received, 1);
    fixture
        .receiver
        .wait(&handle, Duration::from_secs(3600))
        .await
        .expect("the task succeeds");
    let counters = fixture.receiver.counters();
    assert_eq!(counters.fallback_polls, 0, "{counters:?}");
    assert_eq!(counters.rereads, 1, "{counters:?}");
    fixture.sim.shutdown().await;
}

#[tokio::test]
async fn a_failed_task_ends_the_wait_as_client_wait_does() {
    let fixture = fixture(config(200.0, 20.0)).await;
    let handle = fixture.submit("please FAIL").await;
    let error = fixture
        .receiver
        .wait(&handle, Duration::from_secs(3600))
        .await
        .expect_err("the task fails");
    assert!(matches!(error, Error::TaskFailed { .. }), "{error:?}");
    fixture.sim.shutdown().await;
}

#[tokio::test]
async fn the_public_url_adds_the_token_as_one_path_segment() {
    let fixture = fixture(config(1.0, 60.0)).await;
    let base = Url::parse("https://example.com/hooks/?q=1#f").expect("a URL");
    let public = fixture.receiver.public_url(&base);
    let segments: Vec<&str> = public.path_segments().expect("an http URL").collect();
    assert_eq!(segments.len(), 2, "{public}");
    assert_eq!(segments[0], "hooks");
    assert!(segments[1].len() >= 32, "{public}");
    assert_eq!(public.query(), None);
    assert_eq!(public.fragment(), None);
    fixture.sim.shutdown().await;
}

#[test]
fn a_callback_segment_that_is_not_one_plain_segment_is_refused() {
    let client = Client::new(ApiKey::new("sim-key"), ClientOptions::default()).expect("client");
    let mut options = ReceiverOptions::new(&vidspec_core::Webhook {
        field: "webhook".to_owned(),
        callback: "callback".to_owned(),
    });
    options.callback = "hooks/{token}".to_owned();
    let refused = Receiver::new(client, options).map(|_| ());
    assert!(
        matches!(
            refused,
            Err(vidspec_webhook::ReceiverError::Callback { .. })
        ),
        "{refused:?}"
    );
}
