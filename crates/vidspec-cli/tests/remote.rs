//! The commands that talk to a gateway, run as real processes against
//! `vidspec sim` on loopback: the README's offline tour, validation before any
//! request, uploads of local images, `status` and `wait`, and exit codes.

// Without the `sim` feature the tests that run `vidspec sim` are left out,
// and the helpers only they use go unused.
#![cfg_attr(not(feature = "sim"), allow(dead_code, unused_imports))]

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::{example, png, sim, stats, temp_dir, vidspec};

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

#[cfg(feature = "sim")]
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

#[cfg(feature = "sim")]
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

#[cfg(feature = "sim")]
#[test]
fn without_an_api_key_submit_is_a_usage_error_that_names_the_variable() {
    let sim = sim(&[]);
    let output = vidspec(&sim, &["submit", &example("pixverse-t2v.json")], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("APIMART_API_KEY"));
}

#[cfg(feature = "sim")]
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

#[cfg(feature = "sim")]
#[test]
fn local_images_are_uploaded_and_replaced_by_their_urls() {
    let sim = sim(&[]);
    let dir = temp_dir("upload");
    std::fs::write(dir.join("cat.png"), png(512, 512)).expect("png");
    let request = write(
        &dir,
        "request.json",
        r#"{"model": "viduq3", "prompt": "the cat walks", "image_urls": ["cat.png"]}"#,
    );
    let output = Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args(["submit", &request, "--format", "json"])
        .current_dir(&dir)
        .env("VIDSPEC_JOURNAL", &sim.journal)
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

#[cfg(feature = "sim")]
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

#[cfg(feature = "sim")]
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

#[cfg(feature = "sim")]
#[test]
fn a_local_image_too_small_for_the_model_is_refused_before_upload() {
    let sim = sim(&[]);
    let dir = temp_dir("preflight");
    std::fs::write(dir.join("tiny.png"), png(64, 64)).expect("png");
    let request = write(
        &dir,
        "request.json",
        r#"{"model": "viduq3", "prompt": "the cat walks", "image_urls": ["tiny.png"]}"#,
    );
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_vidspec"))
            .arg("submit")
            .arg(&request)
            .args(extra)
            .current_dir(&dir)
            .env("VIDSPEC_JOURNAL", &sim.journal)
            .env("APIMART_BASE_URL", &sim.base_url)
            .env("APIMART_API_KEY", "sim-key")
            .env_remove("VIDSPEC_PREFLIGHT")
            .output()
            .expect("runs")
    };
    let refused = run(&[]);
    assert_eq!(refused.status.code(), Some(1));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("/image_urls/0") && message.contains("128"),
        "{message}"
    );
    assert_eq!(stats(&sim)["uploads"], 0);
    assert_eq!(stats(&sim)["submit_attempts"], 0);
    let skipped = run(&["--no-preflight"]);
    assert_eq!(
        skipped.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&skipped.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "sim")]
#[test]
fn extending_a_task_that_is_still_running_is_refused() {
    let sim = support::sim_at("1", &[]);
    let first = vidspec(
        &sim,
        &["submit", &example("pixverse-t2v.json"), "--format", "json"],
        Some("sim-key"),
    );
    assert_eq!(first.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&first.stdout).expect("JSON");
    let task = json["task_id"].as_str().expect("task id").to_owned();
    let dir = temp_dir("extend");
    let request = write(
        &dir,
        "extend.json",
        &format!(
            r#"{{"model": "pixverse-v6", "prompt": "walks on", "extend_from_task_id": "{task}"}}"#
        ),
    );
    let refused = support::vidspec_preflight(&sim, &["submit", &request], Some("sim-key"));
    assert_eq!(
        refused.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("extend_from_task_id"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "sim")]
#[test]
fn a_simulator_started_with_a_balance_refuses_the_submit_it_cannot_pay_for_with_402() {
    // Each simulated task costs 0.2: the balance pays for exactly one.
    let sim = sim(&["--balance", "0.2"]);
    let paid = vidspec(
        &sim,
        &["submit", &example("pixverse-t2v.json"), "--again"],
        Some("sim-key"),
    );
    assert_eq!(
        paid.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&paid.stderr)
    );
    let refused = vidspec(
        &sim,
        &[
            "submit",
            &example("pixverse-t2v.json"),
            "--again",
            "--format",
            "json",
        ],
        Some("sim-key"),
    );
    assert_eq!(refused.status.code(), Some(3), "a gateway refusal");
    let answer: Value = serde_json::from_slice(&refused.stdout).expect("one JSON object");
    assert_eq!(answer["error"]["kind"], "payment_required", "{answer}");
    let stats = stats(&sim);
    assert_eq!(
        (
            stats["submits"].as_u64(),
            stats["balance_refusals"].as_u64()
        ),
        (Some(1), Some(1)),
        "{stats}"
    );
}

#[cfg(feature = "sim")]
#[test]
fn a_negative_balance_is_refused_before_the_simulator_listens() {
    let output = Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args(["sim", "--balance=-1"])
        .output()
        .expect("vidspec runs");
    assert_eq!(output.status.code(), Some(2), "a usage error");
    assert!(output.stdout.is_empty(), "nothing listened");
    assert!(String::from_utf8_lossy(&output.stderr).contains("balance"));
}
