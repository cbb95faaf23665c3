//! The task reader reads spellings and extras from data only: a spec may
//! teach a status spelling no vocabulary knows (`generating`), may move a
//! spelling the vocabulary places elsewhere, and may name result extras
//! beside the videos (`thumbnail_url`) that the snapshot carries. The
//! made-up, sora-like family `tests/specs/task-reader` holds the spec.

use std::path::Path;

use serde_json::{Value, json};
use vidspec_core::Registry;
use vidspec_core::spec::Task;
use vidspec_transport::{Status, snapshot};

fn task_reader() -> Registry {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/specs/task-reader");
    Registry::load_dir(&folder).unwrap_or_else(|errors| panic!("{}: {errors}", folder.display()))
}

fn task_section() -> Task {
    let registry = task_reader();
    let model = registry.model("task-reader-1").expect("the made-up model");
    (**model.task()).clone()
}

fn answer(status: &str, result: Value) -> Value {
    json!({"code": 200, "data": {"id": "task_1", "status": status, "progress": 40, "result": result}})
}

#[test]
fn a_spelling_the_spec_adds_under_running_reads_as_running() {
    let read = snapshot(
        &task_section(),
        "task_1",
        &answer("generating", json!({})),
        None,
    );
    assert_eq!(read.status, Status::Running);
    assert_eq!(read.raw_status, "generating");
    assert!(!read.status.is_terminal());
}

#[test]
fn the_vocabulary_s_spellings_still_read_beside_the_spec_s_own() {
    let read = snapshot(
        &task_section(),
        "task_1",
        &answer("COMPLETED", json!({})),
        None,
    );
    assert_eq!(read.status, Status::Succeeded);
}

#[test]
fn a_spelling_no_data_knows_stays_unknown_and_keeps_its_raw_spelling() {
    let read = snapshot(
        &task_section(),
        "task_1",
        &answer("rendering", json!({})),
        None,
    );
    assert_eq!(read.status, Status::Unknown("rendering".to_owned()));
    assert_eq!(read.status.word(), "rendering");
}

#[test]
fn a_spelling_the_spec_places_wins_over_the_vocabulary_s_place_for_it() {
    // The vocabulary reads `error` as failed; a gateway that reports a
    // retrying job as `error` is taught otherwise by its spec.
    let registry = task_reader();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/specs/task-reader/task-reader.yaml"),
    )
    .expect("the spec");
    let text = text.replace("running: [generating]", "running: [generating, error]");
    let mut sources = Registry::embedded_sources();
    sources.retain(|source| source.stem() == "vocabulary");
    sources.push(vidspec_core::Source::new("specs/task-reader.yaml", text));
    let moved = Registry::from_sources(sources).unwrap_or_else(|errors| panic!("{errors}"));
    let task = moved
        .model("task-reader-1")
        .expect("the model")
        .task()
        .clone();
    let read = snapshot(&task, "task_1", &answer("error", json!({})), None);
    assert_eq!(read.status, Status::Running);
    let unmoved = registry
        .model("task-reader-1")
        .expect("the model")
        .task()
        .clone();
    let read = snapshot(&unmoved, "task_1", &answer("error", json!({})), None);
    assert_eq!(read.status, Status::Failed, "without the spec's line");
}

#[test]
fn a_result_extra_the_spec_names_is_carried_by_the_snapshot_beside_the_videos() {
    let result = json!({
        "videos": [{"url": "https://cdn.example/v.mp4"}],
        "thumbnail_url": "https://cdn.example/v.jpg"
    });
    let read = snapshot(
        &task_section(),
        "task_1",
        &answer("completed", result),
        None,
    );
    assert_eq!(read.status, Status::Succeeded);
    assert_eq!(read.videos.len(), 1);
    assert_eq!(
        read.extras.get("thumbnail_url"),
        Some(&json!("https://cdn.example/v.jpg"))
    );
    let written = serde_json::to_value(&read).expect("serialises");
    assert_eq!(
        written["extras"]["thumbnail_url"],
        "https://cdn.example/v.jpg"
    );
}

#[test]
fn an_answer_without_the_extra_serialises_without_an_extras_key() {
    let result = json!({"videos": [{"url": "https://cdn.example/v.mp4"}]});
    let read = snapshot(
        &task_section(),
        "task_1",
        &answer("completed", result),
        None,
    );
    assert!(read.extras.is_empty());
    let written = serde_json::to_value(&read).expect("serialises");
    assert!(written.get("extras").is_none(), "{written}");
}
