//! Lint of media constraints (`image:`, `video:`, `audio:`): a format name
//! pre-flight cannot recognise is an error at the field, as are ratios that
//! are not `W:H`, crossed bounds and duration bounds no listed format can give.

use vidspec_tests::{only_problem, problems, tiny_with_field};

/// The problems of [`TINY`](vidspec_tests::TINY) with `field_line` on line 8
/// instead of `duration`.
fn problems_with(field_line: &str) -> Vec<String> {
    problems(&[("specs/tiny.yaml", &tiny_with_field(field_line))])
}

/// The one problem of [`TINY`](vidspec_tests::TINY) with `field_line` on
/// line 8 instead of `duration`.
fn only_problem_with(field_line: &str) -> String {
    only_problem(&[("specs/tiny.yaml", &tiny_with_field(field_line))])
}

#[test]
fn an_image_format_pre_flight_reads_lints_clean_bmp_included() {
    let found = problems_with("picture: {type: url, image: {formats: [png, JPG, bmp, tiff]}}");
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn an_image_format_pre_flight_cannot_read_is_an_error_at_the_field() {
    let found = only_problem_with("picture: {type: url, image: {formats: [png, svg]}}");
    assert!(found.starts_with("specs/tiny.yaml:8:"), "{found:?}");
    assert!(
        found.contains("picture: image format \"svg\" is not one pre-flight can recognise"),
        "{found:?}"
    );
    assert!(
        found.contains("png, jpeg, webp, gif, bmp, tiff"),
        "{found:?}"
    );
}

#[test]
fn a_misspelt_format_gets_a_suggestion() {
    let found = only_problem_with("clip: {type: url, video: {formats: [mp5]}}");
    assert!(found.contains("did you mean mp4?"), "{found:?}");
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
    let found = only_problem_with("clip: {type: url, video: {formats: [mp4, webm]}}");
    assert!(found.contains("video format \"webm\""), "{found:?}");
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
    let found =
        only_problem_with("sound: {type: url, audio: {formats: [mp3, ogg], max_seconds: 30}}");
    assert!(found.contains("can never be checked"), "{found:?}");
    assert!(found.contains("wav, flac, m4a"), "{found:?}");
}

#[test]
fn media_constraints_on_a_field_that_is_not_a_url_are_an_error() {
    let found = only_problem_with("clip: {type: string, video: {formats: [mp4]}}");
    assert!(
        found.contains("clip: video applies to url fields"),
        "{found:?}"
    );
}

#[test]
fn two_media_kinds_on_one_field_are_an_error() {
    let found = only_problem_with("clip: {type: url, video: {}, audio: {}}");
    assert!(
        found.contains("video and audio describe one URL"),
        "{found:?}"
    );
}
