//! `vidspec submit --specs DIR` with local files where URLs go, beyond
//! top-level image fields: a local video or audio file (made-up family
//! `tests/specs/media`) is pre-flighted like a local image and then refused,
//! since the gateway has no video or audio upload endpoint; a local image in
//! a sub-field (made-up family `tests/specs/nested`,
//! `metadata.first_frame_image`) is checked, uploaded and sent at its nested
//! place. The gateway is `vidspec sim`, or, where the body sent must be read,
//! a recording stub of this test. Nothing here leaves 127.0.0.1.

// Without the `sim` feature the tests that run `vidspec sim` are left out,
// and the helpers only they use go unused.
#![cfg_attr(not(feature = "sim"), allow(dead_code, unused_imports))]

mod support;

#[path = "../../vidspec-transport/tests/fixtures/mod.rs"]
mod fixtures;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use support::{SimProcess, png, sim, stats, temp_dir};

/// A folder with the `media` family's spec and vocabulary in `specs/`.
fn media_specs(label: &str) -> PathBuf {
    let dir = temp_dir(label);
    let specs = dir.join("specs");
    std::fs::create_dir_all(&specs).expect("specs dir");
    std::fs::write(
        specs.join("media.yaml"),
        include_str!("../../../tests/specs/media/media.yaml"),
    )
    .expect("spec");
    std::fs::write(
        specs.join("vocabulary.yaml"),
        include_str!("../../../tests/specs/media/vocabulary.yaml"),
    )
    .expect("vocabulary");
    dir
}

/// A folder with the `nested` family's spec (as `edit` makes it) in `specs/`.
fn nested_specs(label: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let dir = temp_dir(label);
    let specs = dir.join("specs");
    std::fs::create_dir_all(&specs).expect("specs dir");
    let spec = edit(include_str!("../../../tests/specs/nested/nested.yaml"));
    std::fs::write(specs.join("nested.yaml"), spec).expect("spec");
    dir
}

/// Runs `vidspec submit --specs DIR/specs DIR/request.json EXTRA` in `dir`
/// against `base_url`, pre-flight on.
fn submit(dir: &Path, request: &Value, base_url: &str, journal: &Path, extra: &[&str]) -> Output {
    std::fs::write(dir.join("request.json"), request.to_string()).expect("request");
    Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .arg("submit")
        .arg("--specs")
        .arg(dir.join("specs"))
        .arg("request.json")
        .args(extra)
        .current_dir(dir)
        .env("VIDSPEC_JOURNAL", journal)
        .env("APIMART_BASE_URL", base_url)
        .env("APIMART_API_KEY", "sim-key")
        .env_remove("VIDSPEC_PREFLIGHT")
        .output()
        .expect("vidspec runs")
}

fn submit_to_sim(dir: &Path, request: &Value, sim: &SimProcess, extra: &[&str]) -> Output {
    submit(dir, request, &sim.base_url, &sim.journal, extra)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_nothing_sent(sim: &SimProcess) {
    let seen = stats(sim);
    assert_eq!(seen["submit_attempts"], 0, "{seen}");
    assert_eq!(seen["uploads"], 0, "{seen}");
}

// ---------------------------------------------------------------------------
// local video and audio files
// ---------------------------------------------------------------------------

/// A `media-1` request whose `video_url` is the local file `clip.mp4`.
fn local_video_request() -> Value {
    json!({"model": "media-1", "prompt": "add snow", "video_url": "clip.mp4"})
}

/// A `media-1` request with a remote video and the local file `track.wav` as
/// its `audio_url`.
fn local_audio_request() -> Value {
    json!({
        "model": "media-1",
        "prompt": "add snow",
        "video_url": "https://example.invalid/clip.mp4",
        "audio_url": "track.wav",
    })
}

/// Submits `request` with `extra` arguments from a folder of the `media`
/// specs holding `file` (name, bytes) to a fresh simulator, and checks that
/// the simulator saw neither a submit nor an upload.
fn submit_local_media(
    label: &str,
    file: (&str, Vec<u8>),
    request: &Value,
    extra: &[&str],
) -> Output {
    let sim = sim(&[]);
    let dir = media_specs(label);
    std::fs::write(dir.join(file.0), file.1).expect("media file");
    let output = submit_to_sim(&dir, request, &sim, extra);
    assert_nothing_sent(&sim);
    let _ = std::fs::remove_dir_all(&dir);
    output
}

/// The stderr of a `vidspec` run that must have exited with status 1.
fn refused(output: &Output) -> String {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    text
}

#[cfg(feature = "sim")]
#[test]
fn a_local_video_shorter_than_the_spec_allows_is_refused_by_pre_flight_citing_the_duration_rule() {
    let clip = fixtures::Clip::video().timed(2, 25).bytes();
    let text = refused(&submit_local_media(
        "local-short-video",
        ("clip.mp4", clip),
        &local_video_request(),
        &[],
    ));
    assert!(text.contains("/video_url"), "{text}");
    assert!(
        text.contains("lasts 2.00 s, shorter than the minimum 3 s"),
        "{text}"
    );
    assert!(text.contains("[D2]"), "{text}");
    assert!(text.contains("(pre-flight)"), "{text}");
    assert!(!text.contains("upload"), "{text}");
}

#[cfg(feature = "sim")]
#[test]
fn a_local_video_that_passes_pre_flight_is_refused_before_anything_is_sent_saying_to_pass_a_url() {
    let clip = fixtures::Clip::video().bytes();
    let text = refused(&submit_local_media(
        "local-valid-video",
        ("clip.mp4", clip),
        &local_video_request(),
        &[],
    ));
    assert!(text.contains("/video_url"), "{text}");
    assert!(text.contains("clip.mp4 is a local file"), "{text}");
    assert!(text.contains("no upload endpoint for videos"), "{text}");
    assert!(text.contains("http(s) URL"), "{text}");
    assert!(!text.contains("pre-flight error"), "{text}");
}

#[cfg(feature = "sim")]
#[test]
fn a_local_video_is_refused_without_pre_flight_too() {
    let clip = fixtures::Clip::video().timed(2, 25).bytes();
    let text = refused(&submit_local_media(
        "local-video-no-preflight",
        ("clip.mp4", clip),
        &local_video_request(),
        &["--no-preflight"],
    ));
    assert!(text.contains("no upload endpoint for videos"), "{text}");
    assert!(!text.contains("shorter than the minimum"), "{text}");
}

#[cfg(feature = "sim")]
#[test]
fn a_local_audio_file_is_checked_then_refused_in_json_as_local_media_before_anything_is_sent() {
    let output = submit_local_media(
        "local-audio",
        ("track.wav", fixtures::wav(10)),
        &local_audio_request(),
        &["--format", "json"],
    );
    refused(&output);
    let result: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(result["task_id"], Value::Null);
    assert_eq!(result["error"]["kind"], "local_media");
    assert_eq!(result["error"]["retryable"], false);
    let message = result["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("/audio_url"), "{message}");
    assert!(
        message.contains("no upload endpoint for audio"),
        "{message}"
    );
}

#[cfg(feature = "sim")]
#[test]
fn a_local_audio_file_longer_than_the_spec_allows_is_refused_by_pre_flight() {
    let text = refused(&submit_local_media(
        "local-long-audio",
        ("track.wav", fixtures::wav(45)),
        &local_audio_request(),
        &[],
    ));
    assert!(text.contains("/audio_url"), "{text}");
    assert!(text.contains("[D3]"), "{text}");
    assert!(text.contains("(pre-flight)"), "{text}");
}

// ---------------------------------------------------------------------------
// local images in sub-fields
// ---------------------------------------------------------------------------

/// What the recording gateway saw: (path, body) per request.
type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A gateway stub on loopback that records every request's path and body and
/// answers an upload with a URL of its own and a submit with a task id.
fn recording_gateway() -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let own = base.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let Ok(clone) = stream.try_clone() else {
                continue;
            };
            let mut reader = BufReader::new(clone);
            let mut writer = stream;
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            let mut length = 0usize;
            let mut chunked = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lowered = line.to_ascii_lowercase();
                if let Some(value) = lowered.strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                if lowered.starts_with("transfer-encoding:") && lowered.contains("chunked") {
                    chunked = true;
                }
            }
            let mut body = Vec::new();
            if chunked {
                loop {
                    let mut size = String::new();
                    if reader.read_line(&mut size).unwrap_or(0) == 0 {
                        break;
                    }
                    let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
                    let mut chunk = vec![0u8; size + 2];
                    if reader.read_exact(&mut chunk).is_err() || size == 0 {
                        break;
                    }
                    body.extend_from_slice(&chunk[..size]);
                }
            } else {
                body.resize(length, 0);
                let _ = reader.read_exact(&mut body);
            }
            let answer = if path.ends_with("/uploads/images") {
                json!({"url": format!("{own}/uploaded/frame.png"), "filename": "frame.png",
                       "content_type": "image/png", "bytes": 33, "created_at": 1})
            } else {
                json!({"code": 200, "data": [{"status": "submitted", "task_id": "task_local_1"}]})
            }
            .to_string();
            if let Ok(mut seen) = log.lock() {
                seen.push((path, body));
            }
            let _ = write!(
                writer,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
            let _ = writer.flush();
        }
    });
    (base, seen)
}

/// The JSON body of the one submit the stub saw.
fn submitted_body(seen: &Seen) -> Value {
    let seen = seen.lock().expect("the log");
    let submits: Vec<&(String, Vec<u8>)> = seen
        .iter()
        .filter(|(path, _)| path.ends_with("/videos/generations"))
        .collect();
    assert_eq!(
        submits.len(),
        1,
        "one submit: {:?}",
        seen.iter().map(|s| &s.0)
    );
    serde_json::from_slice(&submits[0].1).expect("a JSON body")
}

fn uploads(seen: &Seen) -> usize {
    let seen = seen.lock().expect("the log");
    seen.iter()
        .filter(|(path, _)| path.ends_with("/uploads/images"))
        .count()
}

/// The `nested` spec as it is.
fn as_is(spec: &str) -> String {
    spec.to_owned()
}

/// The `nested` spec with `metadata.first_frame_image` also accepted as
/// `metadata.first_frame`.
fn with_first_frame_alias(spec: &str) -> String {
    spec.replace(
        "first_frame_image: {type: url, rule: N4, image: {min_width: 300}}",
        "first_frame_image: {type: url, rule: N4, image: {min_width: 300}, alias: first_frame}",
    )
}

/// A `nested-1` request whose `metadata.<key>` is the local file `frame.png`.
fn local_frame_request(key: &str) -> Value {
    json!({
        "model": "nested-1",
        "prompt": "the cat walks",
        "metadata": {key: "frame.png"},
    })
}

/// Submits a local 512x512 `frame.png` as `metadata.<key>` of the `nested`
/// spec (as `edit` makes it) to the recording gateway, checks that it
/// succeeded after one upload, and gives the gateway's base URL and the body
/// submitted.
fn submit_uploaded_frame(label: &str, edit: impl Fn(&str) -> String, key: &str) -> (String, Value) {
    let (base, seen) = recording_gateway();
    let dir = nested_specs(label, edit);
    std::fs::write(dir.join("frame.png"), png(512, 512)).expect("png");
    let journal = dir.join("journal.jsonl");
    let output = submit(&dir, &local_frame_request(key), &base, &journal, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(uploads(&seen), 1);
    let body = submitted_body(&seen);
    let _ = std::fs::remove_dir_all(&dir);
    (base, body)
}

/// Submits a local 200x200 `frame.png` (too narrow for the spec) as
/// `metadata.<key>` of the `nested` spec (as `edit` makes it) to a fresh
/// simulator, checks it was refused with nothing sent, and gives stderr.
fn submit_too_small_frame(label: &str, edit: impl Fn(&str) -> String, key: &str) -> String {
    let sim = sim(&[]);
    let dir = nested_specs(label, edit);
    std::fs::write(dir.join("frame.png"), png(200, 200)).expect("png");
    let text = refused(&submit_to_sim(&dir, &local_frame_request(key), &sim, &[]));
    assert_nothing_sent(&sim);
    let _ = std::fs::remove_dir_all(&dir);
    text
}

#[test]
fn a_local_image_in_a_sub_field_is_uploaded_and_the_body_carries_its_url_at_the_nested_place() {
    let (base, body) = submit_uploaded_frame("nested-local-image", as_is, "first_frame_image");
    assert_eq!(
        body["metadata"]["first_frame_image"],
        format!("{base}/uploaded/frame.png")
    );
}

#[test]
fn a_local_image_under_a_sub_fields_alias_is_uploaded_and_sent_under_the_canonical_name() {
    let (base, body) = submit_uploaded_frame(
        "nested-local-image-alias",
        with_first_frame_alias,
        "first_frame",
    );
    assert_eq!(
        body["metadata"]["first_frame_image"],
        format!("{base}/uploaded/frame.png")
    );
    assert_eq!(body["metadata"].get("first_frame"), None, "{body}");
}

#[cfg(feature = "sim")]
#[test]
fn a_local_image_in_a_sub_field_too_small_for_the_spec_is_refused_before_upload() {
    let text = submit_too_small_frame("nested-small-image", as_is, "first_frame_image");
    assert!(text.contains("/metadata/first_frame_image"), "{text}");
    assert!(
        text.contains("smaller than the minimum 300 pixels wide"),
        "{text}"
    );
}

#[cfg(feature = "sim")]
#[test]
fn a_local_image_under_a_sub_fields_alias_too_small_for_the_spec_is_refused_before_upload() {
    let text = submit_too_small_frame(
        "nested-small-image-alias",
        with_first_frame_alias,
        "first_frame",
    );
    assert!(text.contains("/metadata/first_frame:"), "{text}");
    assert!(
        text.contains("smaller than the minimum 300 pixels wide"),
        "{text}"
    );
}
