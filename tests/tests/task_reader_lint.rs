//! Lint of the task reader's data: status keys must be lifecycle names (in a
//! spec's `task.statuses`, in a vocabulary's `statuses:` and in a
//! `refers_to_task.status`), and result extras are pointers like the rest.

use vidspec_core::{Registry, Source, SpecErrors};

const GOOD: &str = r#"family: tiny
description: a tiny made-up family
endpoint: {path: /v1/videos/generations}
models:
  - id: tiny-1
fields:
  prompt: {type: string, required: true}
  parent: {type: string, refers_to_task: {status: succeeded}}
modes:
  - {name: text_to_video}
billing: {key: "{model}"}
task:
  submit_task_id: [/data/0/task_id]
  poll_path: /v1/tasks/{task_id}
  poll: {first_after_s: 1, every_s: 1, typical_s: 10, timeout_s: 60}
  read:
    status: [/data/status]
    videos: [{each: /data/result/videos, url: /url}]
    extras: {thumbnail_url: [/data/result/thumbnail_url]}
  statuses: {running: [generating]}
"#;

fn load(files: &[(&str, &str)]) -> Result<Registry, SpecErrors> {
    let mut sources = Registry::embedded_sources();
    sources.retain(|source| source.stem() == "vocabulary");
    sources.extend(files.iter().map(|(name, text)| Source::new(*name, *text)));
    Registry::from_sources(sources)
}

fn problems(files: &[(&str, &str)]) -> Vec<String> {
    match load(files) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.problems.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_spec_adding_a_spelling_and_an_extra_loads() {
    assert_eq!(problems(&[("specs/tiny.yaml", GOOD)]), Vec::<String>::new());
}

#[test]
fn a_spec_s_statuses_key_outside_the_lifecycle_is_refused() {
    let text = GOOD.replace("statuses: {running:", "statuses: {generating:");
    let found = problems(&[("specs/tiny.yaml", &text)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains(
            "task.statuses: generating is not one of queued, running, succeeded, failed, cancelled"
        ),
        "{found:?}"
    );
}

#[test]
fn a_vocabulary_s_statuses_key_outside_the_lifecycle_is_refused_at_its_line() {
    let vocabulary = "modes: {text_to_video: a prompt}\nstatuses:\n  runing: [generating]\n";
    let found = problems(&[
        ("specs/tiny.yaml", GOOD),
        ("extra/vocabulary.yaml", vocabulary),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("extra/vocabulary.yaml:3:3: statuses: runing is not one of"),
        "{found:?}"
    );
}

#[test]
fn a_refers_to_task_status_outside_the_lifecycle_is_refused_at_its_field() {
    let text = GOOD.replace("status: succeeded}", "status: SUCCESS}");
    let found = problems(&[("specs/tiny.yaml", &text)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("specs/tiny.yaml:8:"), "{found:?}");
    assert!(
        found[0].contains("parent: refers_to_task.status \"SUCCESS\" is not one of queued"),
        "{found:?}"
    );
}

#[test]
fn a_result_extra_pointer_without_a_leading_slash_is_refused() {
    let text = GOOD.replace(
        "[/data/result/thumbnail_url]",
        "[data/result/thumbnail_url]",
    );
    let found = problems(&[("specs/tiny.yaml", &text)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("task pointer \"data/result/thumbnail_url\" must start with /"),
        "{found:?}"
    );
}
