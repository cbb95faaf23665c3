//! `vidspec submit --specs DIR` pre-flights a `video:` input behind a URL:
//! a made-up family (`tests/specs/media`, its URL fields opened to plain
//! http), a 2-second MP4 served on loopback by a thread of this test, and
//! `vidspec sim` as the gateway. The video breaks the family's 3-second
//! minimum, so nothing is submitted. Nothing here leaves 127.0.0.1.

// Every test here runs `vidspec sim`.
#![cfg(feature = "sim")]

mod support;

#[path = "../../vidspec-transport/tests/fixtures/mod.rs"]
mod fixtures;

use std::process::Command;

use support::{serve_file, sim, stats, temp_dir};

#[test]
fn submit_refuses_a_video_url_shorter_than_the_spec_allows_before_anything_is_sent() {
    let sim = sim(&[]);
    let dir = temp_dir("media-preflight");
    let specs = dir.join("specs");
    std::fs::create_dir_all(&specs).expect("specs dir");
    let spec = include_str!("../../../tests/specs/media/media.yaml")
        .replace("schemes: [https]", "schemes: [http, https]");
    std::fs::write(specs.join("media.yaml"), spec).expect("spec");
    std::fs::write(
        specs.join("vocabulary.yaml"),
        include_str!("../../../tests/specs/media/vocabulary.yaml"),
    )
    .expect("vocabulary");
    let short = fixtures::Clip::video().timed(2, 25).bytes();
    let request = serde_json::json!({
        "model": "media-1",
        "prompt": "add snow",
        "video_url": serve_file(short),
    });
    let request_path = dir.join("request.json");
    std::fs::write(&request_path, request.to_string()).expect("request");

    let output = Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .arg("submit")
        .arg("--specs")
        .arg(&specs)
        .arg(&request_path)
        .env("VIDSPEC_JOURNAL", &sim.journal)
        .env("APIMART_BASE_URL", &sim.base_url)
        .env("APIMART_API_KEY", "sim-key")
        .env_remove("VIDSPEC_PREFLIGHT")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("/video_url"), "{stderr}");
    assert!(
        stderr.contains("lasts 2.00 s, shorter than the minimum 3 s"),
        "{stderr}"
    );
    assert!(stderr.contains("D2"), "{stderr}");
    assert_eq!(stats(&sim)["submit_attempts"], 0);
    let _ = std::fs::remove_dir_all(&dir);
}
