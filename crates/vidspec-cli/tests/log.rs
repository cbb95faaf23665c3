//! `VIDSPEC_LOG`: the transport's spans and events on stderr, for a user who
//! needs to see what a wait did (every retry, with what failed and the
//! delay). Lines are escaped for the terminal and never hold the key; a
//! value that is no filter is a usage error naming the variable.
//!
//! The gateway here is a tiny stub on 127.0.0.1 (std only). Every run has a
//! hard time limit.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);
const KEY: &str = "sk-log-secret";

/// Runs `vidspec wait task_1` against `base_url` with `VIDSPEC_LOG=log`.
fn wait_with_log(base_url: &str, log: &str) -> Output {
    let journal = std::env::temp_dir().join(format!(
        "vidspec-cli-log-{}-{}.sqlite",
        std::process::id(),
        log.replace(['=', ',', ' '], "_")
    ));
    let mut child = Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args([
            "wait",
            "task_1",
            "--model",
            "Omni-Flash-Ext",
            "--deadline",
            "20",
            "--format",
            "json",
            "--base-url",
            base_url,
        ])
        .env("APIMART_API_KEY", KEY)
        .env("VIDSPEC_JOURNAL", &journal)
        .env("VIDSPEC_LOG", log)
        .env_remove("VIDSPEC_POLL_SCALE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vidspec runs");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("vidspec ran past {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    let _ = std::fs::remove_file(&journal);
    output
}

/// A gateway stub: the `n`th request gets `answer(n)` (status line and body).
fn stub(answer: impl Fn(usize) -> (&'static str, String) + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    let answer = Arc::new(answer);
    let count = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let answer = Arc::clone(&answer);
            let count = Arc::clone(&count);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(match stream.try_clone() {
                    Ok(clone) => clone,
                    Err(_) => return,
                });
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|read| read > 0) {
                    if line == "\r\n" {
                        break;
                    }
                    line.clear();
                }
                let (status, body) = answer(count.fetch_add(1, Ordering::SeqCst));
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.flush();
                let mut rest = [0u8; 64];
                let _ = stream.read(&mut rest);
            });
        }
    });
    format!("http://{address}")
}

/// First a 500 whose message holds an escape sequence, then the task done.
fn gateway_failing_once() -> String {
    stub(|number| {
        if number == 0 {
            (
                "500 Internal Server Error",
                r#"{"error":{"code":500,"message":"upstream \u001b[2J broke"}}"#.to_owned(),
            )
        } else {
            (
                "200 OK",
                r#"{"code":200,"data":{"id":"task_1","status":"completed","progress":100}}"#
                    .to_owned(),
            )
        }
    })
}

#[test]
fn vidspec_log_shows_each_retry_and_how_the_wait_ended_on_stderr() {
    let output = wait_with_log(&gateway_failing_once(), "info");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("retrying"), "{stderr}");
    assert!(stderr.contains("attempt=1"), "{stderr}");
    assert!(stderr.contains("task finished"), "{stderr}");
    assert!(stderr.contains("task_1"), "{stderr}");
}

#[test]
fn vidspec_log_lines_are_escaped_for_the_terminal_and_hold_no_key() {
    let output = wait_with_log(&gateway_failing_once(), "debug");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains('\u{1b}'), "a raw escape reached stderr");
    assert!(stderr.contains("upstream"), "{stderr}");
    assert!(!stderr.contains(KEY), "the key was logged: {stderr}");
}

#[test]
fn a_vidspec_log_that_is_no_filter_is_a_usage_error_naming_the_variable() {
    let output = wait_with_log("http://127.0.0.1:9", "vidspec=loud");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("VIDSPEC_LOG"), "{stderr}");
}
