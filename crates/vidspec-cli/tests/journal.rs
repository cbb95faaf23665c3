//! No paid task is lost, none is paid twice, no secret leaks: real processes
//! against `vidspec sim`, including `kill -9` in the middle of a wait, eight
//! identical submits at once, an older journal with damaged lines and a
//! damaged ledger.

// Every test here runs `vidspec sim`.
#![cfg(feature = "sim")]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{SimProcess, example, sim, sim_at, stats, temp_dir, vidspec};
use vidspec_journal::{Intent, Ledger, State, StateFilter, Step, collect};

/// The ledger the test's `VIDSPEC_JOURNAL` (a `.jsonl` name) maps to.
fn ledger_path(sim: &SimProcess) -> PathBuf {
    vidspec_journal::locate(Some(&sim.journal)).ledger
}

/// Everything the ledger holds on disk (the database, its WAL and shared
/// memory files), as text where it is text.
fn ledger_bytes(sim: &SimProcess) -> String {
    let ledger = ledger_path(sim);
    let mut text = String::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = ledger.clone().into_os_string();
        name.push(suffix);
        if let Ok(bytes) = std::fs::read(&name) {
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    text
}

fn has_running_entry(ledger: &Path) -> bool {
    let Ok(ledger) = Ledger::open(ledger) else {
        return false;
    };
    collect(|visit| ledger.unfinished(StateFilter::Only(State::Running), visit))
        .is_ok_and(|entries| !entries.is_empty())
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
    while !has_running_entry(&ledger_path(&sim)) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the ledger never recorded the submit"
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

/// An older JSON-lines journal as a full disk or a kill leaves it: a torn
/// multi-byte character (invalid UTF-8) in the middle and a torn last line.
/// It is imported once, each damaged line named as PATH:LINE with what to
/// do, and every other entry survives (before, one bad byte made the whole
/// journal unreadable).
#[test]
fn an_older_journal_with_damaged_lines_is_imported_once_and_every_other_entry_survives() {
    let sim = sim(&[]);
    let mut bytes = Vec::new();
    bytes.extend_from_slice(br#"{"v":1,"entry":"e1","at":1779958948,"event":"intent","model":"veo3.1-fast","spec":"s","request":"r1","endpoint":"/v1/videos/generations"}"#);
    bytes.extend_from_slice(b"\n");
    bytes.extend_from_slice(
        br#"{"v":1,"entry":"e1","at":1779958949,"event":"submitted","task_id":"task_old_1"}"#,
    );
    bytes.extend_from_slice(b"\n{\"v\":1,\"entry\":\"e1\",\"at\":1779958950,\"event\":\"unknown\",\"reason\":\"r\xc3\"}\n");
    bytes.extend_from_slice(br#"{"v":1,"entry":"e2","at":1779958951,"event":"intent","model":"veo3.1-fast","spec":"s","request":"r2","endpoint":"/v1/videos/generations"}"#);
    bytes.extend_from_slice(b"\n");
    bytes.extend_from_slice(br#"{"v":1,"entry":"e3","at":1,"event":"int"#);
    std::fs::write(&sim.journal, &bytes).expect("an older journal");

    let listed = vidspec(&sim, &["tasks"], None);
    let stderr = String::from_utf8_lossy(&listed.stderr);
    let stdout = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(listed.status.code(), Some(0), "{stderr}");
    let journal = sim.journal.display().to_string();
    assert!(
        stderr.contains(&format!(
            "imported 2 entries from {journal} into {}",
            ledger_path(&sim).display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{journal}:3: invalid UTF-8")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{journal}:5: a torn last line")),
        "{stderr}"
    );
    assert!(stderr.contains("the line was skipped"), "{stderr}");
    assert!(
        stdout.contains("running") && stdout.contains("task_old_1"),
        "{stdout}"
    );
    assert!(stdout.contains("unknown"), "{stdout}");

    let again = vidspec(&sim, &["tasks", "--format", "json"], None);
    assert!(
        !String::from_utf8_lossy(&again.stderr).contains("imported"),
        "imported only once"
    );
    let json: Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!(json["entries"].as_array().map(Vec::len), Some(2), "{json}");
    assert_eq!(
        std::fs::read(&sim.journal).expect("read"),
        bytes,
        "left as it was"
    );
    // New submissions go on in the ledger.
    let submitted = vidspec(
        &sim,
        &["submit", &example("pixverse-t2v.json")],
        Some("sim-key"),
    );
    assert_eq!(submitted.status.code(), Some(0));
    let listed = vidspec(&sim, &["tasks", "--format", "json"], None);
    let json: Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert_eq!(json["entries"].as_array().map(Vec::len), Some(3), "{json}");
}

/// Eight identical submits started at the same moment: the simulator sees
/// exactly one, and the other seven are refused with what to do.
#[test]
fn eight_identical_submits_at_once_are_sent_exactly_once() {
    let sim = sim(&[]);
    let request = example("veo-first-last.json");
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_vidspec"))
                .args(["submit", &request])
                .env("APIMART_BASE_URL", &sim.base_url)
                .env("APIMART_API_KEY", "sim-key")
                .env("VIDSPEC_POLL_SCALE", &sim.speed)
                .env("VIDSPEC_JOURNAL", &sim.journal)
                .env("VIDSPEC_PREFLIGHT", "off")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("submit starts")
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|child| child.wait_with_output().expect("submit ends"))
        .collect();
    let sent = outputs
        .iter()
        .filter(|output| output.status.code() == Some(0))
        .count();
    let refusals: Vec<String> = outputs
        .iter()
        .filter(|output| output.status.code() == Some(2))
        .map(|output| String::from_utf8_lossy(&output.stderr).into_owned())
        .collect();
    assert_eq!(stats(&sim)["submits"], 1, "the gateway saw one submit");
    assert_eq!((sent, refusals.len()), (1, 7), "{refusals:#?}");
    for refusal in &refusals {
        assert!(
            refusal.contains("identical request")
                && refusal.contains("entry j")
                && refusal.contains("vidspec resume")
                && refusal.contains("--again"),
            "{refusal}"
        );
    }
}

/// A file that is not a database where the ledger should be: every command
/// that needs the ledger stops with what is wrong and what to do, and
/// nothing is sent.
#[test]
fn a_damaged_ledger_stops_submit_and_tasks_with_what_to_do() {
    let sim = sim(&[]);
    let ledger = ledger_path(&sim);
    std::fs::create_dir_all(ledger.parent().expect("a directory")).expect("dir");
    std::fs::write(&ledger, "garbage, not a database\n".repeat(100)).expect("garbage");
    for args in [
        vec!["tasks"],
        vec!["submit", &example("omni-i2v.json")],
        vec!["resume"],
    ] {
        let output = vidspec(&sim, &args, Some("sim-key"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("the ledger {} is damaged", ledger.display()))
                && stderr.contains("move it aside")
                && stderr.contains(".bak"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(stats(&sim)["submit_attempts"], 0, "nothing was sent");
}

/// `tasks` on a large ledger lists what needs attention and the newest
/// finished submissions, and says how many it left out and how to see them.
#[test]
fn tasks_lists_every_unfinished_entry_and_the_newest_finished_ones_with_a_count_of_the_rest() {
    let sim = sim(&[]);
    let ledger = Ledger::open(ledger_path(&sim)).expect("open");
    for index in 0..45 {
        let intent = Intent {
            model: "veo3.1-fast".into(),
            spec: "s".into(),
            request: format!("r{index}"),
            endpoint: "/v1/videos/generations".into(),
            download_dir: None,
            idempotency_key: None,
            body: None,
            ..Default::default()
        };
        let vidspec_journal::Claim::Claimed(entry) = ledger
            .claim(&intent, vidspec_journal::Guard::Unfinished)
            .expect("claim")
        else {
            panic!("a new request is claimed");
        };
        let step = if index % 10 == 0 {
            Step::Submitted {
                task_id: format!("task_{index}"),
            }
        } else {
            Step::NotSent {
                reason: format!("refused {index}"),
            }
        };
        ledger.record(&entry, &step).expect("record");
    }
    let listed = vidspec(&sim, &["tasks"], None);
    let stdout = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(listed.status.code(), Some(0));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5 + 20 + 1, "{stdout}");
    assert!(
        lines[..5].iter().all(|line| line.starts_with("running")),
        "{stdout}"
    );
    assert!(
        lines[24].contains("refused 44"),
        "the newest last: {stdout}"
    );
    assert_eq!(
        lines[25],
        "… and 20 earlier finished submissions not shown; --all lists every one, --limit N the newest N"
    );
    let all = vidspec(&sim, &["tasks", "--all", "--format", "json"], None);
    let json: Value = serde_json::from_slice(&all.stdout).expect("JSON");
    assert_eq!(json["entries"].as_array().map(Vec::len), Some(45));
    assert_eq!(json["not_shown"], 0);
    let limited = vidspec(
        &sim,
        &[
            "tasks", "--state", "not-sent", "--limit", "3", "--format", "json",
        ],
        None,
    );
    let json: Value = serde_json::from_slice(&limited.stdout).expect("JSON");
    assert_eq!(json["entries"].as_array().map(Vec::len), Some(3), "{json}");
    assert_eq!(json["not_shown"], 37);
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
    everything.push_str(&ledger_bytes(&sim));
    let listed = vidspec(&sim, &["tasks", "--all", "--format", "json"], None);
    everything.push_str(&String::from_utf8_lossy(&listed.stdout));
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

/// Another process holds the ledger's write lock for longer than vidspec
/// waits, right while the submit is in flight: the task exists, so the
/// submit is an error (exit 5) naming the task and the command that waits
/// for it; once the lock is gone the entry records the true cause with the
/// task id, and the printed command saves the video.
#[test]
fn a_task_the_ledger_cannot_record_is_an_error_naming_the_task_and_the_wait_command() {
    use std::io::{BufRead, BufReader};

    let sim = sim(&["--faults", "slow=1,slow-ms=1500,on=submits"]);
    let ledger = ledger_path(&sim);
    let dir = temp_dir("unrecorded");
    let videos = dir.join("videos");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args(["submit", &example("omni-i2v.json"), "--download"])
        .arg(&videos)
        .env("APIMART_BASE_URL", &sim.base_url)
        .env("APIMART_API_KEY", "sim-key")
        .env("VIDSPEC_POLL_SCALE", &sim.speed)
        .env("VIDSPEC_JOURNAL", &sim.journal)
        .env("VIDSPEC_PREFLIGHT", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("submit starts");
    // The intent is in; the submit is on its way (the simulator answers slowly).
    let started = Instant::now();
    let intent_recorded = || {
        Ledger::open(&ledger).is_ok_and(|ledger| {
            collect(|visit| ledger.unfinished(StateFilter::Only(State::Unknown), visit))
                .is_ok_and(|entries| !entries.is_empty())
        })
    };
    while !intent_recorded() {
        assert!(started.elapsed() < Duration::from_secs(20), "no intent");
        std::thread::sleep(Duration::from_millis(10));
    }
    let locker = rusqlite::Connection::open(&ledger).expect("open the ledger");
    locker
        .execute_batch("BEGIN EXCLUSIVE")
        .expect("the write lock");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut said = String::new();
    while !said.contains("could not record it") {
        let mut line = String::new();
        if stderr.read_line(&mut line).expect("stderr") == 0 {
            break;
        }
        said.push_str(&line);
    }
    locker.execute_batch("ROLLBACK").expect("the lock released");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("stderr");
    said.push_str(&rest);
    let status = child.wait().expect("submit ends");
    assert_eq!(status.code(), Some(5), "{said}");
    assert_eq!(stats(&sim)["submits"], 1);

    let task = said
        .split("accepted task ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("the task id is named: {said}"))
        .to_owned();
    assert!(
        said.contains("is locked") && said.contains("do not submit it again"),
        "{said}"
    );
    let command = format!(
        "vidspec wait {task} --model Omni-Flash-Ext --download {}",
        videos.display()
    );
    assert!(said.contains(&format!("`{command}`")), "{said}");

    let recorded = Ledger::open(&ledger).expect("open");
    let entries = collect(|visit| recorded.unfinished(StateFilter::Only(State::Unknown), visit))
        .expect("list");
    let reason = entries[0].reason.clone().unwrap_or_default();
    assert!(
        reason.contains(&task) && reason.contains("recording that failed"),
        "the true cause is recorded: {reason}"
    );

    let words: Vec<&str> = command.split(' ').skip(1).collect();
    let waited = vidspec(&sim, &words, Some("sim-key"));
    assert_eq!(
        waited.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&waited.stderr)
    );
    assert_eq!(std::fs::read_dir(&videos).expect("videos").count(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn resume_resends_an_unknown_entry_that_has_an_idempotency_key_and_records_its_task() {
    let sim = sim(&[]);
    let registry = vidspec_core::Registry::embedded();
    let plan = registry
        .model("Omni-Flash-Ext")
        .expect("model")
        .prepare(serde_json::json!({"model": "Omni-Flash-Ext", "prompt": "a kite whose answer was lost"}))
        .expect("valid");
    let body = serde_json::to_vec(plan.body()).expect("bytes");
    // What a submit with an idempotency key leaves when its answer is lost.
    let ledger = Ledger::open(ledger_path(&sim)).expect("open");
    let intent = Intent {
        model: "Omni-Flash-Ext".into(),
        spec: "s".into(),
        request: "r".into(),
        endpoint: plan.endpoint().path.clone(),
        download_dir: None,
        idempotency_key: Some("vidspec-key-1".into()),
        body: Some(body),
        ..Default::default()
    };
    ledger
        .claim(&intent, vidspec_journal::Guard::Unfinished)
        .expect("claim");
    drop(ledger);

    let resumed = vidspec(&sim, &["resume"], Some("sim-key"));
    let said = String::from_utf8_lossy(&resumed.stderr);
    assert_eq!(resumed.status.code(), Some(0), "{said}");
    assert!(said.contains("resent with its idempotency key"), "{said}");
    assert_eq!(stats(&sim)["submits"], 1);
    let ledger = Ledger::open(ledger_path(&sim)).expect("open");
    let entries = collect(|visit| ledger.unfinished(StateFilter::Any, visit)).expect("list");
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].state, State::Succeeded);
    assert!(entries[0].task_id.is_some());
}
