//! The API key never leaves for another host and never shows: real `vidspec`
//! processes against `vidspec sim` or a few lines of raw HTTP on loopback —
//! a key pasted with a Windows line ending, a base URL that hides another
//! host, a proxy in the environment, a gateway that echoes the key.

// Without the `sim` feature the tests that run `vidspec sim` are left out,
// and the helpers only they use go unused.
#![cfg_attr(not(feature = "sim"), allow(dead_code, unused_imports))]

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use support::{example, sim, stats, temp_dir};

/// `vidspec ARGS` with this key, base URL and journal, and `extra` environment.
fn run(
    args: &[&str],
    key: &str,
    base_url: &str,
    journal: &std::path::Path,
    extra: &[(&str, &str)],
) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vidspec"));
    command
        .args(args)
        .env("APIMART_API_KEY", key)
        .env("APIMART_BASE_URL", base_url)
        .env("VIDSPEC_JOURNAL", journal)
        .env("VIDSPEC_PREFLIGHT", "off")
        .env("VIDSPEC_POLL_SCALE", "1000")
        .stdin(Stdio::null());
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        command.env_remove(name);
    }
    for (name, value) in extra {
        command.env(name, value);
    }
    command.output().expect("vidspec runs")
}

fn text_of(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn journal_lines(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path)
        .map(|text| text.lines().count())
        .unwrap_or(0)
}

#[cfg(feature = "sim")]
#[test]
fn a_key_with_a_trailing_carriage_return_or_space_is_refused_at_start_and_nothing_is_recorded() {
    let sim = sim(&[]);
    for key in ["sim-key\r", "sim-key ", " sim-key"] {
        let submitted = run(
            &["submit", &example("omni-i2v.json")],
            key,
            &sim.base_url,
            &sim.journal,
            &[],
        );
        let said = text_of(&submitted);
        assert_eq!(submitted.status.code(), Some(2), "{key:?}: {said}");
        assert!(said.contains("APIMART_API_KEY"), "{said}");
        assert!(
            said.contains("carriage return") || said.contains("space"),
            "the message names what is wrong: {said}"
        );
        assert_eq!(
            journal_lines(&sim.journal),
            0,
            "no journal entry for {key:?}"
        );
    }
    assert_eq!(stats(&sim)["submit_attempts"], 0, "nothing was sent");
}

#[cfg(feature = "sim")]
#[test]
fn a_base_url_that_hides_another_host_behind_a_backslash_is_refused_before_anything_is_recorded() {
    let sim = sim(&[]);
    let submitted = run(
        &[
            "submit",
            &example("omni-i2v.json"),
            "--base-url",
            r"http://nonexistent.invalid\@127.0.0.1",
        ],
        "sim-key",
        &sim.base_url,
        &sim.journal,
        &[],
    );
    let said = text_of(&submitted);
    assert_eq!(submitted.status.code(), Some(2), "{said}");
    assert!(
        said.contains("nonexistent.invalid"),
        "names the host it found: {said}"
    );
    assert_eq!(journal_lines(&sim.journal), 0, "{said}");
}

/// A loopback listener standing in for a proxy: answers 502 and counts
/// connections.
fn recording_proxy() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("address");
    let contacted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&contacted);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        }
    });
    (format!("http://{address}"), contacted)
}

#[cfg(feature = "sim")]
#[test]
fn a_plain_http_loopback_base_url_never_goes_through_a_proxy_from_the_environment() {
    let sim = sim(&[]);
    let (proxy, contacted) = recording_proxy();
    let submitted = run(
        &["submit", &example("omni-i2v.json"), "--format", "json"],
        "sim-key",
        &sim.base_url,
        &sim.journal,
        &[
            ("HTTP_PROXY", &proxy),
            ("http_proxy", &proxy),
            ("ALL_PROXY", &proxy),
            ("all_proxy", &proxy),
        ],
    );
    assert_eq!(submitted.status.code(), Some(0), "{}", text_of(&submitted));
    assert_eq!(contacted.load(Ordering::SeqCst), 0, "the proxy was asked");
    assert_eq!(stats(&sim)["submits"], 1);
}

const ECHOED: &str = "sk-echo-0123456789-never-print";

/// A gateway that repeats the key it was sent in every answer: a 500 to
/// submits (JSON), a 400 in plain text to polls of `task_text`, and a failed
/// task for other polls.
fn echoing_gateway() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("address");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(read) => request.extend_from_slice(&buffer[..read]),
                }
            }
            let text = String::from_utf8_lossy(&request).into_owned();
            let head_end = text.find("\r\n\r\n").map_or(text.len(), |end| end + 4);
            let length = text
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            let mut body_read = request.len() - head_end.min(request.len());
            while body_read < length {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(read) => body_read += read,
                }
            }
            if let Ok(mut log) = log.lock() {
                log.push(text.clone());
            }
            let (status, kind, body) = if text.starts_with("POST") {
                (
                    "500 Internal Server Error",
                    "application/json",
                    serde_json::json!({"error": {"code": 500, "type": "server_error",
                        "message": format!("upstream refused key {ECHOED} (Authorization: Bearer {ECHOED})")}})
                    .to_string(),
                )
            } else if text.contains("task_text") {
                (
                    "400 Bad Request",
                    "text/plain",
                    format!("proxy error for Bearer {ECHOED}: key {ECHOED}"),
                )
            } else {
                (
                    "200 OK",
                    "application/json",
                    serde_json::json!({"code": 200, "data": {"id": "task_echo", "status": "failed",
                        "error": {"code": "auth", "message": format!("bad key {ECHOED}")}}})
                    .to_string(),
                )
            };
            let answer = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nX-Oneapi-Request-Id: req-{ECHOED}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (format!("http://{address}"), seen)
}

#[test]
fn a_key_the_gateway_echoes_appears_in_no_output_json_or_journal() {
    let (base_url, seen) = echoing_gateway();
    let dir = temp_dir("echo");
    let journal = dir.join("journal.jsonl");
    let request = example("omni-i2v.json");
    let runs: Vec<Vec<&str>> = vec![
        vec!["submit", &request, "--again"],
        vec!["submit", &request, "--again", "--format", "json"],
        vec!["status", "task_echo"],
        vec!["status", "task_echo", "--format", "json"],
        vec!["status", "task_text", "--format", "json"],
        vec!["status", "task_text"],
        vec!["wait", "task_echo"],
        vec!["wait", "task_echo", "--format", "json"],
        vec!["tasks", "--format", "json"],
    ];
    let mut everything = String::new();
    for args in &runs {
        let output = run(args, ECHOED, &base_url, &journal, &[]);
        everything.push_str(&text_of(&output));
    }
    everything.push_str(&std::fs::read_to_string(&journal).unwrap_or_default());
    let requests = seen.lock().expect("log").join("\n");
    assert!(
        requests.contains(&format!("Bearer {ECHOED}")),
        "the gateway itself got the key"
    );
    assert!(everything.contains("upstream refused key"), "{everything}");
    assert!(everything.contains("bad key"), "{everything}");
    assert!(everything.contains("proxy error"), "{everything}");
    assert!(
        !everything.contains(ECHOED),
        "the key leaked:\n{everything}"
    );
    assert!(
        !everything.contains("sk-echo"),
        "part of the key leaked:\n{everything}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[cfg(feature = "sim")]
fn a_refused_key_is_reported_with_the_variable_to_check_on_a_hint_line_of_its_own() {
    let sim = sim(&[]);
    let status = run(
        &["status", "task_1"],
        "sk-wrong-secret",
        &sim.base_url,
        &sim.journal,
        &[],
    );
    let stderr = String::from_utf8_lossy(&status.stderr);
    let error = stderr
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_default();
    assert!(error.contains("refused the API key (401)"), "{stderr}");
    assert!(!error.contains("APIMART_API_KEY"), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|line| line.starts_with("hint: check APIMART_API_KEY")),
        "{stderr}"
    );
    assert!(!text_of(&status).contains("sk-wrong-secret"), "{stderr}");
}
