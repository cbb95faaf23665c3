//! No paid task is lost, none is paid twice, no secret leaks: real processes
//! against `vidspec sim`, including `kill -9` in the middle of a wait.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{example, sim, sim_at, stats, temp_dir, vidspec};

fn journal_text(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn a_submit_killed_mid_wait_is_finished_by_resume() {
    // 60 s tasks at 10× speed: the wait lasts about 6 s, long enough to kill it.
    let sim = sim_at("10", &[]);
    let dir = temp_dir("kill");
    let videos = dir.join("videos");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args(["submit", &example("omni-i2v.json"), "--wait", "--download"])
        .arg(&videos)
        .env("APIMART_BASE_URL", &sim.base_url)
        .env("APIMART_API_KEY", "sim-key")
        .env("VIDSPEC_POLL_SCALE", &sim.speed)
        .env("VIDSPEC_JOURNAL", &sim.journal)
        .env("VIDSPEC_PREFLIGHT", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("submit starts");
    let started = Instant::now();
    while !journal_text(&sim.journal).contains("\"event\":\"submitted\"") {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the journal never recorded the submit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert!(!videos.exists(), "killed before anything was downloaded");

    let listed = vidspec(
        &sim,
        &["tasks", "--state", "running", "--format", "json"],
        None,
    );
    let json: Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert_eq!(json["entries"].as_array().map(Vec::len), Some(1), "{json}");

    let resumed = vidspec(&sim, &["resume"], Some("sim-key"));
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let files: Vec<_> = std::fs::read_dir(&videos)
        .expect("resume downloaded into the submit's directory")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(
        &std::fs::read(files[0].path()).expect("video")[4..8],
        b"ftyp"
    );
    assert_eq!(stats(&sim)["submits"], 1, "resume never submits again");

    let listed = vidspec(
        &sim,
        &["tasks", "--state", "downloaded", "--format", "json"],
        None,
    );
    let json: Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert_eq!(json["entries"].as_array().map(Vec::len), Some(1), "{json}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_torn_last_journal_line_is_reported_and_earlier_entries_survive() {
    let sim = sim(&[]);
    let submitted = vidspec(
        &sim,
        &["submit", &example("omni-i2v.json")],
        Some("sim-key"),
    );
    assert_eq!(submitted.status.code(), Some(0));
    let mut text = journal_text(&sim.journal);
    text.push_str(r#"{"v":1,"entry":"j1","at":1,"event":"int"#);
    std::fs::write(&sim.journal, text).expect("tear the journal");
    let listed = vidspec(&sim, &["tasks"], None);
    assert_eq!(listed.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&listed.stderr).contains("torn last line"));
    assert!(String::from_utf8_lossy(&listed.stdout).contains("running"));
    // Appending goes on from a fresh line.
    let again = vidspec(
        &sim,
        &["submit", &example("pixverse-t2v.json")],
        Some("sim-key"),
    );
    assert_eq!(again.status.code(), Some(0));
    let listed = vidspec(&sim, &["tasks", "--format", "json"], None);
    let json: Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert_eq!(json["entries"].as_array().map(Vec::len), Some(2), "{json}");
}

#[test]
fn an_identical_unfinished_request_is_refused_unless_again() {
    let sim = sim(&[]);
    let first = vidspec(
        &sim,
        &["submit", &example("veo-first-last.json")],
        Some("sim-key"),
    );
    assert_eq!(first.status.code(), Some(0));
    let second = vidspec(
        &sim,
        &["submit", &example("veo-first-last.json")],
        Some("sim-key"),
    );
    assert_eq!(second.status.code(), Some(2));
    let message = String::from_utf8_lossy(&second.stderr);
    assert!(
        message.contains("identical request") && message.contains("--again"),
        "{message}"
    );
    assert_eq!(
        stats(&sim)["submit_attempts"],
        1,
        "the refused request was not sent"
    );
    let third = vidspec(
        &sim,
        &["submit", &example("veo-first-last.json"), "--again"],
        Some("sim-key"),
    );
    assert_eq!(third.status.code(), Some(0));
    assert_eq!(stats(&sim)["submits"], 2);
}

#[test]
fn a_finished_request_may_be_submitted_again_without_a_flag() {
    let sim = sim(&[]);
    let dir = temp_dir("finished");
    let out = dir.display().to_string();
    let first = vidspec(
        &sim,
        &["submit", &example("omni-i2v.json"), "--download", &out],
        Some("sim-key"),
    );
    assert_eq!(first.status.code(), Some(0));
    let second = vidspec(
        &sim,
        &["submit", &example("omni-i2v.json")],
        Some("sim-key"),
    );
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The key shows up nowhere: not in output, errors or the journal, whether
/// the commands succeed or fail.
#[test]
fn the_api_key_never_appears_in_anything_written() {
    const KEY: &str = "sk-test-0123456789-do-not-print";
    let sim = sim(&["--api-key", KEY]);
    let dir = temp_dir("secrets");
    let out = dir.display().to_string();
    let mut everything = String::new();
    let runs: Vec<Vec<&str>> = vec![
        vec!["submit", "--wait", "--download", &out],
        vec!["status", "task_does_not_exist"],
        vec!["wait", "task_does_not_exist"],
        vec!["submit", "--format", "json"],
        vec!["tasks", "--format", "json"],
        vec!["resume"],
    ];
    let example_file = example("omni-i2v.json");
    for mut args in runs {
        if args[0] == "submit" {
            args.insert(1, &example_file);
            args.push("--again");
        }
        for key in [KEY, "sk-wrong-key"] {
            let output = vidspec(&sim, &args, Some(key));
            everything.push_str(&String::from_utf8_lossy(&output.stdout));
            everything.push_str(&String::from_utf8_lossy(&output.stderr));
        }
    }
    everything.push_str(&journal_text(&sim.journal));
    for entry in std::fs::read_dir(&dir)
        .expect("downloads")
        .filter_map(Result::ok)
    {
        everything.push_str(&entry.file_name().to_string_lossy());
    }
    assert!(
        everything.contains("401"),
        "the wrong key was refused somewhere: {everything}"
    );
    assert!(!everything.contains(KEY), "the key leaked");
    assert!(!everything.contains("sk-wrong-key"), "the wrong key leaked");
    let _ = std::fs::remove_dir_all(&dir);
}
