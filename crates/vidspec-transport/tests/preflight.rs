//! Pre-flight against the simulated gateway on loopback (and a tiny raw HTTP
//! server that records what it is sent): image URLs checked by their headers,
//! unreachable images warned about, referenced tasks checked for status and
//! model, local files checked before upload. Nothing here leaves 127.0.0.1.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use vidspec_core::spec::ImageConstraints;
use vidspec_core::{Plan, Registry};
use vidspec_sim::{Sim, SimConfig};
use vidspec_transport::{
    ApiKey, Backoff, Client, ClientOptions, Finding, PollClock, Severity, TaskHandle, WaitOptions,
    check_local_image,
};

const SPEED: f64 = 1000.0;

fn registry() -> &'static Registry {
    Registry::embedded()
}

async fn start(task_seconds: f64) -> Sim {
    let config = SimConfig {
        speed: SPEED,
        task_seconds,
        ..SimConfig::default()
    };
    Sim::start("127.0.0.1:0".parse().expect("loopback"), config)
        .await
        .expect("the simulator starts")
}

fn client_with_key(base_url: String, key: &str) -> Client {
    Client::new(
        ApiKey::new(key),
        ClientOptions {
            base_url,
            requests_per_second: 0.0,
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
    client_with_key(sim.base_url(), "sim-key")
}

fn plan(model: &str, request: Value) -> Plan {
    registry()
        .model(model)
        .unwrap_or_else(|| panic!("model {model}"))
        .prepare(request.clone())
        .unwrap_or_else(|errors| panic!("{model}: {errors}"))
}

fn viduq3(url: &str) -> Plan {
    plan(
        "viduq3",
        json!({"model": "viduq3", "prompt": "slow pan", "image_urls": [url]}),
    )
}

/// A PNG as far as a header reader cares: signature and IHDR (CRC zeroed).
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&13u32.to_be_bytes());
    bytes.extend_from_slice(b"IHDR");
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bytes.extend_from_slice(&[0, 0, 0, 0]);
    bytes.extend_from_slice(b"IEND");
    bytes.extend_from_slice(&[0xAE, 0x42, 0x60, 0x82]);
    bytes
}

fn temp_file(label: &str, bytes: &[u8]) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "vidspec-preflight-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(label);
    std::fs::write(&path, bytes).expect("temp file");
    path
}

async fn upload(client: &Client, width: u32, height: u32) -> String {
    let path = temp_file(&format!("{width}x{height}.png"), &png(width, height));
    let uploaded = client.upload_image(&path).await.expect("upload");
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    uploaded.url
}

fn errors(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|finding| finding.severity == Severity::Error)
        .collect()
}

fn no_model(_: &str) -> Option<String> {
    None
}

#[tokio::test]
async fn an_uploaded_image_below_the_minimum_size_is_an_error_and_a_large_one_passes() {
    let sim = start(60.0).await;
    let client = client(&sim);
    let small = upload(&client, 64, 64).await;
    let large = upload(&client, 512, 512).await;

    let findings = client.preflight(&viduq3(&small), no_model).await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let finding = &findings[0];
    assert_eq!(finding.severity, Severity::Error);
    assert_eq!(finding.path, "/image_urls/0");
    assert_eq!(finding.rule.as_deref(), Some("V3"));
    assert!(
        finding.message.contains("64×64") && finding.message.contains("128×128"),
        "{}",
        finding.message
    );

    let findings = client.preflight(&viduq3(&large), no_model).await;
    assert!(findings.is_empty(), "{findings:#?}");

    // Both at once: each item is its own precondition, in order.
    let both = plan(
        "viduq3",
        json!({"model": "viduq3", "prompt": "pan", "image_urls": [large, small, large]}),
    );
    let findings = client.preflight(&both, no_model).await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].path, "/image_urls/1");
    sim.shutdown().await;
}

#[tokio::test]
async fn an_image_that_cannot_be_fetched_is_a_warning_never_a_silent_pass() {
    let sim = start(60.0).await;
    let client = client(&sim);
    let findings = client
        .preflight(&viduq3("http://127.0.0.1:1/x.png"), no_model)
        .await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(
        findings[0].message.contains("could not check")
            && findings[0].message.contains("the gateway may reject it"),
        "{}",
        findings[0].message
    );

    let missing = format!(
        "{}/__sim/uploads/nothing-here.png?sig=secret",
        sim.base_url()
    );
    let findings = client.preflight(&viduq3(&missing), no_model).await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(
        findings[0].message.contains("404"),
        "{}",
        findings[0].message
    );
    assert!(
        !findings[0].message.contains("secret"),
        "{}",
        findings[0].message
    );

    sim.shutdown().await;
}

#[tokio::test]
async fn a_data_url_is_decoded_and_checked_locally() {
    let sim = start(60.0).await;
    let client = client(&sim);
    let placeholder = viduq3("https://example.com/placeholder.png");
    let small = with_first_image(
        &placeholder,
        format!("data:image/png;base64,{}", base64(&png(100, 1000))),
    );
    let findings = client.preflight(&small, no_model).await;
    let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(errors(&findings).len(), 2, "{messages:#?}");
    assert!(messages[0].contains("100×1000"), "{messages:#?}");
    assert!(messages[1].contains("1:10"), "{messages:#?}");

    let fine = with_first_image(
        &placeholder,
        format!("data:image/png;base64,{}", base64(&png(300, 200))),
    );
    assert!(client.preflight(&fine, no_model).await.is_empty());

    let broken = with_first_image(&placeholder, "data:image/png;base64,!!!".into());
    let findings = client.preflight(&broken, no_model).await;
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].severity, Severity::Warning);
    assert_eq!(sim.stats().polls, 0, "a data: URL needs no request");
    sim.shutdown().await;
}

/// `plan` with its first image URL replaced (data: URLs are not valid requests,
/// but pre-flight must still judge them if one reaches it).
fn with_first_image(plan: &Plan, url: String) -> Plan {
    let mut body = plan.body().clone();
    body["image_urls"][0] = Value::String(url);
    plan.clone().with_unchecked_body(body)
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One canned answer of the raw server.
#[derive(Clone)]
struct Canned {
    status_line: &'static str,
    headers: Vec<String>,
    body: Vec<u8>,
}

/// A raw HTTP/1.1 server answering every request with `canned` and recording
/// each request head (lower-cased).
async fn raw_server(canned: Canned) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let canned = canned.clone();
            let record = Arc::clone(&record);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                record
                    .lock()
                    .expect("lock")
                    .push(String::from_utf8_lossy(&head).to_lowercase());
                let mut answer = format!("HTTP/1.1 {}\r\n", canned.status_line);
                for header in &canned.headers {
                    answer.push_str(header);
                    answer.push_str("\r\n");
                }
                answer.push_str("connection: close\r\n\r\n");
                let _ = stream.write_all(answer.as_bytes()).await;
                // The client hangs up after 64 KiB: a failed write is expected.
                let _ = stream.write_all(&canned.body).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}

fn midjourney(url: &str) -> Plan {
    plan(
        "midjourney-video",
        json!({"prompt": "a cat turns", "image_urls": [url]}),
    )
}

#[tokio::test]
async fn image_fetches_are_ranged_capped_and_carry_no_api_key() {
    let head = png(1024, 1024);
    let (base, seen) = raw_server(Canned {
        status_line: "206 Partial Content",
        headers: vec![
            format!("content-range: bytes 0-{}/20000000", head.len() - 1),
            format!("content-length: {}", head.len()),
            "content-type: image/png".into(),
        ],
        body: head,
    })
    .await;
    let client = client_with_key(base.clone(), "sk-very-secret");
    let findings = client
        .preflight(&midjourney(&format!("{base}/big.png")), no_model)
        .await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Error);
    assert_eq!(findings[0].rule.as_deref(), Some("M1"));
    assert!(
        findings[0].message.contains("20000000 bytes")
            && findings[0].message.contains("12582912 bytes"),
        "{}",
        findings[0].message
    );
    let requests = seen.lock().expect("lock").clone();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].contains("range: bytes=0-65535"),
        "{}",
        requests[0]
    );
    assert!(!requests[0].contains("authorization"), "{}", requests[0]);
    assert!(!requests[0].contains("sk-very-secret"), "{}", requests[0]);
}

#[tokio::test]
async fn a_server_ignoring_the_range_is_read_only_to_the_cap_and_sized_by_content_length() {
    let mut body = png(640, 480);
    body.resize(13 * 1024 * 1024, 0);
    let (base, _) = raw_server(Canned {
        status_line: "200 OK",
        headers: vec![
            format!("content-length: {}", body.len()),
            "content-type: image/png".into(),
        ],
        body,
    })
    .await;
    let client = client_with_key(base.clone(), "sim-key");
    let findings = client
        .preflight(&midjourney(&format!("{base}/huge.png")), no_model)
        .await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Error);
    assert!(
        findings[0].message.contains("13.0 MiB"),
        "{}",
        findings[0].message
    );
}

#[tokio::test]
async fn an_answer_without_a_size_is_a_warning_when_the_spec_caps_bytes() {
    let (base, _) = raw_server(Canned {
        status_line: "206 Partial Content",
        headers: vec!["content-range: bytes 0-36/*".into()],
        body: png(640, 480),
    })
    .await;
    let client = client_with_key(base.clone(), "sim-key");
    let findings = client
        .preflight(&midjourney(&format!("{base}/unknown.png")), no_model)
        .await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(
        findings[0].message.contains("size"),
        "{}",
        findings[0].message
    );
}

async fn submit_pixverse(client: &Client) -> TaskHandle {
    client
        .submit(&plan(
            "pixverse-v6",
            json!({"model": "pixverse-v6", "prompt": "a corgi"}),
        ))
        .await
        .expect("submit")
}

fn extend(task_id: &str) -> Plan {
    let plan = plan(
        "pixverse-v6",
        json!({"model": "pixverse-v6", "prompt": "it keeps running", "extend_from_task_id": task_id}),
    );
    assert_eq!(plan.mode(), "extend");
    plan
}

fn waiting() -> WaitOptions {
    WaitOptions::default()
}

#[tokio::test]
async fn extending_a_task_that_is_still_running_is_an_error() {
    // 10^6 simulated seconds at 1000×: still running for the whole test.
    let sim = start(1_000_000.0).await;
    let client = client(&sim);
    let handle = submit_pixverse(&client).await;
    let findings = client
        .preflight(&extend(&handle.id), |_| Some("pixverse-v6".into()))
        .await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let finding = &findings[0];
    assert_eq!(finding.severity, Severity::Error);
    assert_eq!(finding.path, "/extend_from_task_id");
    assert_eq!(finding.rule.as_deref(), Some("P15"));
    assert!(
        finding
            .message
            .contains(&format!("extend_from_task_id names task {}", handle.id))
            && finding.message.contains("wait for it to complete"),
        "{}",
        finding.message
    );

    // The same for a Midjourney task_id (any model may have made it).
    let imagine = client
        .submit(&midjourney("https://example.com/a.png"))
        .await
        .expect("submit");
    let findings = client
        .preflight(
            &plan("midjourney-video", json!({"task_id": imagine.id})),
            no_model,
        )
        .await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Error);
    assert!(
        findings[0].message.contains("wait for it to complete"),
        "{}",
        findings[0].message
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn extending_a_completed_task_passes_when_its_model_is_known() {
    let sim = start(60.0).await;
    let client = client(&sim);
    let handle = submit_pixverse(&client).await;
    client
        .wait(&handle, &waiting())
        .await
        .expect("the task completes");
    let plan = extend(&handle.id);

    let findings = client
        .preflight(&plan, |id| (id == handle.id).then(|| "pixverse-v6".into()))
        .await;
    assert!(findings.is_empty(), "{findings:#?}");

    let findings = client.preflight(&plan, no_model).await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(
        findings[0]
            .message
            .contains("could not confirm which model")
            && findings[0].message.contains("pixverse-v6"),
        "{}",
        findings[0].message
    );

    let findings = client.preflight(&plan, |_| Some("viduq3".into())).await;
    assert_eq!(errors(&findings).len(), 1, "{findings:#?}");
    assert!(
        findings[0].message.contains("made by viduq3"),
        "{}",
        findings[0].message
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unknown_task_is_an_error_and_a_refused_key_a_warning_without_the_key() {
    let sim = start(60.0).await;
    let client = client(&sim);
    let findings = client
        .preflight(&extend("task_never_made"), |_| Some("pixverse-v6".into()))
        .await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Error);
    assert!(
        findings[0].message.contains("task_never_made") && findings[0].message.contains("404"),
        "{}",
        findings[0].message
    );

    let wrong = client_with_key(sim.base_url(), "sk-wrong-and-secret");
    let findings = wrong
        .preflight(&extend("task_never_made"), |_| Some("pixverse-v6".into()))
        .await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(
        findings[0].message.contains("401"),
        "{}",
        findings[0].message
    );
    assert!(!format!("{findings:?}").contains("sk-wrong-and-secret"));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_midjourney_task_id_naming_a_finished_task_passes() {
    let sim = start(60.0).await;
    let client = client(&sim);
    let handle = client
        .submit(&midjourney("https://example.com/a.png"))
        .await
        .expect("submit");
    let plan = plan("midjourney-video", json!({"task_id": handle.id}));
    client
        .wait(&handle, &waiting())
        .await
        .expect("the task completes");
    let findings = client.preflight(&plan, no_model).await;
    assert!(findings.is_empty(), "{findings:#?}");
    sim.shutdown().await;
}

fn viduq3_constraints() -> ImageConstraints {
    let plan = viduq3("https://example.com/a.png");
    plan.preconditions()[0]
        .image
        .clone()
        .expect("viduq3's image_urls carry image constraints")
}

#[tokio::test]
async fn local_files_are_checked_before_upload() {
    let constraints = viduq3_constraints();
    let small = temp_file("small.png", &png(64, 64));
    let findings = check_local_image(&small, &constraints).await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Error);
    assert!(
        findings[0].message.contains("small.png") && findings[0].message.contains("128×128"),
        "{}",
        findings[0].message
    );

    let large = temp_file("large.png", &png(512, 512));
    assert!(check_local_image(&large, &constraints).await.is_empty());

    let text = temp_file("notes.png", b"just some text, not an image");
    let findings = check_local_image(&text, &constraints).await;
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].severity, Severity::Error);
    assert!(
        findings[0].message.contains("not a PNG"),
        "{}",
        findings[0].message
    );

    let findings = check_local_image(&large.with_file_name("missing.png"), &constraints).await;
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].severity, Severity::Error);
    assert!(
        findings[0].message.contains("cannot read"),
        "{}",
        findings[0].message
    );

    let cut = temp_file("cut.png", &png(512, 512)[..20]);
    let findings = check_local_image(&cut, &constraints).await;
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].severity, Severity::Warning);

    for path in [small, large, text, cut] {
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }
}

#[test]
fn the_preflight_future_can_be_spawned() {
    fn assert_send<T: Send>(_: &T) {}
    let client = client_with_key("http://127.0.0.1:1".into(), "sim-key");
    let plan = viduq3("https://example.com/a.png");
    let future = client.preflight(&plan, no_model);
    assert_send(&future);
}
