//! Lint of the task reader's data: status keys must be lifecycle names (in a
//! spec's `task.statuses`, in a vocabulary's `statuses:` and in a
//! `refers_to_task.status`), and result extras are pointers like the rest.

use vidspec_tests::{only_problem, problems, tiny_with_field};

/// [`TINY`](vidspec_tests::TINY) with a `parent` task reference on line 8
/// instead of `duration`, a result extra and a `running` spelling.
fn good() -> String {
    tiny_with_field("parent: {type: string, refers_to_task: {status: succeeded}}").replace(
        "  read: {status: [/data/status], videos: [{each: /data/result/videos, url: /url}]}\n",
        "  read:\n    status: [/data/status]\n    videos: [{each: /data/result/videos, url: /url}]\n    extras: {thumbnail_url: [/data/result/thumbnail_url]}\n  statuses: {running: [generating]}\n",
    )
}

#[test]
fn a_spec_adding_a_spelling_and_an_extra_loads() {
    assert_eq!(
        problems(&[("specs/tiny.yaml", &good())]),
        Vec::<String>::new()
    );
}

#[test]
fn a_spec_s_statuses_key_outside_the_lifecycle_is_refused() {
    let text = good().replace("statuses: {running:", "statuses: {generating:");
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(
        found.contains(
            "task.statuses: generating is not one of queued, running, succeeded, failed, cancelled"
        ),
        "{found:?}"
    );
}

#[test]
fn a_vocabulary_s_statuses_key_outside_the_lifecycle_is_refused_at_its_line() {
    let vocabulary = "modes: {text_to_video: a prompt}\nstatuses:\n  runing: [generating]\n";
    let found = only_problem(&[
        ("specs/tiny.yaml", &good()),
        ("extra/vocabulary.yaml", vocabulary),
    ]);
    assert!(
        found.starts_with("extra/vocabulary.yaml:3:3: statuses: runing is not one of"),
        "{found:?}"
    );
}

#[test]
fn a_refers_to_task_status_outside_the_lifecycle_is_refused_at_its_field() {
    let text = good().replace("status: succeeded}", "status: SUCCESS}");
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(found.starts_with("specs/tiny.yaml:8:"), "{found:?}");
    assert!(
        found.contains("parent: refers_to_task.status \"SUCCESS\" is not one of queued"),
        "{found:?}"
    );
}

#[test]
fn a_result_extra_pointer_without_a_leading_slash_is_refused() {
    let text = good().replace(
        "[/data/result/thumbnail_url]",
        "[data/result/thumbnail_url]",
    );
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(
        found.contains("task pointer \"data/result/thumbnail_url\" must start with /"),
        "{found:?}"
    );
}
