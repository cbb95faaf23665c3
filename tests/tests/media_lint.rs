//! Lint of media constraints (`image:`, `video:`, `audio:`): a format name
//! pre-flight cannot recognise is an error at the field, as are ratios that
//! are not `W:H`, crossed bounds and duration bounds no listed format can give.

use vidspec_core::{Registry, Source};

const SPEC: &str = r#"family: tiny
description: a tiny made-up family
endpoint: {path: /v1/videos/generations}
models:
  - id: tiny-1
fields:
  prompt: {type: string, required: true}
  MEDIA
modes:
  - {name: text_to_video}
billing: {key: "{model}"}
task:
  submit_task_id: [/data/0/task_id]
  poll_path: /v1/tasks/{task_id}
  poll: {first_after_s: 1, every_s: 1, typical_s: 10, timeout_s: 60}
  read: {status: [/data/status], videos: [{each: /data/result/videos, url: /url}]}
"#;

fn problems_with(field_line: &str) -> Vec<String> {
    let mut sources = Registry::embedded_sources();
    sources.retain(|source| source.stem() == "vocabulary");
    sources.push(Source::new(
        "specs/tiny.yaml",
        SPEC.replace("MEDIA", field_line),
    ));
    match Registry::from_sources(sources) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.problems.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn an_image_format_pre_flight_reads_lints_clean_bmp_included() {
    let found = problems_with("picture: {type: url, image: {formats: [png, JPG, bmp, tiff]}}");
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn an_image_format_pre_flight_cannot_read_is_an_error_at_the_field() {
    let found = problems_with("picture: {type: url, image: {formats: [png, svg]}}");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("specs/tiny.yaml:8:"), "{found:?}");
    assert!(
        found[0].contains("picture: image format \"svg\" is not one pre-flight can recognise"),
        "{found:?}"
    );
    assert!(
        found[0].contains("png, jpeg, webp, gif, bmp, tiff"),
        "{found:?}"
    );
}

#[test]
fn a_misspelt_format_gets_a_suggestion() {
    let found = problems_with("clip: {type: url, video: {formats: [mp5]}}");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("did you mean mp4?"), "{found:?}");
}

#[test]
fn item_formats_are_linted_under_the_item_path() {
    let found =
        problems_with("pictures: {type: array, items: {type: url, image: {formats: [heic]}}}");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("pictures[]: image format"), "{found:?}");
}

#[test]
fn video_and_audio_formats_pre_flight_reads_lint_clean() {
    let found = problems_with(
        "clip: {type: url, video: {formats: [mp4, mov], min_seconds: 3, max_seconds: 60, min_height: 480, min_short_side: 360, min_aspect: \"1:8\", max_aspect: \"8:1\", fps_above: 8, max_bytes: 104857600}}\n  \
         sound: {type: url, audio: {formats: [mp3, wav, m4a, aac, ogg, flac], max_seconds: 30}}",
    );
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn a_video_format_pre_flight_cannot_read_is_an_error() {
    let found = problems_with("clip: {type: url, video: {formats: [mp4, webm]}}");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("video format \"webm\""), "{found:?}");
}

#[test]
fn crossed_video_bounds_and_a_bad_ratio_are_errors() {
    let found = problems_with(
        "clip: {type: url, video: {min_seconds: 10, max_seconds: 5, fps_above: 30, max_fps: 30, min_aspect: \"wide\"}}",
    );
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(
        found
            .iter()
            .any(|p| p.contains("min_aspect \"wide\" is not a ratio")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("min_seconds 10 is greater than max_seconds 5")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("fps_above 30 leaves no frame rate")),
        "{found:?}"
    );
}

#[test]
fn an_audio_duration_bound_no_listed_format_can_give_is_an_error() {
    let found = problems_with("sound: {type: url, audio: {formats: [mp3, ogg], max_seconds: 30}}");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("can never be checked"), "{found:?}");
    assert!(found[0].contains("wav, flac, m4a"), "{found:?}");
}

#[test]
fn media_constraints_on_a_field_that_is_not_a_url_are_an_error() {
    let found = problems_with("clip: {type: string, video: {formats: [mp4]}}");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("clip: video applies to url fields"),
        "{found:?}"
    );
}

#[test]
fn two_media_kinds_on_one_field_are_an_error() {
    let found = problems_with("clip: {type: url, video: {}, audio: {}}");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("video and audio describe one URL"),
        "{found:?}"
    );
}
