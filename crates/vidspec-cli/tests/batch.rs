//! `vidspec batch run | plan | status` as real processes against `vidspec
//! sim` on loopback: every invalid line reported before anything is sent,
//! videos named by job id, the report, a second run that submits nothing,
//! the plan's estimate, the status from the ledger, output without escape
//! codes in a pipe, and a run killed with SIGKILL then resumed.

// Without the `sim` feature the tests that run `vidspec sim` are left out,
// and the helpers only they use go unused.
#![cfg_attr(not(feature = "sim"), allow(dead_code, unused_imports))]

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use support::{SimProcess, sim, sim_at, stats, temp_dir, vidspec};

/// A manifest line for a job `id` (a request the simulator accepts).
fn job(id: &str) -> String {
    format!(
        r#"{{"id": "{id}", "model": "pixverse-v6", "prompt": "a paper boat on a river, take {id}", "resolution": "720p", "duration": 5}}"#
    )
}

/// Writes `lines` as `NAME.jsonl` in `dir`; its path.
fn manifest(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(format!("{name}.jsonl"));
    std::fs::write(&path, lines.join("\n") + "\n").expect("write the manifest");
    path
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `vidspec batch run MANIFEST --out DIR/videos` against `sim`.
fn batch_run(sim: &SimProcess, manifest: &Path, out: &Path, extra: &[&str]) -> Output {
    let manifest = manifest.display().to_string();
    let out = out.display().to_string();
    // The simulator takes far more than the gateway's 7 requests a second.
    let mut args = vec![
        "batch",
        "run",
        manifest.as_str(),
        "--out",
        out.as_str(),
        "--rps",
        "200",
    ];
    args.extend_from_slice(extra);
    vidspec(sim, &args, Some("sim-key"))
}

/// The videos in `dir`, sorted; hidden files left out (the `.NAME.part`
/// of a download cut short by SIGKILL).
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| !name.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[cfg(feature = "sim")]
#[test]
fn every_invalid_line_is_reported_at_once_and_nothing_is_sent() {
    let sim = sim(&[]);
    let dir = temp_dir("batch-invalid");
    let manifest = manifest(
        &dir,
        "jobs",
        &[
            job("a"),
            r#"{"id": "b", "model": "pixverse-v6", "prompt": "x", "durtion": 5}"#.to_owned(),
            job("c"),
            r#"{"id": "d", "model": "no-such-model", "prompt": "x"}"#.to_owned(),
            "not json at all".to_owned(),
        ],
    );
    let output = batch_run(&sim, &manifest, &dir.join("videos"), &[]);
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(1), "{shown}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    for line in [":2:", ":4:", ":5:"] {
        assert!(stderr.contains(line), "line {line} is reported: {shown}");
    }
    assert!(stderr.contains("durtion"), "{shown}");
    assert!(stderr.contains("--skip-invalid"), "{shown}");
    let stats = stats(&sim);
    assert_eq!(stats["submit_attempts"], 0, "{stats}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "sim")]
#[test]
fn skip_invalid_runs_the_valid_lines_only() {
    let sim = sim(&[]);
    let dir = temp_dir("batch-skip");
    let manifest = manifest(
        &dir,
        "jobs",
        &[
            job("a"),
            r#"{"id": "b", "model": "no-such-model", "prompt": "x"}"#.to_owned(),
            job("c"),
        ],
    );
    let videos = dir.join("videos");
    let output = batch_run(&sim, &manifest, &videos, &["--skip-invalid"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(files_in(&videos), ["a-0.mp4", "c-0.mp4"]);
    assert_eq!(stats(&sim)["submits"], 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "sim")]
#[test]
fn a_run_saves_every_video_under_its_job_id_and_writes_the_report() {
    let sim = sim(&[]);
    let dir = temp_dir("batch-run");
    let ids = ["one", "two", "three", "four"];
    let lines: Vec<String> = ids.iter().map(|id| job(id)).collect();
    let manifest = manifest(&dir, "jobs", &lines);
    let videos = dir.join("videos");
    let report = dir.join("report.jsonl");
    let output = batch_run(
        &sim,
        &manifest,
        &videos,
        &["--report", &report.display().to_string()],
    );
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(0), "{shown}");
    assert_eq!(
        files_in(&videos),
        ["four-0.mp4", "one-0.mp4", "three-0.mp4", "two-0.mp4"]
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("JOB"), "the table has a header: {shown}");
    for id in ids {
        assert!(
            stdout
                .lines()
                .any(|line| line.starts_with(id) && line.contains("downloaded")),
            "{shown}"
        );
    }
    let report = std::fs::read_to_string(&report).expect("the report is written");
    let lines: Vec<Value> = report
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), ids.len(), "{report}");
    for line in &lines {
        assert!(line["task_id"].is_string(), "{line}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "sim")]
#[test]
fn a_second_run_of_the_same_manifest_submits_nothing() {
    let sim = sim(&[]);
    let dir = temp_dir("batch-again");
    let lines: Vec<String> = ["a", "b", "c"].iter().map(|id| job(id)).collect();
    let manifest = manifest(&dir, "jobs", &lines);
    let videos = dir.join("videos");
    let first = batch_run(&sim, &manifest, &videos, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert_eq!(stats(&sim)["submits"], 3);
    let second = batch_run(&sim, &manifest, &videos, &[]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert_eq!(stats(&sim)["submit_attempts"], 3, "nothing more was sent");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "sim")]
#[test]
fn batch_status_summarises_a_finished_run_from_the_ledger() {
    let sim = sim(&[]);
    let dir = temp_dir("batch-status");
    let lines: Vec<String> = ["a", "b"].iter().map(|id| job(id)).collect();
    let manifest = manifest(&dir, "nightly", &lines);
    let run = batch_run(&sim, &manifest, &dir.join("videos"), &[]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let status = vidspec(
        &sim,
        &["batch", "status", "--run", "nightly", "--json"],
        None,
    );
    assert_eq!(status.status.code(), Some(0), "{}", text(&status));
    let summary: Value = serde_json::from_slice(&status.stdout).expect("one JSON object");
    assert_eq!(summary["run"], "nightly", "{summary}");
    assert_eq!(summary["jobs"], 2, "{summary}");
    assert_eq!(summary["by_state"]["downloaded"], 2, "{summary}");
    let text_status = vidspec(
        &sim,
        &["batch", "status", &manifest.display().to_string()],
        None,
    );
    let stdout = String::from_utf8_lossy(&text_status.stdout);
    assert!(stdout.contains("nightly"), "{}", text(&text_status));
    assert!(stdout.contains("downloaded 2"), "{}", text(&text_status));
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "sim")]
#[test]
fn output_in_a_pipe_holds_no_escape_codes() {
    let sim = sim(&[]);
    let dir = temp_dir("batch-pipe");
    let lines: Vec<String> = ["a", "b"].iter().map(|id| job(id)).collect();
    let manifest = manifest(&dir, "jobs", &lines);
    let output = batch_run(&sim, &manifest, &dir.join("videos"), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    for (name, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        assert!(
            !bytes.contains(&0x1b) && !bytes.contains(&b'\r'),
            "{name} holds an escape or a carriage return: {}",
            text(&output)
        );
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("submitted a as task_"), "{}", text(&output));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Kills a `batch run` with SIGKILL once the simulator has created a few
/// tasks, runs the same command again, and checks that no job was
/// submitted twice and every job whose submit was answered has its video.
#[cfg(all(feature = "sim", unix))]
#[test]
fn a_run_killed_with_sigkill_resumes_without_submitting_any_job_twice() {
    use std::time::{Duration, Instant};

    // Slow enough that the run is mid-way when it is killed.
    let sim = sim_at("100", &[]);
    let dir = temp_dir("batch-kill");
    let ids: Vec<String> = (0..24).map(|n| format!("job{n:02}")).collect();
    let lines: Vec<String> = ids.iter().map(|id| job(id)).collect();
    let manifest = manifest(&dir, "jobs", &lines);
    let videos = dir.join("videos");

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args(["batch", "run"])
        .arg(&manifest)
        .arg("--out")
        .arg(&videos)
        // A short lease: the second run takes the killed worker's jobs over
        // once it ends.
        .args(["--concurrency", "4", "--rps", "200", "--lease", "3"])
        .env("VIDSPEC_PREFLIGHT", "off")
        .env("APIMART_BASE_URL", &sim.base_url)
        .env("VIDSPEC_POLL_SCALE", &sim.speed)
        .env("VIDSPEC_JOURNAL", &sim.journal)
        .env("APIMART_API_KEY", "sim-key")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("batch run starts");
    let started = Instant::now();
    while stats(&sim)["submits"].as_u64().unwrap_or(0) < 6 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run submitted fewer than 6 jobs in a minute"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let before = stats(&sim)["submits"].as_u64().unwrap_or(0);
    assert!(before < ids.len() as u64, "killed mid-way ({before})");

    let again = batch_run(
        &sim,
        &manifest,
        &videos,
        &["--concurrency", "4", "--lease", "3"],
    );
    let shown = text(&again);
    let status = vidspec(&sim, &["batch", "status", "--run", "jobs", "--json"], None);
    let summary: Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    let unknown = summary["by_state"]["unknown"].as_u64().unwrap_or(0);
    let downloaded = summary["by_state"]["downloaded"].as_u64().unwrap_or(0);
    // A submit in flight at the kill has no recorded answer: it stays
    // unknown (exit 6), listed, never sent again.
    let expected = if unknown == 0 { 0 } else { 6 };
    assert_eq!(again.status.code(), Some(expected), "{shown}\n{summary}");
    assert_eq!(downloaded + unknown, ids.len() as u64, "{summary}");
    let submits = stats(&sim)["submits"].as_u64().unwrap_or(0);
    assert!(
        submits >= downloaded && submits <= downloaded + unknown,
        "one task per job: {submits} tasks for {downloaded} downloaded and {unknown} unknown jobs"
    );
    let files = files_in(&videos);
    assert_eq!(files.len() as u64, downloaded, "{files:?}");
    for id in &ids {
        let saved = files.contains(&format!("{id}-0.mp4"));
        assert!(saved || unknown > 0, "{id} has its video: {files:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "sim")]
#[test]
fn a_run_with_webhooks_ends_through_callbacks_and_never_prints_the_token() {
    let sim = sim(&[]);
    let dir = temp_dir("batch-webhook");
    let lines: Vec<String> = ["a", "b", "c"].iter().map(|id| job(id)).collect();
    let manifest = manifest(&dir, "jobs", &lines);
    let videos = dir.join("videos");
    // A free loopback port for the receiver (the simulator's callbacks may
    // reach loopback).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let public = format!("http://127.0.0.1:{port}/hooks");
    let output = batch_run(
        &sim,
        &manifest,
        &videos,
        &["--webhook-listen", &listen, "--webhook-url", &public],
    );
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(0), "{shown}");
    assert_eq!(files_in(&videos), ["a-0.mp4", "b-0.mp4", "c-0.mp4"]);
    assert!(shown.contains(&public), "the URL given is named: {shown}");
    assert!(
        !shown.contains("/hooks/"),
        "nothing after the URL given (the token) is printed: {shown}"
    );
    let stats = stats(&sim);
    assert!(
        stats["callbacks_sent"].as_u64().unwrap_or(0) >= 3,
        "{stats}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn batch_plan_prints_the_cost_per_model_and_key_where_each_price_came_from_and_the_unpriced_jobs() {
    let dir = temp_dir("batch-plan");
    let lines = [
        r#"{"id": "a", "model": "pixverse-v6", "prompt": "one", "resolution": "720p", "duration": 5}"#,
        r#"{"id": "b", "model": "pixverse-v6", "prompt": "two", "resolution": "720p", "duration": 8}"#,
        r#"{"id": "c", "model": "pixverse-v6", "prompt": "three", "resolution": "1080p", "duration": 5}"#,
    ]
    .map(str::to_owned);
    manifest(&dir, "shots", &lines);
    std::fs::write(
        dir.join("prices.yaml"),
        "\"pixverse-v6@720p/*\": 0.25\n\"pixverse-v6@720p/8s/*\": 0.4\n",
    )
    .expect("write the price file");
    let output = assert_cmd::cargo::cargo_bin_cmd!("vidspec")
        .current_dir(&dir)
        .args(["batch", "plan", "shots.jsonl", "--prices", "prices.yaml"])
        .args(["--ledger", "ledger.sqlite3"])
        .env_remove("VIDSPEC_JOURNAL")
        .output()
        .expect("vidspec runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let expected = "\
estimate for shots.jsonl (run shots): 3 job(s), $0.65 for the priced ones; 1 without a price

per model:
  MODEL        JOBS  ESTIMATE  NO PRICE
  pixverse-v6     3     $0.65         1
  total           3     $0.65         1

per billing key:
  BILLING KEY                       UNITS  PRICE  ESTIMATE  PRICE FROM
  pixverse-v6@1080p/5s/audio=false      1      -         -  no price
  pixverse-v6@720p/5s/audio=false       1  $0.25     $0.25  price file: pixverse-v6@720p/*
  pixverse-v6@720p/8s/audio=false       1  $0.40     $0.40  price file: pixverse-v6@720p/8s/*

no known price (1 job(s)); add their billing keys to a --prices file:
  c (pixverse-v6): pixverse-v6@1080p/5s/audio=false
";
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "sim")]
#[test]
fn the_budget_stops_submitting_before_the_job_that_would_pass_it_and_exits_7() {
    let sim = sim(&[]);
    let dir = temp_dir("batch-budget");
    let lines: Vec<String> = ["a", "b", "c", "d", "e"].iter().map(|id| job(id)).collect();
    let manifest = manifest(&dir, "jobs", &lines);
    let prices = dir.join("prices.yaml");
    std::fs::write(&prices, "\"pixverse-v6@*\": 0.2\n").expect("write the price file");
    let output = batch_run(
        &sim,
        &manifest,
        &dir.join("videos"),
        &["--budget", "0.5", "--prices", &prices.display().to_string()],
    );
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(7), "{shown}");
    assert_eq!(
        stats(&sim)["submits"],
        2,
        "$0.40 spent, a third would pass $0.50"
    );
    assert!(shown.contains("budget"), "{shown}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two `batch run` processes share one manifest through a PostgreSQL
/// ledger (`VIDSPEC_TEST_POSTGRES`, started by `.ci/postgres`; skipped
/// without it, except under CI): every job is submitted once, by one of
/// them, and every video is saved.
#[cfg(feature = "sim")]
#[test]
fn two_workers_on_one_postgres_ledger_share_a_manifest_without_submitting_any_job_twice() {
    let url = match std::env::var("VIDSPEC_TEST_POSTGRES") {
        Ok(url) if !url.trim().is_empty() => url,
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI is set but VIDSPEC_TEST_POSTGRES is not: `eval \"$(.ci/postgres)\"`")
        }
        _ => {
            eprintln!("skipped: VIDSPEC_TEST_POSTGRES is not set");
            return;
        }
    };
    let sim = sim_at("200", &[]);
    let dir = temp_dir("batch-postgres");
    let ids: Vec<String> = (0..16).map(|n| format!("pg{n:02}")).collect();
    let lines: Vec<String> = ids.iter().map(|id| job(id)).collect();
    let manifest = manifest(&dir, "shared", &lines);
    let videos = dir.join("videos");
    // A run of this test's own in the shared database.
    let run = format!("cli-test-{}-{}", std::process::id(), fastrand_suffix());
    let worker = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_vidspec"))
            .args(["batch", "run"])
            .arg(&manifest)
            .arg("--out")
            .arg(&videos)
            .args(["--run", &run, "--ledger", &url, "--concurrency", "3"])
            .args(["--rps", "200", "--lease", "5"])
            .env("VIDSPEC_PREFLIGHT", "off")
            .env("APIMART_BASE_URL", &sim.base_url)
            .env("VIDSPEC_POLL_SCALE", &sim.speed)
            .env("APIMART_API_KEY", "sim-key")
            .output()
    };
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(worker);
        let second = scope.spawn(worker);
        (
            first.join().expect("first worker").expect("runs"),
            second.join().expect("second worker").expect("runs"),
        )
    });
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert_eq!(stats(&sim)["submits"], ids.len(), "one task per job");
    let expected: Vec<String> = {
        let mut names: Vec<String> = ids.iter().map(|id| format!("{id}-0.mp4")).collect();
        names.sort();
        names
    };
    assert_eq!(files_in(&videos), expected);
    let shown = format!("{}{}", text(&first), text(&second));
    let password = url::Url::parse(&url)
        .ok()
        .and_then(|url| url.password().map(str::to_owned))
        .unwrap_or_default();
    assert!(
        password.is_empty() || !shown.contains(&password),
        "the ledger's password is never printed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A few random hex digits (from the temp dir's random name).
fn fastrand_suffix() -> String {
    let dir = temp_dir("suffix");
    let name = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let _ = std::fs::remove_dir(&dir);
    name.rsplit('-').next().unwrap_or_default().to_owned()
}

/// Ctrl-C (SIGINT) stops submitting, lists what runs, releases the
/// worker's leases and prints the command that resumes; exit 130.
#[cfg(all(feature = "sim", unix))]
#[test]
fn ctrl_c_stops_submitting_releases_the_leases_and_says_how_to_resume() {
    use std::time::{Duration, Instant};

    // Slow tasks: the run is still going when it is interrupted.
    let sim = sim_at("20", &[]);
    let dir = temp_dir("batch-ctrl-c");
    let lines: Vec<String> = (0..12).map(|n| job(&format!("c{n:02}"))).collect();
    let manifest = manifest(&dir, "jobs", &lines);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args(["batch", "run"])
        .arg(&manifest)
        .arg("--out")
        .arg(dir.join("videos"))
        .args(["--concurrency", "3", "--rps", "200"])
        .env("VIDSPEC_PREFLIGHT", "off")
        .env("APIMART_BASE_URL", &sim.base_url)
        .env("VIDSPEC_POLL_SCALE", &sim.speed)
        .env("VIDSPEC_JOURNAL", &sim.journal)
        .env("APIMART_API_KEY", "sim-key")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("batch run starts");
    let started = Instant::now();
    while stats(&sim)["submits"].as_u64().unwrap_or(0) < 3 {
        assert!(started.elapsed() < Duration::from_secs(60), "no submits");
        std::thread::sleep(Duration::from_millis(20));
    }
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(interrupted.success());
    let output = child.wait_with_output().expect("batch run ends");
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(130), "{shown}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("interrupted"), "{shown}");
    assert!(stderr.contains("leases are released"), "{shown}");
    assert!(stderr.contains("to resume"), "{shown}");
    let submits = stats(&sim)["submits"].as_u64().unwrap_or(0);
    assert!(submits < 12, "submitting stopped: {submits}");
    let status = vidspec(&sim, &["batch", "status", "--run", "jobs", "--json"], None);
    let summary: Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    assert_eq!(summary["workers"], serde_json::json!([]), "{summary}");
    let _ = std::fs::remove_dir_all(&dir);
}
