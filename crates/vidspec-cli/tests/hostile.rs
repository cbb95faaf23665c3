//! Process-level tests of hostile input reaching the `vidspec` binary:
//! terminal escapes in requests never reach a terminal raw, and `sim` binds
//! only loopback unless told `--public`.
//!
//! Only the `Omni-Flash-Ext` spec is relied on; the simulator runs on
//! 127.0.0.1 and no test binds any other address.

// Without the `sim` feature the tests that run `vidspec sim` are left out,
// and the helpers only they use go unused.
#![cfg_attr(not(feature = "sim"), allow(dead_code, unused_imports))]

mod support;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `vidspec ARGS`, killing it (and failing) if it has not ended in 60 s.
fn vidspec_ending(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vidspec starts");
    let started = Instant::now();
    while child.try_wait().expect("wait for vidspec").is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("vidspec {args:?} is still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("vidspec output")
}

/// Built with `--no-default-features`, the binary has no simulator: `sim` is
/// an unknown subcommand (clap's usage error, exit 2), and nothing listens.
#[cfg(not(feature = "sim"))]
#[test]
fn without_the_sim_feature_sim_is_an_unknown_subcommand() {
    let output = vidspec_ending(&["sim", "--addr", "127.0.0.1:0"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unrecognized subcommand 'sim'"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing was listening");
}

#[cfg(feature = "sim")]
#[test]
fn sim_on_an_address_off_loopback_is_refused_with_exit_2_and_names_the_public_flag() {
    // 192.0.2.1 (TEST-NET-1) is never this machine's: even before the check
    // existed nothing could be bound there, so this test binds nothing.
    let output = vidspec_ending(&["sim", "--addr", "192.0.2.1:0"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--public"), "{stderr}");
    assert!(stderr.contains("loopback"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing was listening");
}

#[cfg(feature = "sim")]
#[test]
fn sim_on_every_interface_is_refused_before_it_binds() {
    // The check runs before the bind: the process ends at once with exit 2
    // and never prints `listening on`.
    let output = vidspec_ending(&["sim", "--addr", "0.0.0.0:0"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--public"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing was listening");
}

#[cfg(feature = "sim")]
#[test]
fn sim_on_loopback_still_listens() {
    let sim = support::sim(&["--addr", "127.0.0.1:0"]);
    assert!(sim.base_url.starts_with("http://127.0.0.1:"));
}

/// A request whose unknown key, model-checked values and prompt carry
/// terminal escapes: clear screen, a window-title OSC, CR, BEL, a C1 CSI and
/// a right-to-left override.
const HOSTILE: &str = r#"{
  "model": "Omni-Flash-Ext",
  "prompt": "a fox \u001b[2J\u001b]0;owned\u0007 \r\u009b31m \u202e",
  "resolution": "720p\u001b[2J",
  "k\u001b[2J\r\u0007\u202e": 1
}"#;

/// A valid request whose prompt (free text, printed back by `explain`)
/// carries the same escapes.
const HOSTILE_VALID: &str = r#"{
  "model": "Omni-Flash-Ext",
  "prompt": "a fox \u001b[2J\u001b]0;owned\u0007 \r\u009b31m \u202e \u007f"
}"#;

/// The raw bytes a terminal acts on: C0 controls but newline, DEL, and the
/// UTF-8 of C1 controls and of bidi controls.
fn raw_control(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    text.chars()
        .find(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .map(|c| format!("U+{:04X} in {text:?}", u32::from(c)))
}

fn request_file(text: &str) -> (std::path::PathBuf, String) {
    let dir = support::temp_dir("hostile");
    let path = dir.join("request.json");
    std::fs::write(&path, text).expect("write the request");
    let name = path.display().to_string();
    (dir, name)
}

#[test]
fn escapes_in_an_unknown_key_and_in_values_never_reach_the_terminal_of_check() {
    let (dir, file) = request_file(HOSTILE);
    let output = vidspec_ending(&["check", &file]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(raw_control(&output.stdout), None);
    assert_eq!(raw_control(&output.stderr), None);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("\\u{1b}[2J"), "{stdout}");
    assert!(stdout.contains("unknown field"), "{stdout}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn escapes_in_a_prompt_never_reach_the_terminal_of_explain() {
    let (dir, file) = request_file(HOSTILE_VALID);
    let output = vidspec_ending(&["explain", &file]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(raw_control(&output.stdout), None);
    assert_eq!(raw_control(&output.stderr), None);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn check_json_output_keeps_its_shape_and_escapes_control_characters_as_json() {
    let (dir, file) = request_file(HOSTILE);
    let output = vidspec_ending(&["check", "--format", "json", &file]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains('\u{1b}') && !text.contains('\r') && !text.contains('\u{7}'));
    let report: serde_json::Value = serde_json::from_str(&text).expect("one JSON object");
    // The path is the exact JSON pointer of the key, for scripts.
    assert!(
        report["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .any(|error| error["path"] == "/k\u{1b}[2J\r\u{7}\u{202e}"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_request_with_a_thousand_unknown_keys_lists_one_hundred_and_counts_the_rest() {
    let mut request = String::from(r#"{"model":"Omni-Flash-Ext","prompt":"a fox""#);
    for index in 0..1_000 {
        request.push_str(&format!(",\"unknown_{index:04}\":0"));
    }
    request.push('}');
    let (dir, file) = request_file(&request);
    let output = vidspec_ending(&["check", "--format", "json", &file]);
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object");
    let errors = report["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 101);
    assert_eq!(
        errors[100],
        serde_json::json!({
            "path": "", "rule": null, "code": null,
            "message": "900 more error(s) not shown: only the first 100 are listed; fix those and check again"
        })
    );
    let text = vidspec_ending(&["check", &file]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.ends_with(
            "invalid request for Omni-Flash-Ext: 1,000 error(s), the first 100 listed\n"
        ),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
