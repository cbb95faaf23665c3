//! `vidspec status` shows a task's result extras (the spec's `read.extras`,
//! here a `thumbnail_url`) in text and in JSON, and an answer without them
//! prints as before. The gateway is a few lines of std TCP on 127.0.0.1
//! answering every poll with one fixed task; the spec is the made-up,
//! sora-like family `tests/specs/task-reader`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// A loopback gateway that answers every request with `body` (JSON, 200).
fn gateway(body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut seen = Vec::new();
            let mut buffer = [0u8; 4096];
            while !seen.windows(4).any(|window| window == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(read) => seen.extend_from_slice(&buffer[..read]),
                }
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    base
}

fn status(base: &str, format: &str) -> Output {
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/specs/task-reader");
    Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args([
            "status",
            "task_1",
            "--model",
            "task-reader-1",
            "--format",
            format,
        ])
        .arg("--specs")
        .arg(&specs)
        .args(["--base-url", base])
        .env("APIMART_API_KEY", "loopback-key")
        .stdin(Stdio::null())
        .output()
        .expect("vidspec runs")
}

const WITH_THUMBNAIL: &str = r#"{"code":200,"data":{"id":"task_1","status":"completed","progress":100,"result":{"videos":[{"url":"https://cdn.example/v.mp4"}],"thumbnail_url":"https://cdn.example/v.jpg"}}}"#;

const WITHOUT_THUMBNAIL: &str = r#"{"code":200,"data":{"id":"task_1","status":"completed","progress":100,"result":{"videos":[{"url":"https://cdn.example/v.mp4"}]}}}"#;

#[test]
fn status_in_text_shows_the_thumbnail_url_under_the_videos() {
    let output = status(&gateway(WITH_THUMBNAIL), "text");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout
            .contains("\n  https://cdn.example/v.mp4\n  thumbnail_url: https://cdn.example/v.jpg"),
        "{stdout}"
    );
}

#[test]
fn status_in_json_carries_the_extras_beside_the_videos() {
    let output = status(&gateway(WITH_THUMBNAIL), "json");
    let snapshots: Value = serde_json::from_slice(&output.stdout).expect("a JSON array");
    assert_eq!(
        snapshots[0]["snapshot"]["extras"]["thumbnail_url"],
        "https://cdn.example/v.jpg"
    );
}

#[test]
fn status_in_json_has_no_extras_key_when_the_answer_holds_none() {
    let output = status(&gateway(WITHOUT_THUMBNAIL), "json");
    let snapshots: Value = serde_json::from_slice(&output.stdout).expect("a JSON array");
    assert!(
        snapshots[0]["snapshot"].get("extras").is_none(),
        "{snapshots}"
    );
    assert_eq!(snapshots[0]["snapshot"]["status"], "succeeded");
}
