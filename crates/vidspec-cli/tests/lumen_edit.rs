//! Issue 12 end to end, as a spec author outside this repository works: the
//! made-up family `tests/specs/lumen-edit` (inherits the APIMart gateway,
//! a settings object named by path, a `video:` input, one endpoint per mode)
//! is copied to a folder of the test's own, linted with `vidspec lint`, its
//! cases run and accepted with `vidspec test`, and a video edit is submitted
//! to `vidspec sim` with pre-flight on, waited for and downloaded. The video
//! to edit is served by a thread of this test on loopback; nothing leaves
//! 127.0.0.1.

// Without the `sim` feature the tests that run `vidspec sim` are left out,
// and the helpers only they use go unused.
#![cfg_attr(not(feature = "sim"), allow(dead_code, unused_imports))]

mod support;

#[path = "../../vidspec-transport/tests/fixtures/mod.rs"]
mod fixtures;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{serve_file, sim, stats, temp_dir, vidspec_preflight};

/// The family folder, copied (spec, vocabulary, cases; no snapshots) to a
/// fresh folder, as an author's own checkout would be.
fn author_folder() -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/specs/lumen-edit");
    let dir = temp_dir("lumen-edit");
    copy_tree(&source, &dir);
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a folder");
    for entry in std::fs::read_dir(from).expect("the family folder") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("a copy");
        }
    }
}

/// `vidspec ARGS` with no gateway in reach (lint and test need none).
fn offline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args(args)
        .env("APIMART_BASE_URL", "http://127.0.0.1:9")
        .output()
        .expect("vidspec runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_lumen_edit_family_lints_clean() {
    let dir = author_folder();
    let output = offline(&["lint", "--specs", &dir.display().to_string()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains(": no problems"), "{}", text(&output));
}

#[test]
fn the_lumen_edit_cases_pass_vidspec_test_once_their_snapshots_are_accepted() {
    let dir = author_folder();
    let specs = dir.display().to_string();
    let first = offline(&["test", "--specs", &specs]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first));
    assert!(
        text(&first).contains("test: 9 cases: 0 ok, 9 new, 0 changed, 0 failed"),
        "{}",
        text(&first)
    );
    let accepted = offline(&["test", "--specs", &specs, "--accept"]);
    assert_eq!(accepted.status.code(), Some(0), "{}", text(&accepted));
    let again = offline(&["test", "--specs", &specs]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(
        text(&again).contains("test: 9 cases: 9 ok, 0 new, 0 changed, 0 failed"),
        "{}",
        text(&again)
    );
    // The accepted snapshot of the edit case shows the mode's own endpoint,
    // the nested default in the effective values and the billing by path.
    let snapshot = std::fs::read_to_string(
        dir.join("cases/snapshots/ok__edit-posts-to-its-own-path.json.snap"),
    )
    .expect("the accepted snapshot");
    assert!(
        snapshot.contains(r#""path": "/v1/videos/lumen/edit""#),
        "{snapshot}"
    );
    assert!(
        snapshot.contains(r#""key": "lumen-edit-1@720p/10s""#),
        "{snapshot}"
    );
}

#[cfg(feature = "sim")]
#[test]
fn a_video_edit_of_the_lumen_edit_family_runs_end_to_end_against_the_simulator() {
    let sim = sim(&[]);
    let dir = author_folder();
    let video = fixtures::Clip::video().timed(5, 25).sized(640, 360).bytes();
    let request = dir.join("request.json");
    std::fs::write(
        &request,
        serde_json::json!({
            "model": "lumen-edit-1",
            "prompt": "make it snow",
            "video_url": serve_file(video),
            "settings": {"resolution": "1080p"},
        })
        .to_string(),
    )
    .expect("the request");
    let videos = dir.join("videos");
    let output = vidspec_preflight(
        &sim,
        &[
            "submit",
            "--specs",
            &dir.display().to_string(),
            &request.display().to_string(),
            "--wait",
            "--download",
            &videos.display().to_string(),
        ],
        Some("sim-key"),
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        text(&output)
            .contains("(lumen-edit-1, mode video_edit, billed as lumen-edit-1@1080p/5s × 1)"),
        "{}",
        text(&output)
    );
    let saved: Vec<PathBuf> = std::fs::read_dir(&videos)
        .expect("the download folder")
        .map(|entry| entry.expect("an entry").path())
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let stats = stats(&sim);
    assert_eq!(stats["submits"], 1, "{stats}");
    assert_eq!(stats["rejected"], 0, "{stats}");
}

#[cfg(feature = "sim")]
#[test]
fn a_video_too_short_for_the_lumen_edit_family_is_refused_by_pre_flight_and_never_sent() {
    let sim = sim(&[]);
    let dir = author_folder();
    let video = fixtures::Clip::video().timed(2, 25).sized(640, 360).bytes();
    let request = dir.join("request.json");
    std::fs::write(
        &request,
        serde_json::json!({"model": "lumen-edit-1", "prompt": "make it snow", "video_url": serve_file(video)})
            .to_string(),
    )
    .expect("the request");
    let output = vidspec_preflight(
        &sim,
        &[
            "submit",
            "--specs",
            &dir.display().to_string(),
            &request.display().to_string(),
        ],
        Some("sim-key"),
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("[L5]"), "{}", text(&output));
    assert_eq!(stats(&sim)["submit_attempts"], 0);
}
