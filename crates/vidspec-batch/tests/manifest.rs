//! Reading a manifest: every invalid line is reported with its line number
//! and job id, all at once, and valid lines become jobs with their model,
//! mode and billing.

use vidspec_batch::{JobStatus, ManifestError, Report, manifest, write_jsonl};
use vidspec_core::Registry;

const MODEL: &str = "Omni-Flash-Ext";

fn parse(text: &str) -> vidspec_batch::Manifest {
    manifest::parse(text.as_bytes(), Registry::embedded()).expect("read")
}

fn line(id: &str, extra: &str) -> String {
    format!(r#"{{"id": "{id}", "model": "{MODEL}", "prompt": "a kite"{extra}}}"#)
}

#[test]
fn every_invalid_line_is_reported_with_its_number_and_job_id_not_only_the_first() {
    let text = [
        line("ok-1", ""),
        "not json".to_owned(),
        "[1, 2]".to_owned(),
        format!(r#"{{"id": 7, "model": "{MODEL}", "prompt": "a kite"}}"#),
        line("../escape", ""),
        line("ok-1", ""),
        r#"{"id": "typo", "model": "omni-flash-ext", "prompt": "a kite"}"#.to_owned(),
        line("too-long", r#", "duration": 7"#),
        String::new(),
        line("ok-2", ""),
    ]
    .join("\n");
    let manifest = parse(&text);
    let jobs: Vec<&str> = manifest.jobs.iter().map(|job| job.id.as_str()).collect();
    assert_eq!(jobs, ["ok-1", "ok-2"]);
    let invalid: Vec<(usize, Option<&str>)> = manifest
        .invalid
        .iter()
        .map(|line| (line.line, line.id.as_deref()))
        .collect();
    assert_eq!(
        invalid,
        [
            (2, None),
            (3, None),
            (4, None),
            (5, None),
            (6, Some("ok-1")),
            (7, Some("typo")),
            (8, Some("too-long")),
        ]
    );
    let messages: Vec<String> = manifest
        .invalid
        .iter()
        .map(|line| {
            line.problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })
        .collect();
    assert!(messages[0].contains("not valid JSON"), "{}", messages[0]);
    assert!(
        messages[1].contains("JSON object, not an array"),
        "{}",
        messages[1]
    );
    assert!(messages[2].contains("non-empty string"), "{}", messages[2]);
    assert!(messages[3].contains("cannot name files"), "{}", messages[3]);
    assert!(messages[4].contains("line 1"), "{}", messages[4]);
    assert!(
        messages[5].contains(MODEL),
        "the closest id: {}",
        messages[5]
    );
    assert!(messages[6].contains("/duration"), "{}", messages[6]);
}

#[test]
fn a_manifest_with_invalid_lines_does_not_run_unless_they_are_skipped() {
    let manifest = parse(&[line("ok", ""), "{}".to_owned()].join("\n"));
    assert!(matches!(
        manifest.runnable(false),
        Err(ManifestError::Invalid { lines: 1, first: 2 })
    ));
    let jobs = manifest.runnable(true).expect("skipped");
    assert_eq!(jobs.len(), 1);
    let mut report = Report::default();
    report.add_invalid(&manifest.invalid);
    assert_eq!(report.rows[0].status, JobStatus::Invalid);
    // `{}` has no id of its own: the digest of the line names it.
    assert!(
        report.rows[0].job.starts_with("job-"),
        "{:?}",
        report.rows[0]
    );
    assert!(
        report.rows[0]
            .error
            .as_deref()
            .is_some_and(|error| error.starts_with("line 2: "))
    );
}

#[test]
fn a_job_knows_its_model_mode_and_billing_and_its_request_keeps_no_id() {
    let manifest = parse(&line("scene.1", r#", "duration": 6"#));
    let job = &manifest.jobs[0];
    assert_eq!(job.line, 1);
    assert_eq!(job.id, "scene.1");
    assert_eq!(job.model, MODEL);
    assert!(!job.mode.is_empty());
    assert!(job.billing.key.contains("6"), "{:?}", job.billing);
    assert!(job.request.get("id").is_none());
    assert_eq!(job.request["prompt"], "a kite");
}

#[test]
fn a_line_without_an_id_gets_the_same_digest_whatever_the_order_of_its_keys() {
    let manifest = parse(&format!(
        "{{\"model\": \"{MODEL}\", \"prompt\": \"a kite\"}}\n{{\"prompt\": \"a kite\", \"model\": \"{MODEL}\"}}\n{{\"model\": \"{MODEL}\", \"prompt\": \"a fox\"}}"
    ));
    // The first two are the same request, so the same job: a duplicate.
    assert_eq!(manifest.jobs.len(), 2);
    assert_eq!(manifest.invalid.len(), 1);
    assert_eq!(manifest.invalid[0].line, 2);
    assert_eq!(manifest.invalid[0].id, Some(manifest.jobs[0].id.clone()));
    assert!(manifest.jobs[0].id.starts_with("job-"));
    assert!(vidspec_batch::is_safe_job_id(&manifest.jobs[0].id));
    assert_ne!(manifest.jobs[0].id, manifest.jobs[1].id);
}

#[test]
fn blank_lines_are_skipped_and_line_numbers_still_count_them() {
    let manifest = parse(&format!("\n   \n{}\n\n{{}}\n", line("a", "")));
    assert_eq!(manifest.jobs[0].line, 3);
    assert_eq!(manifest.invalid[0].line, 5);
}

#[test]
fn a_line_that_is_not_utf8_is_an_invalid_line_not_an_error() {
    let mut bytes = line("a", "").into_bytes();
    bytes.extend_from_slice(b"\n{\"id\": \"b\xff\"}\n");
    let manifest = manifest::parse(&bytes[..], Registry::embedded()).expect("read");
    assert_eq!(manifest.jobs.len(), 1);
    assert_eq!(manifest.invalid[0].line, 2);
}

#[test]
fn the_report_is_one_json_object_per_job() {
    let manifest = parse(&[line("a", ""), "{}".to_owned()].join("\n"));
    let mut report = Report::default();
    report.add_invalid(&manifest.invalid);
    report.add_invalid(&manifest.invalid);
    let mut written = Vec::new();
    write_jsonl(&report, &mut written).expect("written");
    let text = String::from_utf8(written).expect("utf-8");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("json"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["status"], "invalid");
    for field in [
        "job",
        "status",
        "task_id",
        "model",
        "mode",
        "billing_key",
        "cost",
        "files",
        "error",
    ] {
        assert!(lines[0].get(field).is_some(), "{field} in {}", lines[0]);
    }
    let summary = report.summary();
    assert_eq!(summary.count(JobStatus::Invalid), 2);
    assert!(!summary.complete);
}
