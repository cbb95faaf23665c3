//! Time bounds under real time against slow loopback servers: a wait's
//! deadline bounds every poll, retry, backoff sleep and slow body; downloads
//! are bounded by an idle timeout (no bytes for N seconds), not by a total
//! one; absurd numbers from the gateway never panic a wait.
//!
//! Each test uses small numbers (a 1–2 s deadline) and asserts the call ends
//! within the deadline plus a generous margin: bounded, not a benchmark. An
//! outer timeout turns "runs for minutes" into a failure instead of a hang.

mod loopback;

use std::sync::Arc;
use std::time::{Duration, Instant};

use loopback::{Step, head, mp4, ok, serve};
use vidspec_core::Registry;
use vidspec_transport::{
    ApiKey, Client, ClientOptions, DownloadOptions, Error, Outcome, PollClock, Status, TaskHandle,
    TaskSnapshot, Video, WaitOptions,
};

/// Slack for a loaded 2-core machine; still far below the minutes the bugs took.
const MARGIN: Duration = Duration::from_millis(1500);

/// Fails the test instead of hanging it when a bound does not hold.
const HANG: Duration = Duration::from_secs(30);

fn client(base: &str, configure: impl FnOnce(&mut ClientOptions)) -> Client {
    let mut options = ClientOptions {
        base_url: base.to_owned(),
        requests_per_second: 0.0,
        ..ClientOptions::default()
    };
    configure(&mut options);
    Client::new(ApiKey::new("sk-deadlines"), options).expect("client")
}

fn handle() -> TaskHandle {
    let registry = Registry::embedded();
    let model = registry.model("Omni-Flash-Ext").expect("model");
    TaskHandle {
        id: "task_1".into(),
        model: model.id().into(),
        task: Arc::clone(model.task()),
        request_id: None,
    }
}

fn quick_wait(deadline: Duration) -> WaitOptions {
    WaitOptions {
        first_poll: Some(Duration::ZERO),
        interval: Some(Duration::from_millis(100)),
        deadline: Some(deadline),
        jitter: 0.0,
        ..WaitOptions::default()
    }
}

fn json(body: &str) -> Vec<Step> {
    ok("application/json", body.as_bytes())
}

async fn bounded<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(HANG, future)
        .await
        .expect("the call must end within its bound, not run on for minutes")
}

#[tokio::test]
async fn a_wait_deadline_cuts_off_a_poll_whose_answer_dribbles_one_byte_a_second() {
    let body = br#"{"code":200,"data":{"status":"processing","progress":5}}"#.to_vec();
    let server = serve(move |_, _| {
        vec![
            head(
                "200 OK",
                &[
                    ("Content-Type", "application/json".into()),
                    ("Content-Length", body.len().to_string()),
                ],
            ),
            Step::Dribble(body.clone(), Duration::from_secs(1)),
        ]
    })
    .await;
    let client = client(&server.base, |_| {});
    let deadline = Duration::from_secs(2);
    let started = Instant::now();
    let result = bounded(client.wait(&handle(), &quick_wait(deadline))).await;
    assert!(
        matches!(result, Err(Error::DeadlinePassed { .. })),
        "{result:?}"
    );
    assert!(
        started.elapsed() <= deadline + MARGIN,
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_wait_deadline_cuts_off_a_retry_after_that_reaches_past_it() {
    let server = serve(|_, _| {
        vec![
            head(
                "429 Too Many Requests",
                &[
                    ("Retry-After", "100".into()),
                    ("Content-Length", "0".into()),
                ],
            ),
            Step::Send(Vec::new()),
        ]
    })
    .await;
    let client = client(&server.base, |_| {});
    let deadline = Duration::from_secs(1);
    let started = Instant::now();
    let result = bounded(client.wait(&handle(), &quick_wait(deadline))).await;
    assert!(
        matches!(result, Err(Error::DeadlinePassed { .. })),
        "{result:?}"
    );
    assert!(
        started.elapsed() <= deadline + MARGIN,
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_wait_deadline_cuts_off_a_gateway_that_never_answers() {
    let server = serve(|_, _| vec![Step::Pause(Duration::from_secs(120))]).await;
    let client = client(&server.base, |_| {});
    let deadline = Duration::from_secs(1);
    let started = Instant::now();
    let result = bounded(client.wait(&handle(), &quick_wait(deadline))).await;
    assert!(
        matches!(result, Err(Error::DeadlinePassed { .. })),
        "{result:?}"
    );
    assert!(
        started.elapsed() <= deadline + MARGIN,
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_estimate_of_1e300_seconds_with_a_half_poll_scale_is_waited_for_without_a_panic() {
    let server = serve(|number, _| {
        if number == 0 {
            json(r#"{"code":200,"data":{"status":"processing","progress":1,"estimated_time":1e300}}"#)
        } else {
            json(
                r#"{"code":200,"data":{"status":"completed","progress":100,"estimated_time":1e300,"actual_time":1e300,"result":{"videos":[{"url":"http://127.0.0.1:9/v.mp4","expires_at":1e300}]}}}"#,
            )
        }
    })
    .await;
    let client = client(&server.base, |_| {}).with_poll_clock(PollClock::simulated(0.5));
    let options = quick_wait(Duration::from_secs(2));
    let started = Instant::now();
    let outcome = bounded(client.wait(&handle(), &options))
        .await
        .expect("a far estimate only spaces polls out; the deadline still brings a last look");
    assert_eq!(outcome.snapshot.status, Status::Succeeded);
    assert!(
        started.elapsed() <= Duration::from_secs(2) + MARGIN,
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_wait_with_a_deadline_shorter_than_the_next_poll_still_looks_once_more_before_it() {
    // Polls every 10 s, deadline 1 s: the task ends meanwhile, and the last
    // look just before the deadline finds it instead of giving up after one poll.
    let server = serve(|number, _| {
        if number == 0 {
            json(r#"{"code":200,"data":{"status":"processing","progress":1}}"#)
        } else {
            json(r#"{"code":200,"data":{"status":"completed","progress":100}}"#)
        }
    })
    .await;
    let client = client(&server.base, |_| {});
    let options = WaitOptions {
        interval: Some(Duration::from_secs(10)),
        ..quick_wait(Duration::from_secs(1))
    };
    let outcome = bounded(client.wait(&handle(), &options))
        .await
        .expect("found at the last look");
    assert_eq!(outcome.snapshot.status, Status::Succeeded);
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn a_first_poll_due_after_the_deadline_is_made_before_it() {
    let server =
        serve(|_, _| json(r#"{"code":200,"data":{"status":"completed","progress":100}}"#)).await;
    let client = client(&server.base, |_| {});
    let options = WaitOptions {
        first_poll: Some(Duration::from_secs(3600)),
        ..quick_wait(Duration::from_secs(1))
    };
    let started = Instant::now();
    let outcome = bounded(client.wait(&handle(), &options))
        .await
        .expect("polled within the deadline");
    assert_eq!(outcome.snapshot.status, Status::Succeeded);
    assert!(
        started.elapsed() <= Duration::from_secs(1) + MARGIN,
        "took {:?}",
        started.elapsed()
    );
}

fn outcome_of(urls: &[String]) -> Outcome {
    Outcome {
        task_id: "task_1".into(),
        model: "m".into(),
        snapshot: TaskSnapshot {
            id: "task_1".into(),
            status: Status::Succeeded,
            raw_status: "completed".into(),
            progress: Some(100),
            cost: None,
            estimated_time_s: None,
            actual_time_s: None,
            videos: urls
                .iter()
                .map(|url| Video {
                    url: url.clone(),
                    expires_at: None,
                })
                .collect(),
            error: None,
            request_id: None,
            extras: Default::default(),
        },
    }
}

/// A fresh temp directory (tempfile: a unique name, created exclusively),
/// removed on drop.
fn temp_dir(label: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("vidspec-deadlines-{label}-"))
        .tempdir()
        .expect("temp dir")
}

#[tokio::test]
async fn a_download_slower_than_the_request_timeout_completes_while_bytes_keep_coming() {
    let video = mp4(40);
    let server = serve(move |_, _| {
        vec![
            head(
                "200 OK",
                &[
                    ("Content-Type", "video/mp4".into()),
                    ("Content-Length", video.len().to_string()),
                ],
            ),
            // 40 bytes, one every 50 ms: 2 s in all, twice the request timeout.
            Step::Dribble(video.clone(), Duration::from_millis(50)),
        ]
    })
    .await;
    let client = client(&server.base, |options| {
        options.timeout = Duration::from_secs(1)
    });
    let dir = temp_dir("slow");
    let files = bounded(client.download(
        &outcome_of(&[format!("{}/v.mp4", server.base)]),
        dir.path(),
        &DownloadOptions::default(),
    ))
    .await
    .expect("a slow but live download is not cut off by the API request timeout");
    assert_eq!(files[0].bytes, 40);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_download_that_stops_sending_fails_after_the_idle_timeout_and_leaves_no_file() {
    let server = serve(|_, _| {
        vec![
            head(
                "200 OK",
                &[
                    ("Content-Type", "video/mp4".into()),
                    ("Content-Length", "1000".into()),
                ],
            ),
            Step::Send(mp4(100)),
            Step::Pause(Duration::from_secs(120)),
        ]
    })
    .await;
    let client = client(&server.base, |_| {});
    let dir = temp_dir("stalled");
    let options = DownloadOptions {
        idle_timeout: Duration::from_secs(1),
        ..DownloadOptions::default()
    };
    let started = Instant::now();
    let result = bounded(client.download(
        &outcome_of(&[format!("{}/v.mp4", server.base)]),
        dir.path(),
        &options,
    ))
    .await;
    match &result {
        Err(Error::Download { problem, .. }) => {
            assert!(problem.contains("no bytes"), "{problem}")
        }
        other => panic!("{other:?}"),
    }
    assert!(
        started.elapsed() <= Duration::from_secs(1) + MARGIN,
        "took {:?}",
        started.elapsed()
    );
    let left: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
