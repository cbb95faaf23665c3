//! The commands that talk to a gateway, run as real processes against
//! `vidspec sim` on loopback: the README's offline tour, validation before any
//! request, uploads of local images, `status` and `wait`, and exit codes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

const SPEED: &str = "1000";

/// A running `vidspec sim`, killed on drop.
struct SimProcess {
    child: Child,
    base_url: String,
    // Kept open so the simulator can go on writing to its stdout.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sim(extra: &[&str]) -> SimProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args(["sim", "--speed", SPEED])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("vidspec sim starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout);
    let mut first = String::new();
    reader.read_line(&mut first).expect("a first line");
    let base_url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line must be `listening on http://ADDR`, got {first:?}"))
        .to_owned();
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
    SimProcess {
        child,
        base_url,
        _stdout: reader,
    }
}

fn temp_dir(label: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "vidspec-cli-remote-{}-{}-{label}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn vidspec(sim: &SimProcess, args: &[&str], key: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vidspec"));
    command
        .args(args)
        .env("APIMART_BASE_URL", &sim.base_url)
        .env("VIDSPEC_POLL_SCALE", SPEED)
        .env_remove("APIMART_API_KEY")
        .stdin(Stdio::null());
    if let Some(key) = key {
        command.env("APIMART_API_KEY", key);
    }
    command.output().expect("vidspec runs")
}

fn stats(sim: &SimProcess) -> Value {
    // A plain HTTP/1.0 GET over a TcpStream: no client crate needed for one call.
    use std::io::{Read, Write};
    let address = sim.base_url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("connect to the simulator");
    stream
        .write_all(format!("GET /__sim/stats HTTP/1.0\r\nHost: {address}\r\n\r\n").as_bytes())
        .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|error| panic!("stats JSON ({error}): {answer}"))
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
        .display()
        .to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

#[test]
fn the_offline_tour_turns_a_request_file_into_a_video_on_disk() {
    let sim = sim(&[]);
    let dir = temp_dir("tour");
    let videos = dir.join("videos").display().to_string();
    let output = vidspec(
        &sim,
        &[
            "submit",
            &example("pixverse-t2v.json"),
            "--wait",
            "--download",
            &videos,
        ],
        Some("sim-key"),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("submitted task_"), "{stdout}");
    let files: Vec<_> = std::fs::read_dir(&videos)
        .expect("videos dir")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(files.len(), 1);
    let bytes = std::fs::read(files[0].path()).expect("video");
    assert_eq!(&bytes[4..8], b"ftyp");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_invalid_request_never_reaches_the_gateway() {
    let sim = sim(&[]);
    let output = vidspec(
        &sim,
        &["submit", &example("omni-invalid.json"), "--wait"],
        Some("sim-key"),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).contains("invalid_duration"));
    let stats = stats(&sim);
    assert_eq!(stats["submit_attempts"], 0);
    assert_eq!(stats["uploads"], 0);
}

#[test]
fn without_an_api_key_submit_is_a_usage_error_that_names_the_variable() {
    let sim = sim(&[]);
    let output = vidspec(&sim, &["submit", &example("pixverse-t2v.json")], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("APIMART_API_KEY"));
}

#[test]
fn a_wrong_key_exits_3_and_is_never_printed() {
    let sim = sim(&[]);
    let output = vidspec(
        &sim,
        &["submit", &example("pixverse-t2v.json")],
        Some("sk-secret-123"),
    );
    assert_eq!(output.status.code(), Some(3));
    let everything = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(everything.contains("401"), "{everything}");
    assert!(!everything.contains("sk-secret-123"), "{everything}");
}

#[test]
fn local_images_are_uploaded_and_replaced_by_their_urls() {
    let sim = sim(&[]);
    let dir = temp_dir("upload");
    std::fs::write(dir.join("cat.png"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").expect("png");
    let request = write(
        &dir,
        "request.json",
        r#"{"model": "viduq3", "prompt": "the cat walks", "image_urls": ["cat.png"]}"#,
    );
    let output = Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args(["submit", &request, "--format", "json"])
        .current_dir(&dir)
        .env("APIMART_BASE_URL", &sim.base_url)
        .env("APIMART_API_KEY", "sim-key")
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let json: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(json["uploads"][0]["path"], "cat.png");
    assert!(
        json["uploads"][0]["url"]
            .as_str()
            .is_some_and(|url| url.starts_with(&sim.base_url))
    );
    assert_eq!(stats(&sim)["uploads"], 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn status_and_wait_follow_a_submitted_task() {
    let sim = sim(&[]);
    let submitted = vidspec(
        &sim,
        &["submit", &example("omni-i2v.json"), "--format", "json"],
        Some("sim-key"),
    );
    assert_eq!(submitted.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&submitted.stdout).expect("JSON");
    let id = json["task_id"].as_str().expect("a task id").to_owned();

    let status = vidspec(&sim, &["status", &id, "--format", "json"], Some("sim-key"));
    assert_eq!(status.status.code(), Some(0));
    let snapshots: Value = serde_json::from_slice(&status.stdout).expect("JSON array");
    assert_eq!(snapshots[0]["task_id"], id.as_str());

    let dir = temp_dir("wait");
    let waited = vidspec(
        &sim,
        &[
            "wait",
            &id,
            "--download",
            &dir.display().to_string(),
            "--format",
            "json",
        ],
        Some("sim-key"),
    );
    assert_eq!(
        waited.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&waited.stdout)
    );
    let results: Value = serde_json::from_slice(&waited.stdout).expect("JSON array");
    assert_eq!(results[0]["status"], "succeeded");
    assert_eq!(results[0]["downloads"].as_array().map(Vec::len), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failed_task_exits_4() {
    let sim = sim(&["--fail-rate", "1"]);
    let output = vidspec(
        &sim,
        &["submit", &example("omni-i2v.json"), "--wait"],
        Some("sim-key"),
    );
    assert_eq!(
        output.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("failed"));
}

#[test]
fn a_bad_fault_spec_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args(["sim", "--faults", "429=lots"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
}
