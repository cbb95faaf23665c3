//! A spec author outside this repository, with only the `vidspec` binary and
//! a folder of their own (`tests/spec-author/`: a made-up family, acme-motion,
//! posting to an endpoint the simulator has no route for, and its cases):
//! `lint`, `test` with insta-format snapshots, and `sim` + `submit --specs`
//! end to end. Each test works on a copy of the folder in a temp dir.

// Without the `sim` feature the tests that run `vidspec sim` are left out,
// and the helpers only they use go unused.
#![cfg_attr(not(feature = "sim"), allow(dead_code, unused_imports))]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use support::{sim, temp_dir, vidspec};

/// The author's folder of this test suite.
fn author_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spec-author")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a folder");
    for entry in std::fs::read_dir(from).expect("read a folder") {
        let path = entry.expect("an entry").path();
        let target = to.join(path.file_name().expect("a name"));
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy a file");
        }
    }
}

/// A fresh copy of the author's folder.
fn author_copy(label: &str) -> PathBuf {
    let dir = temp_dir(label).join("acme");
    copy_tree(&author_folder(), &dir);
    dir
}

/// Runs `vidspec ARGS` in `dir`, offline.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args(args)
        .current_dir(dir)
        .env_remove("APIMART_API_KEY")
        .stdin(Stdio::null())
        .output()
        .expect("vidspec runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn both(output: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write a file");
}

// ---------------------------------------------------------------------------
// lint
// ---------------------------------------------------------------------------

#[test]
fn lint_of_a_clean_spec_folder_says_no_problems_and_exits_0() {
    let dir = author_copy("lint-clean");
    let output = run_in(&dir, &["lint", "--specs", "."]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert_eq!(stdout(&output), "lint: .: no problems\n");
}

#[test]
fn lint_without_specs_lints_the_built_in_specs() {
    let output = run_in(&author_folder(), &["lint"]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert_eq!(stdout(&output), "lint: the built-in specs: no problems\n");
}

#[test]
fn lint_prints_every_error_of_every_file_with_file_line_and_column_and_exits_1() {
    let dir = author_copy("lint-errors");
    let spec = std::fs::read_to_string(dir.join("acme-motion.yaml")).expect("the spec");
    write(
        &dir.join("acme-motion.yaml"),
        &spec.replace("type: integer,", "type: integr,"),
    );
    let other = spec
        .replace("family: acme-motion", "family: acme-other")
        .replace("acme-motion-1", "acme-other-1")
        .replace(
            "poll_path: /v1/tasks/{task_id}",
            "poll_path: /v1/tasks/{id}",
        );
    write(&dir.join("acme-other.yaml"), &other);
    let output = run_in(&dir, &["lint", "--specs", "."]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let text = stdout(&output);
    let errors: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("error: "))
        .collect();
    assert!(
        errors
            .iter()
            .any(|line| line.contains("acme-motion.yaml:") && line.contains("integr")),
        "{text}"
    );
    assert!(
        errors.iter().any(|line| line.contains("acme-other.yaml:")),
        "{text}"
    );
    let summary = text.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("lint: .: ") && summary.contains(" errors, 0 warnings"),
        "{text}"
    );
}

#[test]
fn lint_of_broken_yaml_shows_the_spec_line_with_a_caret_under_the_column() {
    let dir = author_copy("lint-yaml");
    write(
        &dir.join("acme-motion.yaml"),
        "family: acme-motion\nmodels: [\n  - id: x\n",
    );
    let output = run_in(&dir, &["lint", "--specs", "."]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("error: ./acme-motion.yaml:3:3: "),
        "{text}"
    );
    assert!(
        text.contains("\n  |\n3 |   - id: x\n  |   ^\n"),
        "the line it points at, with a caret under the column: {text}"
    );
}

/// A rule that forbids a field with a default is legal but never met.
fn add_a_warning(dir: &Path) {
    let spec = std::fs::read_to_string(dir.join("acme-motion.yaml")).expect("the spec");
    write(
        &dir.join("acme-motion.yaml"),
        &spec.replace(
            "rules:\n",
            "rules:\n  - {rule: A7, when: {present: image_url}, then: {forbid: [duration]}}\n",
        ),
    );
}

#[test]
fn lint_warnings_alone_are_printed_and_exit_0() {
    let dir = author_copy("lint-warning");
    add_a_warning(&dir);
    let output = run_in(&dir, &["lint", "--specs", "."]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let text = stdout(&output);
    assert!(
        text.lines().any(
            |line| line.starts_with("warning: ./acme-motion.yaml:") && line.contains("rule A7")
        ),
        "{text}"
    );
    assert!(text.ends_with("lint: .: 0 errors, 1 warning\n"), "{text}");
}

#[test]
fn lint_deny_warnings_makes_warnings_exit_1() {
    let dir = author_copy("lint-deny");
    add_a_warning(&dir);
    let output = run_in(&dir, &["lint", "--specs", ".", "--deny-warnings"]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
}

#[test]
fn lint_of_a_folder_that_does_not_exist_is_a_usage_error() {
    let dir = temp_dir("lint-missing");
    let output = run_in(&dir, &["lint", "--specs", "no-such-folder"]);
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("not a directory"),
        "{}",
        both(&output)
    );
}

// ---------------------------------------------------------------------------
// test
// ---------------------------------------------------------------------------

fn snapshot(dir: &Path, case: &str) -> PathBuf {
    dir.join("cases/snapshots")
        .join(format!("{}.snap", case.replace('/', "__")))
}

fn pending(dir: &Path, case: &str) -> PathBuf {
    dir.join("cases/snapshots")
        .join(format!("{}.snap.new", case.replace('/', "__")))
}

#[test]
fn test_writes_each_new_snapshot_as_snap_new_for_review_and_exits_1() {
    let dir = author_copy("test-new");
    let output = run_in(&dir, &["test", "--specs", "."]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let text = stdout(&output);
    assert!(
        text.contains(
            "new      acme-motion/err/A3-duration-7.json (written: \
             snapshots/acme-motion__err__A3-duration-7.json.snap.new)"
        ),
        "{text}"
    );
    assert!(
        text.ends_with(
            "test: 5 cases: 0 ok, 5 new, 0 changed, 0 failed; 5 snapshots to review \
             (the .snap.new files): run again with --accept to accept them\n"
        ),
        "{text}"
    );
    assert!(pending(&dir, "acme-motion/err/A3-duration-7.json").is_file());
    assert!(!snapshot(&dir, "acme-motion/err/A3-duration-7.json").exists());
}

#[test]
fn test_accept_writes_insta_format_snapshots_and_the_next_run_passes() {
    let dir = author_copy("test-accept");
    let accepted = run_in(&dir, &["test", "--specs", ".", "--accept"]);
    assert_eq!(accepted.status.code(), Some(0), "{}", both(&accepted));
    assert!(
        stdout(&accepted)
            .ends_with("test: 5 cases: 0 ok, 5 new, 0 changed, 0 failed; 5 snapshots accepted\n"),
        "{}",
        both(&accepted)
    );
    let file = std::fs::read_to_string(snapshot(
        &dir,
        "acme-motion/err/A6-1080p-for-10-seconds.json",
    ))
    .expect("the accepted snapshot");
    assert_eq!(
        file,
        "---\nsource: \"vidspec test\"\nexpression: \"render_diagnostics(&diagnostics)\"\n\
         input_file: \"acme-motion/err/A6-1080p-for-10-seconds.json\"\n---\n\
         ## Diagnostics\nerror: /duration: 1080p videos are 5 seconds long [A6]\n"
    );
    assert!(!pending(&dir, "acme-motion/err/A6-1080p-for-10-seconds.json").exists());
    let again = run_in(&dir, &["test", "--specs", "."]);
    assert_eq!(again.status.code(), Some(0), "{}", both(&again));
    assert!(
        stdout(&again).ends_with("test: 5 cases: 5 ok, 0 new, 0 changed, 0 failed\n"),
        "{}",
        both(&again)
    );
}

#[test]
fn test_a_changed_rendering_prints_a_diff_keeps_the_accepted_snapshot_and_exits_1() {
    let dir = author_copy("test-changed");
    let accepted = run_in(&dir, &["test", "--specs", ".", "--accept"]);
    assert_eq!(accepted.status.code(), Some(0), "{}", both(&accepted));
    let spec = std::fs::read_to_string(dir.join("acme-motion.yaml")).expect("the spec");
    write(
        &dir.join("acme-motion.yaml"),
        &spec.replace(
            "message: 1080p videos are 5 seconds long",
            "message: at 1080p a video lasts 5 seconds",
        ),
    );
    let output = run_in(&dir, &["test", "--specs", "."]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let text = stdout(&output);
    assert!(
        text.contains("changed  acme-motion/err/A6-1080p-for-10-seconds.json (written: "),
        "{text}"
    );
    assert!(
        text.contains("    -error: /duration: 1080p videos are 5 seconds long [A6]\n")
            && text.contains("    +error: /duration: at 1080p a video lasts 5 seconds [A6]\n"),
        "{text}"
    );
    let kept = std::fs::read_to_string(snapshot(
        &dir,
        "acme-motion/err/A6-1080p-for-10-seconds.json",
    ))
    .expect("the accepted snapshot");
    assert!(kept.contains("5 seconds long"), "{kept}");
    assert!(pending(&dir, "acme-motion/err/A6-1080p-for-10-seconds.json").is_file());
}

#[test]
fn test_an_err_case_whose_name_promises_a_rule_the_errors_do_not_cite_fails() {
    let dir = author_copy("test-rule");
    std::fs::rename(
        dir.join("cases/acme-motion/err/A3-duration-7.json"),
        dir.join("cases/acme-motion/err/A4-duration-7.json"),
    )
    .expect("rename");
    let output = run_in(&dir, &["test", "--specs", ".", "--accept"]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let text = stdout(&output);
    assert!(
        text.contains(
            "failed   acme-motion/err/A4-duration-7.json: the file name promises rule A4, \
             but the diagnostics cite A3:"
        ),
        "{text}"
    );
    assert!(!snapshot(&dir, "acme-motion/err/A4-duration-7.json").exists());
    assert!(text.contains(", 1 failed"), "{text}");
}

#[test]
fn test_an_ok_case_that_is_refused_fails_with_its_diagnostics() {
    let dir = author_copy("test-ok-refused");
    write(
        &dir.join("cases/acme-motion/ok/bad.json"),
        r#"{"model": "acme-motion-1", "prompt": "x", "duration": 7}"#,
    );
    let output = run_in(&dir, &["test", "--specs", ".", "--accept"]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let text = stdout(&output);
    assert!(
        text.contains(
            "failed   acme-motion/ok/bad.json: expected a valid request (it is in ok/), got:\n"
        ) && text.contains("    error: /duration: "),
        "{text}"
    );
}

#[test]
fn test_an_err_case_that_is_valid_fails() {
    let dir = author_copy("test-err-valid");
    write(
        &dir.join("cases/acme-motion/err/A3-fine.json"),
        r#"{"model": "acme-motion-1", "prompt": "x", "duration": 10}"#,
    );
    let output = run_in(&dir, &["test", "--specs", ".", "--accept"]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    assert!(
        stdout(&output).contains(
            "failed   acme-motion/err/A3-fine.json: expected errors (it is in err/), got a plan \
             in mode text_to_video"
        ),
        "{}",
        both(&output)
    );
}

#[test]
fn test_a_case_that_is_not_json_fails_and_the_others_still_run() {
    let dir = author_copy("test-not-json");
    write(
        &dir.join("cases/acme-motion/ok/broken.json"),
        "{\"model\": ",
    );
    let output = run_in(&dir, &["test", "--specs", ".", "--accept"]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let text = stdout(&output);
    assert!(
        text.contains("failed   acme-motion/ok/broken.json: the case is not JSON: "),
        "{text}"
    );
    assert!(
        text.contains("test: 6 cases: 0 ok, 5 new, 0 changed, 1 failed"),
        "{text}"
    );
}

#[test]
fn test_reports_a_snapshot_whose_case_is_gone_as_an_orphan() {
    let dir = author_copy("test-orphan");
    let accepted = run_in(&dir, &["test", "--specs", ".", "--accept"]);
    assert_eq!(accepted.status.code(), Some(0), "{}", both(&accepted));
    std::fs::remove_file(dir.join("cases/acme-motion/ok/text.json")).expect("remove a case");
    let output = run_in(&dir, &["test", "--specs", "."]);
    assert!(
        stdout(&output).contains(
            "orphan   snapshots/acme-motion__ok__text.json.snap: no case has this snapshot any \
             more; delete it"
        ),
        "{}",
        both(&output)
    );
}

#[test]
fn test_without_a_case_folder_is_a_usage_error_naming_the_default() {
    let dir = author_copy("test-no-cases");
    std::fs::remove_dir_all(dir.join("cases")).expect("remove the cases");
    let output = run_in(&dir, &["test", "--specs", "."]);
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("./cases: no case folder"),
        "{}",
        both(&output)
    );
}

#[test]
fn test_with_a_broken_spec_is_a_usage_error_listing_its_problems() {
    let dir = author_copy("test-broken-spec");
    let spec = std::fs::read_to_string(dir.join("acme-motion.yaml")).expect("the spec");
    write(
        &dir.join("acme-motion.yaml"),
        &spec.replace("type: integer,", "type: integr,"),
    );
    let output = run_in(&dir, &["test", "--specs", "."]);
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("acme-motion.yaml:"),
        "{}",
        both(&output)
    );
}

/// The layout of this repository's `tests/specs/<family>/`: the cases of one
/// family in `cases/{ok,err}`, and its snapshots read exactly as the
/// workspace tests wrote them with insta (one rendering, one file format).
#[test]
fn test_runs_a_single_family_folder_and_agrees_with_the_workspace_snapshots() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let family = "defaults-trap";
    let dir = temp_dir("test-one-family").join(family);
    copy_tree(&repo.join("tests/specs").join(family), &dir);
    let snapshots = dir.join("cases/snapshots");
    std::fs::create_dir_all(&snapshots).expect("create snapshots/");
    let mut copied = 0;
    for entry in std::fs::read_dir(repo.join("tests/tests/snapshots")).expect("the snapshots") {
        let name = entry
            .expect("an entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let Some(case) = name
            .strip_prefix("families__")
            .and_then(|rest| rest.split_once('@'))
            .and_then(|(_, case)| case.strip_prefix(&format!("{family}__cases__")))
        else {
            continue;
        };
        std::fs::copy(
            repo.join("tests/tests/snapshots").join(&name),
            snapshots.join(case),
        )
        .expect("copy a snapshot");
        copied += 1;
    }
    assert!(copied > 2, "the workspace has snapshots of {family}");
    let output = run_in(&dir, &["test", "--specs", "."]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert!(
        stdout(&output).ends_with(&format!(
            "test: {copied} cases: {copied} ok, 0 new, 0 changed, 0 failed\n"
        )),
        "{}",
        both(&output)
    );
}

#[test]
fn test_takes_the_case_folder_as_an_argument() {
    let dir = author_copy("test-cases-arg");
    std::fs::rename(dir.join("cases"), dir.join("my-cases")).expect("rename the cases");
    let output = run_in(&dir, &["test", "--specs", ".", "my-cases", "--accept"]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert!(
        dir.join("my-cases/snapshots/acme-motion__ok__text.json.snap")
            .is_file()
    );
}

// ---------------------------------------------------------------------------
// sim + submit --specs, end to end
// ---------------------------------------------------------------------------

#[cfg(feature = "sim")]
#[test]
fn sim_and_submit_with_specs_run_a_made_up_family_end_to_end_and_download_its_video() {
    let sim = sim(&[]);
    let dir = author_copy("end-to-end");
    let request = dir.join("request.json");
    write(
        &request,
        r#"{"model": "acme-motion-1", "prompt": "a red kite over the sea", "duration": 10}"#,
    );
    let videos = dir.join("videos");
    let specs = dir.display().to_string();
    let output = vidspec(
        &sim,
        &[
            "submit",
            "--specs",
            &specs,
            &request.display().to_string(),
            "--wait",
            "--download",
            &videos.display().to_string(),
        ],
        Some("sim-key"),
    );
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let text = stdout(&output);
    assert!(
        text.contains("(acme-motion-1, mode text_to_video, billed as acme-motion-1@480p/10s × 1)"),
        "{text}"
    );
    let saved: Vec<PathBuf> = std::fs::read_dir(&videos)
        .expect("the download folder")
        .map(|entry| entry.expect("an entry").path())
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let bytes = std::fs::read(&saved[0]).expect("the video");
    assert_eq!(&bytes[4..8], b"ftyp", "an MP4 file");
    let stats = support::stats(&sim);
    assert_eq!(stats["submits"], 1, "{stats}");
    assert_eq!(stats["rejected"], 0, "{stats}");
}

// ---------------------------------------------------------------------------
// The recipe
// ---------------------------------------------------------------------------

/// CONTRIBUTING's "Adding a model" gives a complete spec to start from: it is
/// this suite's `acme-motion.yaml`, so every test above checks the template.
#[test]
fn the_spec_template_in_contributing_is_the_spec_these_tests_run() {
    let contributing = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../CONTRIBUTING.md"),
    )
    .expect("CONTRIBUTING.md");
    let start = contributing
        .find("   ```yaml\n")
        .expect("a yaml block in CONTRIBUTING.md")
        + "   ```yaml\n".len();
    let length = contributing[start..]
        .find("   ```\n")
        .expect("the end of the yaml block");
    let template: String = contributing[start..start + length]
        .lines()
        .map(|line| format!("{}\n", line.strip_prefix("   ").unwrap_or(line)))
        .collect();
    let spec = std::fs::read_to_string(author_folder().join("acme-motion.yaml")).expect("the spec");
    assert_eq!(
        template, spec,
        "update tests/spec-author/acme-motion.yaml and CONTRIBUTING.md together"
    );
}
