//! End-to-end tests of the `vidspec` binary: exit codes, the JSON shape of
//! `check`, stdin input, `--specs` errors, `models` and `schema`.
//!
//! Requests are written inline to temporary files; only the
//! `Omni-Flash-Ext` spec is relied on.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

const MODEL: &str = "Omni-Flash-Ext";
const VALID: &str = r#"{"model": "Omni-Flash-Ext", "prompt": "a red fox in the snow"}"#;
const INVALID: &str = r#"{"model": "Omni-Flash-Ext", "prompt": "a red fox", "duration": 7}"#;

/// A fresh, empty directory under the system temp dir, removed on drop.
struct TempDir(tempfile::TempDir);

impl Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.path()
    }
}

/// A fresh temp directory (tempfile: a unique name, created exclusively).
fn temp_dir(label: &str) -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix(&format!("vidspec-cli-test-{label}-"))
        .tempdir()
        .expect("create a temp dir");
    TempDir(dir)
}

/// A request file in its own temp directory, removed on drop.
struct Fixture {
    path: PathBuf,
    _dir: TempDir,
}

impl Deref for Fixture {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

/// Writes `text` to a fresh temp file.
fn request_file(label: &str, text: &str) -> Fixture {
    let dir = temp_dir(label);
    let path = dir.join("request.json");
    std::fs::write(&path, text).expect("write a request file");
    Fixture { path, _dir: dir }
}

fn vidspec(args: &[&str]) -> Output {
    assert_cmd::cargo::cargo_bin_cmd!("vidspec")
        .args(args)
        .output()
        .expect("run vidspec")
}

/// `vidspec` with `stdin` written on its own thread (assert_cmd), so a large
/// input and a large output never wait for each other's pipe to drain.
fn vidspec_with_stdin(args: &[&str], stdin: &str) -> Output {
    assert_cmd::cargo::cargo_bin_cmd!("vidspec")
        .args(args)
        .write_stdin(stdin.to_owned())
        .output()
        .expect("run vidspec")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("an exit code, not a signal")
}

fn stdout_json(output: &Output) -> Value {
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"))
}

fn check_json(file: &Path, extra: &[&str]) -> Output {
    let file = file.to_str().expect("a UTF-8 temp path");
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(file);
    vidspec(&args)
}

#[test]
fn valid_request_exits_0_with_all_eight_json_keys() {
    let output = check_json(&request_file("valid", VALID), &[]);
    assert_eq!(code(&output), 0, "{output:?}");
    let report = stdout_json(&output);
    let keys: Vec<&str> = report
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "valid",
        "model",
        "mode",
        "body",
        "effective",
        "warnings",
        "errors",
        "billing",
    ];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(report["valid"], true);
    assert_eq!(report["model"], MODEL);
    assert!(report["mode"].is_string());
    assert!(report["body"].is_object());
    assert!(report["effective"].is_object());
    assert!(report["warnings"].is_array());
    assert_eq!(report["errors"], Value::Array(Vec::new()));
    assert!(report["billing"]["key"].is_string());
    assert!(report["billing"]["multiplier"].is_u64());
}

#[test]
fn valid_request_json_is_one_line() {
    let output = check_json(&request_file("one-line", VALID), &[]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(text.trim_end().lines().count(), 1, "{text}");
}

#[test]
fn valid_request_text_ends_with_a_valid_summary() {
    let file = request_file("valid-text", VALID);
    let output = vidspec(&["check", file.to_str().expect("UTF-8")]);
    assert_eq!(code(&output), 0);
    let text = String::from_utf8_lossy(&output.stdout);
    let last = text.lines().last().expect("a summary line");
    assert!(
        last.starts_with(&format!("{}: valid {MODEL} request (mode ", file.display())),
        "{text}"
    );
}

#[test]
fn invalid_request_exits_1_with_errors() {
    let output = check_json(&request_file("invalid", INVALID), &[]);
    assert_eq!(code(&output), 1, "{output:?}");
    let report = stdout_json(&output);
    assert_eq!(report["valid"], false);
    assert_eq!(report["model"], MODEL);
    assert_eq!(report["body"], Value::Null);
    assert_eq!(report["billing"], Value::Null);
    let errors = report["errors"].as_array().expect("an errors array");
    assert!(!errors.is_empty());
    assert_eq!(errors[0]["path"], "/duration");
    for key in ["path", "rule", "code", "message"] {
        assert!(errors[0].get(key).is_some(), "missing {key}: {report}");
    }
}

#[test]
fn invalid_request_text_prints_compiler_style_lines() {
    let file = request_file("invalid-text", INVALID);
    let output = vidspec(&["check", file.to_str().expect("UTF-8")]);
    assert_eq!(code(&output), 1);
    let text = String::from_utf8_lossy(&output.stdout);
    let name = file.display();
    assert!(
        text.contains(&format!("error: {name}: /duration: ")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{name}: invalid request for {MODEL}: 1 error(s)")),
        "{text}"
    );
}

#[test]
fn malformed_json_exits_1_with_a_positioned_root_error() {
    let output = check_json(&request_file("malformed", "{\"model\": \n"), &[]);
    assert_eq!(code(&output), 1, "{output:?}");
    let report = stdout_json(&output);
    assert_eq!(report["valid"], false);
    assert_eq!(report["model"], Value::Null);
    let errors = report["errors"].as_array().expect("an errors array");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["path"], "");
    assert_eq!(errors[0]["rule"], Value::Null);
    assert_eq!(errors[0]["code"], Value::Null);
    let message = errors[0]["message"].as_str().expect("a message");
    assert!(
        message.contains("line") && message.contains("column"),
        "{message}"
    );
}

#[test]
fn unknown_model_exits_1_suggesting_the_close_id() {
    let output = check_json(
        &request_file("unknown", r#"{"model": "omni-flash-ext", "prompt": "x"}"#),
        &[],
    );
    assert_eq!(code(&output), 1, "{output:?}");
    let report = stdout_json(&output);
    assert_eq!(report["valid"], false);
    let error = &report["errors"][0];
    assert_eq!(error["path"], "/model");
    let message = error["message"].as_str().expect("a message");
    assert!(message.contains("\"omni-flash-ext\""), "{message}");
    assert!(
        message.contains(&format!("did you mean \"{MODEL}\"")),
        "{message}"
    );
}

#[test]
fn missing_model_exits_1_saying_how_to_give_one() {
    let output = check_json(&request_file("missing", r#"{"prompt": "x"}"#), &[]);
    assert_eq!(code(&output), 1, "{output:?}");
    let report = stdout_json(&output);
    assert_eq!(report["model"], Value::Null);
    let error = &report["errors"][0];
    assert_eq!(error["path"], "/model");
    let message = error["message"].as_str().expect("a message");
    assert!(
        message.starts_with("no model: give --model ID or a \"model\" field (known: "),
        "{message}"
    );
    assert!(message.contains(MODEL), "{message}");
}

#[test]
fn model_flag_supplies_the_model_of_a_request_without_one() {
    let output = check_json(
        &request_file("flag", r#"{"prompt": "a red fox"}"#),
        &["--model", MODEL],
    );
    assert_eq!(code(&output), 0, "{output:?}");
    assert_eq!(stdout_json(&output)["model"], MODEL);
}

#[test]
fn bad_flag_exits_2() {
    let file = request_file("bad-flag", VALID);
    let output = vidspec(&["check", "--no-such-flag", file.to_str().expect("UTF-8")]);
    assert_eq!(code(&output), 2, "{output:?}");
}

#[test]
fn unreadable_file_exits_2() {
    let missing = temp_dir("unreadable").join("does-not-exist.json");
    let output = vidspec(&["check", missing.to_str().expect("UTF-8")]);
    assert_eq!(code(&output), 2, "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("does-not-exist.json"));
}

#[test]
fn broken_spec_in_specs_dir_exits_2_naming_the_file() {
    let dir = temp_dir("broken-spec");
    std::fs::write(
        dir.join("broken-spec.yaml"),
        "family: broken-spec\nno_such_key_in_specs: true\n",
    )
    .expect("write a spec");
    let file = request_file("broken-spec-request", VALID);
    let output = vidspec(&[
        "check",
        "--specs",
        dir.to_str().expect("UTF-8"),
        file.to_str().expect("UTF-8"),
    ]);
    assert_eq!(code(&output), 2, "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: "), "{stderr}");
    assert!(stderr.contains("broken-spec.yaml:"), "{stderr}");
    assert!(stderr.contains("no_such_key_in_specs"), "{stderr}");
}

#[test]
fn lint_warnings_of_a_specs_dir_go_to_stderr_with_their_place_and_the_check_still_runs() {
    let dir = temp_dir("warned-spec");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/specs/made-up");
    let spec = std::fs::read_to_string(root.join("imaginary-video.yaml")).expect("made-up spec");
    // `forbid` on a field with a default can never be met: lint warns.
    let spec = spec.replace(
        "    then: {constrain: {audio: {enum: [false]}}}\n    message: audio needs quality pro",
        "    then: {forbid: [audio]}\n    message: audio needs quality pro",
    );
    std::fs::write(dir.join("imaginary-video.yaml"), spec).expect("write the spec");
    std::fs::copy(root.join("vocabulary.yaml"), dir.join("vocabulary.yaml")).expect("vocabulary");
    let file = request_file("warned-spec-request", VALID);
    let output = vidspec(&[
        "check",
        "--specs",
        dir.to_str().expect("UTF-8"),
        file.to_str().expect("UTF-8"),
    ]);
    assert_eq!(code(&output), 0, "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: ")
            && stderr.contains("imaginary-video.yaml:")
            && stderr.contains("forbid audio can never be met"),
        "{stderr}"
    );
}

#[test]
fn stdin_dash_reads_the_request() {
    let output = vidspec_with_stdin(&["check", "--format", "json", "-"], VALID);
    assert_eq!(code(&output), 0, "{output:?}");
    assert_eq!(stdout_json(&output)["valid"], true);
}

#[test]
fn stdin_is_named_stdin_in_text_output() {
    let output = vidspec_with_stdin(&["check", "-"], INVALID);
    assert_eq!(code(&output), 1, "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("error: <stdin>: /duration: "));
}

#[test]
fn explain_json_prints_the_same_object_as_check() {
    let file = request_file("explain-json", VALID);
    let path = file.to_str().expect("UTF-8");
    let check = vidspec(&["check", "--format", "json", path]);
    let explain = vidspec(&["explain", "--format", "json", path]);
    assert_eq!(code(&explain), 0, "{explain:?}");
    assert_eq!(stdout_json(&check), stdout_json(&explain));
}

#[test]
fn explain_text_shows_endpoint_and_billing() {
    let file = request_file("explain-text", VALID);
    let output = vidspec(&["explain", file.to_str().expect("UTF-8")]);
    assert_eq!(code(&output), 0, "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    for label in [
        "model:",
        "family:",
        "mode:",
        "endpoint:",
        "billing:",
        "body:",
        "effective:",
    ] {
        assert!(text.contains(label), "missing {label}: {text}");
    }
    assert!(text.contains(" × "), "{text}");
}

#[test]
fn explain_of_an_invalid_request_exits_1() {
    let file = request_file("explain-invalid", INVALID);
    let output = vidspec(&["explain", file.to_str().expect("UTF-8")]);
    assert_eq!(code(&output), 1, "{output:?}");
}

#[test]
fn models_json_lists_the_ids_sorted() {
    let output = vidspec(&["models", "--format", "json"]);
    assert_eq!(code(&output), 0, "{output:?}");
    let models = stdout_json(&output);
    let models = models.as_array().expect("an array");
    let ids: Vec<&str> = models
        .iter()
        .map(|model| model["id"].as_str().expect("an id"))
        .collect();
    assert!(ids.contains(&MODEL), "{ids:?}");
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
    let ours = models
        .iter()
        .find(|model| model["id"] == MODEL)
        .expect("our model");
    assert!(ours["family"].is_string());
    assert!(ours["endpoint"]["method"].is_string());
    assert!(ours["endpoint"]["path"].is_string());
    assert!(ours["modes"].is_array());
    assert!(ours["description"].is_string());
}

#[test]
fn schema_prints_a_json_schema() {
    let output = vidspec(&["schema", MODEL]);
    assert_eq!(code(&output), 0, "{output:?}");
    let schema = stdout_json(&output);
    assert!(schema.get("$schema").is_some(), "{schema}");
}

#[test]
fn schema_of_an_unknown_model_exits_1_on_stderr() {
    let output = vidspec(&["schema", "omni-flash-ext"]);
    assert_eq!(code(&output), 1, "{output:?}");
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("did you mean \"{MODEL}\"")),
        "{stderr}"
    );
}

/// An endpoint that takes no model field gets none from `--model` either.
#[test]
fn model_flag_adds_no_model_field_where_the_endpoint_takes_none() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/midjourney-video-start-end.json");
    let output = check_json(&example, &["--model", "midjourney-video"]);
    assert_eq!(code(&output), 0);
    let json = stdout_json(&output);
    assert_eq!(json["body"].get("model"), None);
    let warnings = json["warnings"].as_array().cloned().unwrap_or_default();
    assert!(
        warnings.iter().all(|warning| warning["path"] != "/model"),
        "{warnings:?}"
    );
}

/// Every README command on the committed examples gives the verdict it shows.
#[test]
fn the_readme_example_is_valid_and_the_invalid_example_is_not() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    assert_eq!(
        code(&vidspec(&[
            "check",
            &examples.join("pixverse-t2v.json").display().to_string()
        ])),
        0
    );
    assert_eq!(
        code(&vidspec(&[
            "check",
            &examples.join("omni-invalid.json").display().to_string()
        ])),
        1
    );
}

#[test]
fn batch_prints_one_verdict_per_line_in_order() {
    let input = format!("{VALID}\n{INVALID}\n\nnot json\n{VALID}\n");
    let output = vidspec_with_stdin(&["check", "--batch", "-"], &input);
    assert_eq!(code(&output), 1, "one invalid line makes the run invalid");
    let text = String::from_utf8_lossy(&output.stdout);
    let verdicts: Vec<bool> = text
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).expect("one JSON object per line")["valid"] == true
        })
        .collect();
    assert_eq!(verdicts, [true, false, false, false, true]);
}

#[test]
fn batch_of_valid_lines_exits_0_with_the_check_json_shape() {
    let output = vidspec_with_stdin(&["check", "--batch", "-"], &format!("{VALID}\n{VALID}"));
    assert_eq!(code(&output), 0);
    let text = String::from_utf8_lossy(&output.stdout);
    for line in text.lines() {
        let json: Value = serde_json::from_str(line).expect("JSON");
        let keys: Vec<&str> = json
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 8, "{keys:?}");
    }
    assert_eq!(text.lines().count(), 2);
}

/// Many lines of every kind: valid, invalid, empty, malformed, unknown model,
/// CRLF endings; several blocks' worth for the threaded batch.
fn mixed_lines(count: usize) -> String {
    let kinds = [
        VALID.to_owned(),
        INVALID.to_owned(),
        String::new(),
        "not json".to_owned(),
        r#"{"model": "no-such-model"}"#.to_owned(),
        format!("{VALID}\r"),
        r#"{"model": "Omni-Flash-Ext", "prompt": "line \"quoted\" and \u00e9"}"#.to_owned(),
    ];
    (0..count)
        .map(|index| kinds[(index * 7 + index / 3) % kinds.len()].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn batch_on_threads_prints_what_one_thread_prints_in_the_same_order() {
    let input = mixed_lines(5000);
    let one = vidspec_with_stdin(&["check", "--batch", "--jobs", "1", "-"], &input);
    assert_eq!(code(&one), 1);
    assert_eq!(String::from_utf8_lossy(&one.stdout).lines().count(), 5000);
    for jobs in ["2", "3", "8"] {
        let many = vidspec_with_stdin(&["check", "--batch", "--jobs", jobs, "-"], &input);
        assert_eq!(code(&many), 1, "--jobs {jobs}");
        assert!(
            one.stdout == many.stdout,
            "--jobs {jobs} printed other lines or another order"
        );
    }
}

#[test]
fn batch_on_threads_of_valid_lines_exits_0() {
    let input = vec![VALID; 3000].join("\n");
    let output = vidspec_with_stdin(&["check", "--batch", "--jobs", "3", "-"], &input);
    assert_eq!(code(&output), 0);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).lines().count(),
        3000
    );
}

#[test]
fn jobs_is_a_usage_error_without_batch_or_at_zero() {
    let request = temp_dir("jobs");
    let file = request.join("r.json");
    std::fs::write(&file, VALID).expect("writes");
    let file = file.to_str().expect("UTF-8 path");
    for args in [
        vec!["check", "--jobs", "2", file],
        vec!["check", "--batch", "--jobs", "0", file],
    ] {
        let output = vidspec(&args);
        assert_eq!(code(&output), 2, "{args:?}");
    }
}

/// A UTF-8 byte-order mark, as Windows editors write at the start of a file.
const BOM: &str = "\u{feff}";

#[test]
fn a_request_file_starting_with_a_byte_order_mark_is_read_without_it() {
    let file = request_file("bom", &format!("{BOM}{VALID}"));
    let output = check_json(&file, &[]);
    assert_eq!(
        code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(stdout_json(&output)["valid"], true);
    let explained = vidspec(&["explain", file.to_str().expect("UTF-8 path")]);
    assert_eq!(code(&explained), 0);
}

#[test]
fn a_request_on_stdin_starting_with_a_byte_order_mark_is_read_without_it() {
    let output = vidspec_with_stdin(&["check", "-"], &format!("{BOM}{VALID}"));
    assert_eq!(
        code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn a_batch_starting_with_a_byte_order_mark_checks_its_first_line_without_it() {
    for jobs in ["1", "2"] {
        let input = format!("{BOM}{VALID}\n{VALID}\n");
        let output = vidspec_with_stdin(&["check", "--batch", "--jobs", jobs, "-"], &input);
        assert_eq!(
            code(&output),
            0,
            "--jobs {jobs}: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 2);
    }
}

#[test]
fn a_byte_order_mark_after_the_first_line_of_a_batch_is_not_skipped() {
    let input = format!("{VALID}\n{BOM}{VALID}\n");
    let output = vidspec_with_stdin(&["check", "--batch", "-"], &input);
    assert_eq!(code(&output), 1, "only the file's own mark is skipped");
}

#[test]
fn a_batch_with_old_mac_line_endings_gives_one_result_per_cr_ended_line() {
    for jobs in ["1", "2"] {
        let input = format!("{VALID}\r{INVALID}\r{VALID}\r");
        let output = vidspec_with_stdin(&["check", "--batch", "--jobs", jobs, "-"], &input);
        let text = String::from_utf8_lossy(&output.stdout);
        let verdicts: Vec<bool> = text
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("JSON")["valid"] == true)
            .collect();
        assert_eq!(verdicts, [true, false, true], "--jobs {jobs}");
    }
}

#[test]
fn a_batch_mixing_lf_crlf_and_cr_endings_counts_each_line_once() {
    let input = format!("{VALID}\r\n{VALID}\r{VALID}\n\r\n{VALID}");
    let output = vidspec_with_stdin(&["check", "--batch", "-"], &input);
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert_eq!(
        lines[3]["errors"][0]["message"],
        "line 4 is empty: expected one JSON request per line"
    );
    assert_eq!(code(&output), 1);
}

#[test]
fn a_request_that_is_not_an_object_says_it_must_be_one_naming_what_it_is() {
    for (request, what) in [
        ("[1, 2]", "an array"),
        ("null", "null"),
        ("3", "an integer"),
        ("\"text\"", "a string"),
    ] {
        let file = request_file("not-object", request);
        let output = check_json(&file, &[]);
        assert_eq!(code(&output), 1, "{request}");
        let json = stdout_json(&output);
        let message = json["errors"][0]["message"].as_str().expect("a message");
        assert!(
            message.starts_with(&format!("the request must be a JSON object, not {what}")),
            "{request}: {message}"
        );
        assert_eq!(json["errors"][0]["path"], "", "{request}");
    }
}

#[test]
fn a_batch_line_that_is_not_an_object_says_it_must_be_one() {
    let output = vidspec_with_stdin(&["check", "--batch", "-"], "[]\nnull\n4.5\n");
    let text = String::from_utf8_lossy(&output.stdout);
    let messages: Vec<String> = text
        .lines()
        .map(|line| {
            let json: Value = serde_json::from_str(line).expect("JSON");
            json["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(messages.len(), 3);
    for (message, what) in messages.iter().zip(["an array", "null", "a number"]) {
        assert!(
            message.starts_with(&format!("the request must be a JSON object, not {what}")),
            "{message}"
        );
    }
}

#[test]
fn a_directory_as_the_request_file_is_refused_saying_what_it_is() {
    let dir = temp_dir("dir-request");
    let output = vidspec(&["check", dir.to_str().expect("UTF-8 path")]);
    assert_eq!(code(&output), 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("it is a directory"), "{stderr}");
}
