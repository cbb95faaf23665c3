//! The transport against the simulated gateway on loopback: every seed model
//! end to end, faults (429 storms, 5xx, dropped connections, malformed
//! answers), failed tasks, expiring URLs and a hundred concurrent waits.
//! Nothing here leaves 127.0.0.1.

use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use vidspec_core::{Plan, Registry};
use vidspec_sim::{FaultTarget, Faults, Scripted, Sim, SimConfig, SubmitShape};
use vidspec_transport::{
    ApiKey, Backoff, Client, ClientOptions, DownloadOptions, Error, Operation, PollClock, Status,
    WaitEvent, WaitOptions,
};

const SPEED: f64 = 1000.0;

fn registry() -> &'static Registry {
    Registry::embedded()
}

fn config() -> SimConfig {
    SimConfig {
        speed: SPEED,
        ..SimConfig::default()
    }
}

async fn start(config: SimConfig) -> Sim {
    Sim::start("127.0.0.1:0".parse().expect("loopback"), config)
        .await
        .expect("the simulator starts")
}

fn client_with(sim: &Sim, key: &str, requests_per_second: f64) -> Client {
    Client::new(
        ApiKey::new(key),
        ClientOptions {
            base_url: sim.base_url(),
            requests_per_second,
            timeout: Duration::from_secs(5),
            poll_backoff: Backoff::fast(),
            submit_backoff: Backoff::fast(),
            ..ClientOptions::default()
        },
    )
    .expect("client")
    .with_poll_clock(PollClock::simulated(SPEED))
}

fn client(sim: &Sim) -> Client {
    client_with(sim, "sim-key", 0.0)
}

fn waiting() -> WaitOptions {
    WaitOptions::default()
}

fn plan(model: &str, request: Value) -> Plan {
    registry()
        .model(model)
        .unwrap_or_else(|| panic!("model {model}"))
        .prepare(request.clone())
        .unwrap_or_else(|errors| panic!("{model}: {errors}"))
}

fn omni(prompt: &str) -> Plan {
    plan(
        "Omni-Flash-Ext",
        json!({"model": "Omni-Flash-Ext", "prompt": prompt}),
    )
}

/// A path that does not exist yet, in a fresh temp directory (tempfile: a
/// unique name, created exclusively) that is kept for the test to inspect.
fn temp_dir(label: &str) -> PathBuf {
    tempfile::Builder::new()
        .prefix(&format!("vidspec-transport-{label}-"))
        .tempdir()
        .expect("temp dir")
        .keep()
        .join(label)
}

fn one_request_per_model() -> Vec<(&'static str, Value)> {
    let image = "https://example.com/a.png";
    vec![
        (
            "pixverse-v6",
            json!({"model": "pixverse-v6", "prompt": "a corgi", "image_urls": [image]}),
        ),
        (
            "viduq3",
            json!({"model": "viduq3", "prompt": "slow pan", "image_urls": [image]}),
        ),
        (
            "viduq3-mix",
            json!({"model": "viduq3-mix", "prompt": "slow pan", "image_urls": [image], "duration": 1}),
        ),
        (
            "Omni-Flash-Ext",
            json!({"model": "Omni-Flash-Ext", "prompt": "a fox", "image_urls": [image, image, image]}),
        ),
        (
            "veo3.1-fast-official",
            json!({"model": "veo3.1-fast-official", "prompt": "waves"}),
        ),
        (
            "veo3.1-quality-official",
            json!({"model": "veo3.1-quality-official", "prompt": "waves", "first_frame_image": image}),
        ),
        (
            "midjourney-video",
            json!({"prompt": "a cat turns", "image_urls": [image], "batch_size": 2}),
        ),
    ]
}

#[tokio::test]
async fn every_seed_model_goes_from_submit_to_an_mp4_on_disk() {
    let sim = start(config()).await;
    let client = client(&sim);
    assert_eq!(
        one_request_per_model().len(),
        registry().models().count(),
        "a request per embedded model"
    );
    for (model, request) in one_request_per_model() {
        let handle = client
            .submit(&plan(model, request))
            .await
            .unwrap_or_else(|error| panic!("{model}: {error}"));
        let outcome = client
            .wait(&handle, &waiting())
            .await
            .unwrap_or_else(|error| panic!("{model}: {error}"));
        assert!(!outcome.videos().is_empty(), "{model}: no video");
        let dir = temp_dir("e2e");
        let files = client
            .download(&outcome, &dir, &DownloadOptions::default())
            .await
            .expect("download");
        for file in &files {
            let bytes = std::fs::read(&file.path).expect("downloaded file");
            assert_eq!(
                &bytes[4..8],
                b"ftyp",
                "{model}: {} is not an MP4",
                file.path.display()
            );
        }
        if model == "midjourney-video" {
            assert_eq!(files.len(), 2, "batch_size 2 gives two videos");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn both_submit_answer_shapes_are_read() {
    let sim = start(SimConfig {
        submit_shape: SubmitShape::Alternate,
        ..config()
    })
    .await;
    let client = client(&sim);
    for _ in 0..4 {
        let handle = client.submit(&omni("a fox")).await.expect("submit");
        assert!(handle.id.starts_with("task_"), "{}", handle.id);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_429_storm_on_submit_is_ridden_out_with_one_task_created() {
    let sim = start(config()).await;
    sim.script(vec![
        Scripted::RateLimited {
            retry_after: None,
            on: FaultTarget::Submits
        };
        5
    ]);
    let handle = client(&sim)
        .submit(&omni("a fox"))
        .await
        .expect("submit after the storm");
    let stats = sim.stats();
    assert_eq!(
        (stats.submits, stats.submit_attempts, stats.faults_injected),
        (1, 6, 5)
    );
    assert!(handle.id.starts_with("task_"));
    sim.shutdown().await;
}

#[tokio::test]
async fn retry_after_is_honoured_on_submit() {
    let sim = start(config()).await;
    sim.script(vec![Scripted::RateLimited {
        retry_after: Some(1),
        on: FaultTarget::Submits,
    }]);
    let started = std::time::Instant::now();
    client(&sim).submit(&omni("a fox")).await.expect("submit");
    // Backoff::fast caps Retry-After at 2 s; the server asked for 1 s.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn server_errors_and_malformed_answers_on_polls_are_retried() {
    let sim = start(config()).await;
    let client = client(&sim);
    let handle = client.submit(&omni("a fox")).await.expect("submit");
    sim.script(vec![
        Scripted::ServerError {
            on: FaultTarget::Polls,
        },
        Scripted::Malformed {
            on: FaultTarget::Polls,
        },
        Scripted::ServerError {
            on: FaultTarget::Polls,
        },
        Scripted::Drop {
            on: FaultTarget::Polls,
        },
    ]);
    let outcome = client
        .wait(&handle, &waiting())
        .await
        .expect("the wait survives poll faults");
    assert_eq!(outcome.snapshot.status, Status::Succeeded);
    assert_eq!(sim.stats().faults_injected, 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_connection_dropped_during_submit_is_never_resent() {
    let sim = start(config()).await;
    sim.script(vec![Scripted::Drop {
        on: FaultTarget::Submits,
    }]);
    let error = client(&sim)
        .submit(&omni("a fox"))
        .await
        .expect_err("the answer was lost");
    assert!(
        matches!(
            error,
            Error::NoAnswer {
                operation: Operation::Submit,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("may have been created and charged"),
        "{error}"
    );
    let stats = sim.stats();
    assert_eq!(
        (stats.submits, stats.submit_attempts),
        (1, 1),
        "exactly one submit reached the gateway"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_server_error_on_submit_is_never_resent() {
    let sim = start(config()).await;
    sim.script(vec![Scripted::ServerError {
        on: FaultTarget::Submits,
    }]);
    let error = client(&sim).submit(&omni("a fox")).await.expect_err("500");
    assert!(
        matches!(
            error,
            Error::Server {
                status: 500,
                operation: Operation::Submit,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        !error.is_retryable(),
        "a generic retry layer would pay twice"
    );
    assert!(error.may_have_created_a_task());
    assert_eq!(sim.stats().submit_attempts, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_server_error_on_a_poll_is_retryable_and_says_it_was_a_poll() {
    let sim = start(config()).await;
    let client = client(&sim);
    let handle = client.submit(&omni("a fox")).await.expect("submitted");
    sim.script(vec![Scripted::ServerError {
        on: FaultTarget::Polls,
    }]);
    let options = ClientOptions {
        base_url: sim.base_url(),
        poll_backoff: Backoff {
            max_attempts: 1,
            ..Backoff::fast()
        },
        ..ClientOptions::default()
    };
    let once = Client::new(ApiKey::new("sim-key"), options).expect("client");
    let error = once.task(&handle).await.expect_err("500");
    assert_eq!(error.operation(), Some(Operation::Poll));
    assert!(error.is_retryable());
    assert!(!error.may_have_created_a_task());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_malformed_submit_answer_is_not_resent() {
    let sim = start(config()).await;
    sim.script(vec![Scripted::Malformed {
        on: FaultTarget::Submits,
    }]);
    let error = client(&sim)
        .submit(&omni("a fox"))
        .await
        .expect_err("truncated JSON");
    assert!(matches!(error, Error::Undecodable { .. }), "{error:?}");
    assert_eq!(sim.stats().submit_attempts, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn payment_required_is_reported_and_not_resent() {
    let sim = start(config()).await;
    sim.script(vec![Scripted::PaymentRequired {
        on: FaultTarget::Submits,
    }]);
    let error = client(&sim).submit(&omni("a fox")).await.expect_err("402");
    assert!(matches!(error, Error::PaymentRequired { .. }), "{error:?}");
    assert_eq!(sim.stats().submit_attempts, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized_and_never_shown() {
    let sim = start(config()).await;
    let error = client_with(&sim, "sk-wrong-secret", 0.0)
        .submit(&omni("a fox"))
        .await
        .expect_err("401");
    assert!(
        matches!(
            error,
            Error::Unauthorized {
                request_id: Some(_),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(!format!("{error} {error:?}").contains("sk-wrong-secret"));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_failed_task_ends_the_wait_with_its_reason() {
    let sim = start(config()).await;
    let client = client(&sim);
    let handle = client.submit(&omni("please FAIL")).await.expect("submit");
    match client.wait(&handle, &waiting()).await {
        Err(Error::TaskFailed {
            code,
            message,
            snapshot,
            ..
        }) => {
            assert_eq!(code.as_deref(), Some("task_failed"));
            assert!(!message.is_empty());
            assert_eq!(snapshot.status, Status::Failed);
        }
        other => panic!("{other:?}"),
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_failed_midjourney_task_is_read_from_its_own_shape() {
    let sim = start(config()).await;
    let client = client(&sim);
    let request = json!({"prompt": "FAIL please", "image_urls": ["https://example.com/a.png"]});
    let handle = client
        .submit(&plan("midjourney-video", request))
        .await
        .expect("submit");
    let error = client.wait(&handle, &waiting()).await.expect_err("failure");
    assert!(matches!(error, Error::TaskFailed { .. }), "{error:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_url_near_expiry_is_downloaded_with_a_warning() {
    let sim = start(SimConfig {
        url_ttl_s: 0,
        task_seconds: 1.0,
        ..config()
    })
    .await;
    let client = client(&sim);
    let handle = client.submit(&omni("a fox")).await.expect("submit");
    let outcome = client.wait(&handle, &waiting()).await.expect("wait");
    let dir = temp_dir("expiry");
    let files = client
        .download(&outcome, &dir, &DownloadOptions::default())
        .await
        .expect("download");
    let warning = files[0].warning.clone().unwrap_or_default();
    assert!(warning.contains("expire"), "{warning:?}");
    let _ = std::fs::remove_dir_all(&dir);
    sim.shutdown().await;
}

#[tokio::test]
async fn progress_is_reported_while_waiting() {
    let sim = start(config()).await;
    let client = client(&sim);
    let handle = client.submit(&omni("a fox")).await.expect("submit");
    let mut seen = Vec::new();
    let mut events = client.watch(&handle, &waiting());
    while let Some(event) = events.next().await {
        match event {
            WaitEvent::Snapshot(snapshot) => seen.push(snapshot.status.clone()),
            WaitEvent::Finished(result) => {
                result.expect("wait");
            }
            _ => {}
        }
    }
    assert_eq!(seen.last(), Some(&Status::Succeeded));
    sim.shutdown().await;
}

#[tokio::test]
async fn an_existing_file_is_not_overwritten_without_being_asked() {
    let sim = start(config()).await;
    let client = client(&sim);
    let handle = client.submit(&omni("a fox")).await.expect("submit");
    let outcome = client.wait(&handle, &waiting()).await.expect("wait");
    let dir = temp_dir("overwrite");
    client
        .download(&outcome, &dir, &DownloadOptions::default())
        .await
        .expect("first download");
    let again = client
        .download(&outcome, &dir, &DownloadOptions::default())
        .await;
    assert!(
        matches!(
            again,
            Err(Error::TargetTaken {
                found: vidspec_transport::Occupant::ExistingFile,
                ..
            })
        ),
        "{again:?}"
    );
    client
        .download(
            &outcome,
            &dir,
            &DownloadOptions {
                overwrite: true,
                ..DownloadOptions::default()
            },
        )
        .await
        .expect("forced");
    let _ = std::fs::remove_dir_all(&dir);
    sim.shutdown().await;
}

/// The simulator judges requests with its own code; sending the engine's
/// refusals raw shows both name the same upstream codes.
#[tokio::test]
async fn the_simulator_rejects_what_the_engine_refuses_with_the_same_codes() {
    let sim = start(config()).await;
    let client = client(&sim);
    let model = registry().model("Omni-Flash-Ext").expect("model");
    for (change, code) in [
        (json!({"duration": 7}), "invalid_duration"),
        (json!({"resolution": "2k"}), "invalid_resolution"),
        (
            json!({"image_urls": ["https://example.com/a.png", "https://example.com/b.png"]}),
            "unsupported_image_count",
        ),
    ] {
        let mut request = json!({"model": "Omni-Flash-Ext", "prompt": "a fox"});
        for (key, value) in change.as_object().expect("object") {
            request[key] = value.clone();
        }
        let engine = model
            .prepare(request.clone())
            .expect_err("the engine refuses it");
        assert_eq!(engine.errors[0].code.as_deref(), Some(code));
        let raw = omni("a fox").with_unchecked_body(request.as_object().cloned().expect("object"));
        match client.submit(&raw).await {
            Err(Error::Rejected {
                code: Some(answered),
                ..
            }) => assert_eq!(answered, code),
            other => panic!("{code}: {other:?}"),
        }
    }
    assert_eq!(sim.stats().submits, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_hundred_tasks_are_waited_on_together_from_one_client() {
    // 100× real time: a 60 s task takes 0.6 s; polls follow the spec's hints
    // scaled the same way, under one 500 requests/s cap.
    let speed = 100.0;
    let sim = start(SimConfig {
        speed,
        ..SimConfig::default()
    })
    .await;
    let client = client_with(&sim, "sim-key", 500.0).with_poll_clock(PollClock::simulated(speed));
    let waiting = WaitOptions::default();
    let mut handles = Vec::new();
    for index in 0..100 {
        handles.push(
            client
                .submit(&omni(&format!("fox number {index}")))
                .await
                .expect("submit"),
        );
    }
    let results = client.wait_all(&handles, &waiting).await;
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().filter(|r| r.is_err()).collect::<Vec<_>>()
    );
    let stats = sim.stats();
    assert_eq!(stats.submits, 100);
    println!(
        "100 tasks: {} polls ({:.1} per task), {} submits, {} faults",
        stats.polls,
        stats.polls as f64 / 100.0,
        stats.submits,
        stats.faults_injected
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn random_faults_on_polls_still_end_every_task() {
    let faults = Faults::parse("429=0.1,500=0.1,malformed=0.05,on=polls").expect("fault spec");
    let sim = start(SimConfig {
        faults,
        seed: 7,
        ..config()
    })
    .await;
    let client = client(&sim);
    let mut handles = Vec::new();
    for index in 0..20 {
        handles.push(
            client
                .submit(&omni(&format!("fox {index}")))
                .await
                .expect("submits are not faulted"),
        );
    }
    let results = client.wait_all(&handles, &waiting()).await;
    assert!(results.iter().all(Result::is_ok));
    assert!(sim.stats().faults_injected > 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn an_invalid_request_is_refused_before_it_is_sent() {
    let sim = start(config()).await;
    let model = registry().model("Omni-Flash-Ext").expect("model");
    let request = json!({"model": "Omni-Flash-Ext", "prompt": "a fox", "duration": 7});
    let error = client(&sim)
        .submit_request(model, &request)
        .await
        .expect_err("invalid");
    assert!(matches!(error, Error::InvalidRequest(_)), "{error:?}");
    assert_eq!(sim.stats().submit_attempts, 0);
    sim.shutdown().await;
}
