//! `Registry::lint_sources` and `Registry::lint_dir`, what `vidspec lint`
//! prints: every error of every file, and the warnings of the files that
//! lint clean even when another file is broken (loading stops at the errors
//! and keeps no warnings). This file owns those cases; what a rule or a
//! warning says is tested by the lint tests.

use vidspec_core::{Registry, Source};

const WITH_A_WARNING: &str = r#"family: warned
description: a made-up family whose rule forbids a field that has a default
endpoint: {path: /v1/videos/generations}
models:
  - id: warned-1
fields:
  prompt: {type: string, required: true}
  audio: {type: boolean, default: false}
  flag: {type: string}
modes:
  - {name: text_to_video}
rules:
  - {rule: R1, when: {present: flag}, then: {forbid: [audio]}}
billing: {key: "{model}"}
task:
  submit_task_id: [/data/0/task_id]
  poll_path: /v1/tasks/{task_id}
  poll: {first_after_s: 1, every_s: 1, typical_s: 10, timeout_s: 60}
  read: {status: [/data/status], videos: [{each: /data/result/videos, url: /url}]}
"#;

/// The vocabulary of the embedded specs and `files`.
fn sources(files: &[(&str, &str)]) -> Vec<Source> {
    let mut sources = Registry::embedded_sources();
    sources.retain(|source| source.stem() == "vocabulary");
    sources.extend(files.iter().map(|(name, text)| Source::new(*name, *text)));
    sources
}

#[test]
fn the_embedded_specs_lint_without_errors_or_warnings() {
    let report = Registry::lint_sources(Registry::embedded_sources());
    assert_eq!(report.errors, vec![]);
    assert_eq!(report.warnings, vec![]);
}

#[test]
fn a_warning_of_a_clean_file_is_reported_beside_the_errors_of_a_broken_one() {
    let broken = WITH_A_WARNING
        .replace("family: warned", "family: broken")
        .replace("warned-1", "broken-1")
        .replace("prompt: {type: string", "prompt: {type: strnig");
    let report = Registry::lint_sources(sources(&[
        ("specs/warned.yaml", WITH_A_WARNING),
        ("specs/broken.yaml", &broken),
    ]));
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].file, "specs/broken.yaml");
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert_eq!(report.warnings[0].file, "specs/warned.yaml");
    assert!(
        report.warnings[0]
            .message
            .contains("forbid audio can never be met"),
        "{:?}",
        report.warnings
    );
}

#[test]
fn every_broken_file_is_reported_not_only_the_first() {
    let first = WITH_A_WARNING.replace("prompt: {type: string", "prompt: {type: strnig");
    let second = WITH_A_WARNING
        .replace("family: warned", "family: other")
        .replace("warned-1", "other-1")
        .replace(
            "poll_path: /v1/tasks/{task_id}",
            "poll_path: /v1/tasks/{id}",
        );
    let report = Registry::lint_sources(sources(&[
        ("specs/warned.yaml", &first),
        ("specs/other.yaml", &second),
    ]));
    let files: Vec<&str> = report
        .errors
        .iter()
        .map(|error| error.file.as_str())
        .collect();
    assert!(files.contains(&"specs/warned.yaml"), "{:?}", report.errors);
    assert!(files.contains(&"specs/other.yaml"), "{:?}", report.errors);
}

#[test]
fn a_spec_directory_that_does_not_exist_is_one_error_naming_it() {
    let dir = std::env::temp_dir().join(format!("vidspec-lint-missing-{}", std::process::id()));
    let report = Registry::lint_dir(&dir);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert!(
        report.errors[0]
            .to_string()
            .contains("cannot read the spec directory")
    );
}
