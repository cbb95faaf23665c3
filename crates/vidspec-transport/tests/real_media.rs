//! Pre-flight on files a real encoder wrote, not our own fixture writer:
//! `tests/fixtures/real/` holds three small files made with ffmpeg 5.1
//! (libx264, the native AAC encoder):
//!
//! ```sh
//! ffmpeg -f lavfi -i testsrc=duration=4:size=640x360:rate=12 -c:v libx264 -crf 51 \
//!   -preset veryslow -pix_fmt yuv420p x264-640x360-12fps-4s.mp4          # moov after mdat
//! ffmpeg -f lavfi -i testsrc=duration=4:size=360x640:rate=30 -c:v libx264 -crf 51 \
//!   -pix_fmt yuv420p -movflags +faststart x264-360x640-30fps-4s-faststart.mov
//! ffmpeg -f lavfi -i "sine=frequency=440:duration=3" -c:a aac -b:a 16k aac-3s.m4a
//! ```
//!
//! Each reading (duration, picture size, frame rate, container) is shown by
//! the message of a constraint it breaks.

use std::path::PathBuf;

use vidspec_core::spec::{AudioConstraints, VideoConstraints};
use vidspec_transport::{Finding, Severity, check_local_audio, check_local_video};

fn real(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real")
        .join(name)
}

fn video(formats: &[&str]) -> VideoConstraints {
    VideoConstraints {
        formats: formats.iter().map(|name| (*name).to_owned()).collect(),
        max_bytes: None,
        min_seconds: None,
        max_seconds: None,
        min_width: None,
        min_height: None,
        min_short_side: None,
        min_aspect: None,
        max_aspect: None,
        min_fps: None,
        fps_above: None,
        max_fps: None,
        rule: Some("R1".to_owned()),
    }
}

fn errors(findings: &[Finding]) -> Vec<&str> {
    findings
        .iter()
        .inspect(|finding| assert_eq!(finding.severity, Severity::Error, "{findings:#?}"))
        .map(|finding| finding.message.as_str())
        .collect()
}

#[tokio::test]
async fn an_x264_mp4_with_its_moov_after_the_media_data_reads_as_4_s_640x360_at_12_fps() {
    let constraints = VideoConstraints {
        min_seconds: Some(5.0),
        min_short_side: Some(400),
        max_fps: Some(10.0),
        ..video(&["mp4"])
    };
    let findings = check_local_video(&real("x264-640x360-12fps-4s.mp4"), &constraints).await;
    let errors = errors(&findings);
    assert_eq!(errors.len(), 3, "{findings:#?}");
    assert!(
        errors.iter().any(|m| m.contains("lasts 4.00 s")),
        "{errors:#?}"
    );
    assert!(errors.iter().any(|m| m.contains("640×360")), "{errors:#?}");
    assert!(
        errors.iter().any(|m| m.contains("12.00 fps")),
        "{errors:#?}"
    );
}

#[tokio::test]
async fn an_x264_mov_in_portrait_passes_constraints_it_meets() {
    let constraints = VideoConstraints {
        min_seconds: Some(3.0),
        max_seconds: Some(5.0),
        min_short_side: Some(360),
        min_aspect: Some("1:2".to_owned()),
        max_aspect: Some("1:1".to_owned()),
        fps_above: Some(29.0),
        max_bytes: Some(100_000),
        ..video(&["mov"])
    };
    let findings =
        check_local_video(&real("x264-360x640-30fps-4s-faststart.mov"), &constraints).await;
    assert!(findings.is_empty(), "{findings:#?}");
}

#[tokio::test]
async fn an_x264_mov_is_refused_where_only_mp4_is_named() {
    let findings = check_local_video(
        &real("x264-360x640-30fps-4s-faststart.mov"),
        &video(&["mp4"]),
    )
    .await;
    let errors = errors(&findings);
    assert_eq!(errors.len(), 1, "{findings:#?}");
    assert!(errors[0].contains("MOV"), "{errors:#?}");
}

#[tokio::test]
async fn an_aac_m4a_reads_as_3_s() {
    let constraints = AudioConstraints {
        formats: vec!["m4a".to_owned()],
        max_bytes: None,
        min_seconds: None,
        max_seconds: Some(2.0),
        rule: Some("R2".to_owned()),
    };
    let findings = check_local_audio(&real("aac-3s.m4a"), &constraints).await;
    let errors = errors(&findings);
    assert_eq!(errors.len(), 1, "{findings:#?}");
    assert!(errors[0].contains("lasts 3.0"), "{errors:#?}");
}
