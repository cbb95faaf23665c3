//! Per-mode endpoints on the wire: a plan is submitted to the path of the mode
//! that won dispatch, not to the family's default path. A few lines of raw
//! TCP on 127.0.0.1 record each request line and answer a submit; nothing
//! here leaves loopback.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use vidspec_core::Registry;
use vidspec_transport::{ApiKey, Backoff, Client, ClientOptions};

/// The made-up family whose text-to-video and image-to-video modes post to
/// different paths (`tests/specs/split-endpoints`).
fn split_endpoints() -> Registry {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/specs/split-endpoints");
    Registry::load_dir(&folder).unwrap_or_else(|errors| panic!("{}: {errors}", folder.display()))
}

/// A loopback server that reads each whole request (head and
/// `Content-Length` body), records its request line and answers every one
/// with a submit answer naming `task_1`.
async fn submit_recorder() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let lines = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&lines);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buffer = [0u8; 4096];
                let head_end = loop {
                    if let Some(at) = seen.windows(4).position(|window| window == b"\r\n\r\n") {
                        break at + 4;
                    }
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => seen.extend_from_slice(&buffer[..read]),
                    }
                };
                let head = String::from_utf8_lossy(&seen[..head_end]).into_owned();
                let length: usize = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                while seen.len() < head_end + length {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => seen.extend_from_slice(&buffer[..read]),
                    }
                }
                if let (Some(line), Ok(mut log)) = (head.lines().next(), log.lock()) {
                    log.push(line.to_owned());
                }
                let body = br#"{"code":200,"data":[{"status":"submitted","task_id":"task_1"}]}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.write_all(body).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (base, lines)
}

fn client(base: &str) -> Client {
    Client::new(
        ApiKey::new("loopback-key"),
        ClientOptions {
            base_url: base.to_owned(),
            timeout: Duration::from_secs(5),
            poll_backoff: Backoff::fast(),
            submit_backoff: Backoff::fast(),
            ..ClientOptions::default()
        },
    )
    .expect("client")
}

async fn submitted_request_line(request: Value) -> String {
    let registry = split_endpoints();
    let model = registry
        .model("split-endpoints-1")
        .expect("the made-up model");
    let plan = model
        .prepare(request)
        .unwrap_or_else(|errors| panic!("{errors}"));
    let (base, lines) = submit_recorder().await;
    let handle = client(&base).submit(&plan).await.expect("submitted");
    assert_eq!(handle.id, "task_1");
    let lines = lines.lock().expect("the log").clone();
    assert_eq!(lines.len(), 1, "one submit, sent once: {lines:?}");
    lines[0].clone()
}

#[tokio::test]
async fn an_image_to_video_request_is_posted_to_the_image_to_video_modes_own_path() {
    let line = submitted_request_line(json!({
        "model": "split-endpoints-1",
        "prompt": "the fox runs off",
        "image_url": "https://example.com/fox.png"
    }))
    .await;
    assert_eq!(line, "POST /v1/videos/image2video HTTP/1.1");
}

#[tokio::test]
async fn a_text_to_video_request_of_the_same_family_is_posted_to_the_text_to_video_path() {
    let line = submitted_request_line(json!({
        "model": "split-endpoints-1",
        "prompt": "a fox runs"
    }))
    .await;
    assert_eq!(line, "POST /v1/videos/text2video HTTP/1.1");
}
