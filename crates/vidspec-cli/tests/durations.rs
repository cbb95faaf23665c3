//! Numbers that become durations, at the command line: out-of-range
//! `--deadline`, `--poll-scale` and `VIDSPEC_POLL_SCALE` are usage errors (exit
//! 2) that give the allowed range, never a panic (exit 101); a gateway that
//! answers `estimated_time: 1e300` is waited for; out-of-range download caps
//! are refused the same way.
//!
//! The gateway here is a tiny stub on 127.0.0.1 (std only), so the test can
//! script answers the simulator never gives. Every run has a hard time limit.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A run that takes longer than this failed (it hung or slept for ages).
const LIMIT: Duration = Duration::from_secs(60);

/// Runs `vidspec args` with a key, a journal of its own and `base_url`;
/// kills it at `LIMIT`.
fn vidspec(args: &[&str], base_url: &str, env: &[(&str, &str)]) -> Output {
    let journal = std::env::temp_dir().join(format!(
        "vidspec-cli-durations-{}-{}.jsonl",
        std::process::id(),
        args.join("_").replace(['/', '.', ' '], "_")
    ));
    let mut command = Command::new(env!("CARGO_BIN_EXE_vidspec"));
    command
        .args(args)
        .args(["--base-url", base_url])
        .env("APIMART_API_KEY", "sk-durations")
        .env("VIDSPEC_JOURNAL", &journal)
        .env_remove("VIDSPEC_POLL_SCALE")
        .env_remove("APIMART_BASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("vidspec runs");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let output = child.wait_with_output().expect("output");
            panic!(
                "vidspec {args:?} ran past {LIMIT:?}; stderr: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    let _ = std::fs::remove_file(&journal);
    output
}

/// An address where nothing answers (bound, then closed): flag errors must
/// come before any request.
fn nowhere() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    format!("http://{address}")
}

/// A gateway stub: the `n`th request gets `answer(n)` as a JSON 200.
fn stub(answer: impl Fn(usize) -> String + Send + Sync + 'static) -> String {
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
                let body = answer(count.fetch_add(1, Ordering::SeqCst));
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
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

fn assert_usage_error(output: &Output, flag: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(flag), "names the flag: {stderr}");
    assert!(
        stderr.contains("between"),
        "gives the allowed range: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_deadline_of_1e30_seconds_is_a_usage_error_giving_the_allowed_range() {
    let output = vidspec(&["wait", "task_1", "--deadline", "1e30"], &nowhere(), &[]);
    assert_usage_error(&output, "--deadline");
}

#[test]
fn a_deadline_of_1e19_seconds_is_a_usage_error_giving_the_allowed_range() {
    let output = vidspec(&["wait", "task_1", "--deadline", "1e19"], &nowhere(), &[]);
    assert_usage_error(&output, "--deadline");
}

#[test]
fn a_deadline_that_is_not_a_positive_finite_number_is_a_usage_error() {
    for value in ["0", "-1", "NaN", "inf"] {
        let output = vidspec(
            &["wait", "task_1", &format!("--deadline={value}")],
            &nowhere(),
            &[],
        );
        assert_usage_error(&output, "--deadline");
    }
}

#[test]
fn a_poll_scale_of_1e_300_is_a_usage_error_giving_the_allowed_range() {
    let output = vidspec(
        &["wait", "task_1", "--poll-scale", "1e-300"],
        &nowhere(),
        &[],
    );
    assert_usage_error(&output, "--poll-scale");
}

#[test]
fn a_poll_scale_from_the_environment_is_held_to_the_same_range() {
    let output = vidspec(
        &["wait", "task_1"],
        &nowhere(),
        &[("VIDSPEC_POLL_SCALE", "1e300")],
    );
    assert_usage_error(&output, "VIDSPEC_POLL_SCALE");
}

#[test]
fn a_max_download_gib_outside_its_range_is_a_usage_error() {
    let output = vidspec(
        &["wait", "task_1", "--max-download-gib", "1e300"],
        &nowhere(),
        &[],
    );
    assert_usage_error(&output, "--max-download-gib");
}

#[test]
fn a_gateway_estimate_of_1e300_seconds_with_poll_scale_half_is_waited_for_without_a_panic() {
    let gateway = stub(|number| {
        if number == 0 {
            r#"{"code":200,"data":{"id":"task_1","status":"processing","progress":1,"estimated_time":1e300}}"#.to_owned()
        } else {
            r#"{"code":200,"data":{"id":"task_1","status":"completed","progress":100,"estimated_time":1e300,"actual_time":1e300}}"#.to_owned()
        }
    });
    let output = vidspec(
        &[
            "wait",
            "task_1",
            "--model",
            "Omni-Flash-Ext",
            "--poll-scale",
            "0.5",
            "--deadline",
            "3",
            "--format",
            "json",
        ],
        &gateway,
        &[],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("\"succeeded\""), "{stdout}");
}
