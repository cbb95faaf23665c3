//! Pre-flight of `video:` and `audio:` inputs: local files and URLs on a
//! loopback server (a tiny axum app that honours `Range` or ignores it, and
//! records what it was asked). The made-up `media` family of
//! `tests/specs/media/` gives the constraints (happyhorse's `video_url`
//! rule: 3–60 s, at least 480p, short side ≥ 360, 1:8 to 8:1, MP4 or MOV,
//! more than 8 fps, at most 100 MB). Nothing here leaves 127.0.0.1.

mod fixtures;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use fixtures::Clip;
use serde_json::{Value, json};
use vidspec_core::media_formats::MediaKind;
use vidspec_core::spec::{AudioConstraints, ImageConstraints, VideoConstraints};
use vidspec_core::{Plan, Registry, Source};
use vidspec_transport::{
    ApiKey, Backoff, Client, ClientOptions, Finding, Severity, check_local_audio,
    check_local_image, check_local_video, sniff_audio, sniff_video,
};

const SPEC: &str = include_str!("../../../tests/specs/media/media.yaml");
const VOCABULARY: &str = include_str!("../../../tests/specs/media/vocabulary.yaml");

/// The media family, its URL fields opened to plain http for the loopback
/// server.
fn registry() -> &'static Registry {
    static REGISTRY: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut sources = Registry::embedded_sources();
        sources.retain(|source| source.stem() == "vocabulary");
        sources.push(Source::new(
            "media/media.yaml",
            SPEC.replace("schemes: [https]", "schemes: [http, https]"),
        ));
        sources.push(Source::new("media/vocabulary.yaml", VOCABULARY));
        Registry::from_sources(sources).unwrap_or_else(|errors| panic!("{errors}"))
    })
}

fn plan(request: Value) -> Plan {
    registry()
        .model("media-1")
        .expect("media-1")
        .prepare(request)
        .unwrap_or_else(|errors| panic!("{errors}"))
}

fn video_constraints() -> VideoConstraints {
    plan(json!({"model": "media-1", "prompt": "p", "video_url": "https://example.com/v.mp4"}))
        .preconditions()[0]
        .video
        .clone()
        .expect("video_url carries video constraints")
}

fn audio_constraints() -> AudioConstraints {
    plan(json!({"model": "media-1", "prompt": "p", "video_url": "https://example.com/v.mp4", "audio_url": "https://example.com/a.wav"}))
        .preconditions()[0]
        .audio
        .clone()
        .expect("audio_url carries audio constraints")
}

/// A file in a fresh temp folder (removed by the caller's `cleanup`).
fn temp_file(label: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vidspec-media-{}-{label}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let path = dir.join(label);
    std::fs::write(&path, bytes).expect("writes");
    path
}

fn cleanup(path: &std::path::Path) {
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

async fn local_video(label: &str, clip: Clip) -> Vec<Finding> {
    let path = temp_file(label, &clip.bytes());
    let findings = check_local_video(&path, &video_constraints()).await;
    cleanup(&path);
    findings
}

fn only_error(findings: &[Finding]) -> &str {
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Error, "{findings:#?}");
    assert_eq!(findings[0].rule.as_deref(), Some("D2"));
    &findings[0].message
}

// ---- every format name lint accepts is recognised ----

#[test]
fn every_video_and_audio_format_lint_accepts_is_sniffed_from_its_first_bytes() {
    let videos = [
        Clip::video().bytes(),
        Clip {
            brand: Some(b"qt  "),
            ..Clip::video()
        }
        .bytes(),
    ];
    let sniffed: Vec<&str> = videos
        .iter()
        .map(|bytes| sniff_video(bytes).expect("a video"))
        .collect();
    assert_eq!(sniffed, MediaKind::Video.names());

    let audio = [
        fixtures::mp3_with_tag(),
        fixtures::wav(1),
        Clip::audio(1).bytes(),
        fixtures::aac(),
        fixtures::ogg(),
        fixtures::flac(1),
    ];
    let sniffed: Vec<&str> = audio
        .iter()
        .map(|bytes| sniff_audio(bytes).expect("audio"))
        .collect();
    assert_eq!(sniffed, MediaKind::Audio.names());
    assert_eq!(sniff_audio(&fixtures::mp3_frame()), Some("mp3"));
}

#[test]
fn a_quicktime_file_without_ftyp_is_a_mov() {
    let old = Clip {
        brand: None,
        ..Clip::video()
    };
    assert_eq!(sniff_video(&old.bytes()), Some("mov"));
}

// ---- local videos ----

#[tokio::test]
async fn a_local_video_that_fits_every_constraint_passes() {
    let findings = local_video("fits.mp4", Clip::video()).await;
    assert!(findings.is_empty(), "{findings:#?}");
}

#[tokio::test]
async fn a_video_at_exactly_8_fps_breaks_more_than_8_fps() {
    let findings = local_video("eight.mp4", Clip::video().timed(5, 8)).await;
    let message = only_error(&findings);
    assert!(message.contains("8.00 fps"), "{message}");
    assert!(message.contains("more than 8 fps"), "{message}");
    // 10 fps is more than 8
    let findings = local_video("ten.mp4", Clip::video().timed(5, 10)).await;
    assert!(findings.is_empty(), "{findings:#?}");
}

#[tokio::test]
async fn a_video_shorter_than_3_seconds_or_longer_than_60_is_an_error() {
    let message =
        only_error(&local_video("short.mp4", Clip::video().timed(2, 25)).await).to_owned();
    assert!(
        message.contains("lasts 2.00 s, shorter than the minimum 3 s"),
        "{message}"
    );
    let message =
        only_error(&local_video("long.mp4", Clip::video().timed(61, 25)).await).to_owned();
    assert!(
        message.contains("longer than the maximum 60 s"),
        "{message}"
    );
}

#[tokio::test]
async fn a_video_below_480p_or_with_a_short_side_under_360_is_an_error() {
    let message =
        only_error(&local_video("wide.mp4", Clip::video().sized(854, 400)).await).to_owned();
    assert!(
        message.contains("854×400") && message.contains("480 pixels high"),
        "{message}"
    );
    // portrait: 480 high is met, the short side is not
    let message =
        only_error(&local_video("tall.mp4", Clip::video().sized(300, 600)).await).to_owned();
    assert!(
        message.contains("shorter side must be at least 360"),
        "{message}"
    );
}

#[tokio::test]
async fn a_video_narrower_than_1_to_8_is_an_error() {
    let message =
        only_error(&local_video("thin.mp4", Clip::video().sized(400, 3600)).await).to_owned();
    assert!(
        message.contains("1:9") && message.contains("1:8"),
        "{message}"
    );
}

#[tokio::test]
async fn a_turned_video_is_judged_as_displayed() {
    // Stored 1920×360, shown 360×1920: fine as shown (1:5.3), while the stored
    // shape would be 360 high, below 480p.
    let turned = Clip {
        turned: true,
        ..Clip::video().sized(1920, 360)
    };
    let findings = local_video("turned.mp4", turned).await;
    assert!(findings.is_empty(), "{findings:#?}");
}

#[tokio::test]
async fn a_video_whose_moov_comes_after_its_media_data_is_read() {
    let late = Clip {
        moov_at_end: true,
        mdat_len: 3 * 1024 * 1024,
        ..Clip::video().timed(2, 25)
    };
    let message = only_error(&local_video("late.mp4", late).await).to_owned();
    assert!(
        message.contains("shorter than the minimum 3 s"),
        "{message}"
    );
}

#[tokio::test]
async fn a_mov_is_refused_where_only_mp4_is_named_and_accepted_where_no_format_is() {
    let mov = Clip {
        brand: Some(b"qt  "),
        ..Clip::video()
    };
    let path = temp_file("clip.mov", &mov.bytes());
    let only_mp4 = VideoConstraints {
        formats: vec!["mp4".into()],
        ..video_constraints()
    };
    let findings = check_local_video(&path, &only_mp4).await;
    let message = only_error(&findings);
    assert!(
        message.contains("the video is MOV, but only mp4 are accepted"),
        "{message}"
    );
    let open = VideoConstraints {
        formats: Vec::new(),
        ..video_constraints()
    };
    assert!(check_local_video(&path, &open).await.is_empty());
    assert!(
        check_local_video(&path, &video_constraints())
            .await
            .is_empty()
    );
    cleanup(&path);
}

#[tokio::test]
async fn an_unrecognised_local_file_is_an_error_when_formats_are_named_and_a_warning_otherwise() {
    let path = temp_file("notes.mp4", b"just some text, not a video at all");
    let findings = check_local_video(&path, &video_constraints()).await;
    let message = only_error(&findings);
    assert!(
        message.contains("not a video format pre-flight recognises (mp4, mov)"),
        "{message}"
    );
    let open = VideoConstraints {
        formats: Vec::new(),
        ..video_constraints()
    };
    let findings = check_local_video(&path, &open).await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Warning);
    cleanup(&path);
}

#[tokio::test]
async fn a_video_without_a_moov_box_is_a_warning_that_names_it() {
    let mut bytes = fixtures::boxed(b"ftyp", b"isom\0\0\0\0isom");
    bytes.extend(fixtures::boxed(b"mdat", &[0; 2000]));
    let path = temp_file("unfinished.mp4", &bytes);
    let findings = check_local_video(&path, &video_constraints()).await;
    cleanup(&path);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(
        findings[0].message.contains("no moov box"),
        "{}",
        findings[0].message
    );
}

#[tokio::test]
async fn a_missing_local_video_or_a_directory_is_an_error() {
    let findings = check_local_video(
        &std::env::temp_dir().join("vidspec-no-such-video.mp4"),
        &video_constraints(),
    )
    .await;
    assert_eq!(findings[0].severity, Severity::Error);
    let findings = check_local_video(&std::env::temp_dir(), &video_constraints()).await;
    assert_eq!(findings[0].severity, Severity::Error);
    assert!(
        findings[0].message.contains("cannot read"),
        "{}",
        findings[0].message
    );
}

// ---- local audio ----

async fn local_audio(label: &str, bytes: &[u8]) -> Vec<Finding> {
    let path = temp_file(label, bytes);
    let findings = check_local_audio(&path, &audio_constraints()).await;
    cleanup(&path);
    findings
}

#[tokio::test]
async fn a_wav_duration_comes_from_its_header() {
    assert!(
        local_audio("short.wav", &fixtures::wav(10))
            .await
            .is_empty()
    );
    let findings = local_audio("long.wav", &fixtures::wav(31)).await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Error);
    assert!(
        findings[0]
            .message
            .contains("lasts 31.00 s, longer than the maximum 30 s")
    );
}

#[tokio::test]
async fn flac_and_m4a_durations_are_read_too() {
    assert!(local_audio("ok.flac", &fixtures::flac(12)).await.is_empty());
    let findings = local_audio("long.flac", &fixtures::flac(45)).await;
    assert!(
        findings[0].message.contains("lasts 45.00 s"),
        "{findings:#?}"
    );
    assert!(
        local_audio("ok.m4a", &Clip::audio(20).bytes())
            .await
            .is_empty()
    );
    let findings = local_audio("long.m4a", &Clip::audio(40).bytes()).await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(
        findings[0].message.contains("longer than the maximum 30 s"),
        "{findings:#?}"
    );
}

#[tokio::test]
async fn an_mp3_duration_is_not_read_so_a_duration_bound_is_a_warning() {
    let findings = local_audio("song.mp3", &fixtures::mp3_with_tag()).await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(
        findings[0]
            .message
            .contains("reads a duration only from wav, flac, m4a"),
        "{}",
        findings[0].message
    );
}

// ---- URLs on a loopback server ----

/// What the loopback server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    range: Option<String>,
    authorization: bool,
    bytes_sent: usize,
}

#[derive(Clone)]
struct Served {
    file: Arc<Vec<u8>>,
    honours_range: bool,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn serve(State(served): State<Served>, headers: HeaderMap) -> impl IntoResponse {
    let range = headers
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let total = served.file.len();
    let wanted = range
        .as_deref()
        .filter(|_| served.honours_range)
        .and_then(|text| text.strip_prefix("bytes="))
        .and_then(|text| text.split_once('-'))
        .and_then(|(start, end)| Some((start.parse::<usize>().ok()?, end.parse::<usize>().ok()?)));
    let (status, body, content_range) = match wanted {
        Some((start, _)) if start >= total => (
            StatusCode::RANGE_NOT_SATISFIABLE,
            Vec::new(),
            format!("bytes */{total}"),
        ),
        Some((start, end)) => {
            let end = end.min(total - 1);
            (
                StatusCode::PARTIAL_CONTENT,
                served.file[start..=end].to_vec(),
                format!("bytes {start}-{end}/{total}"),
            )
        }
        None => (StatusCode::OK, served.file.to_vec(), String::new()),
    };
    served.seen.lock().expect("lock").push(Seen {
        range,
        authorization: headers.contains_key(header::AUTHORIZATION),
        bytes_sent: body.len(),
    });
    let mut answer = (status, body).into_response();
    if !content_range.is_empty() {
        answer.headers_mut().insert(
            header::CONTENT_RANGE,
            content_range.parse().expect("a header value"),
        );
    }
    answer
}

/// Serves `file` at `http://127.0.0.1:PORT/clip` until the test ends.
async fn server(file: Vec<u8>, honours_range: bool) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let served = Served {
        file: Arc::new(file),
        honours_range,
        seen: Arc::clone(&seen),
    };
    let app = axum::Router::new()
        .route("/clip", axum::routing::get(serve))
        .with_state(served);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/clip"), seen)
}

fn client() -> Client {
    Client::new(
        ApiKey::new("sk-media-secret"),
        ClientOptions {
            base_url: "http://127.0.0.1:9".into(),
            requests_per_second: 0.0,
            timeout: Duration::from_secs(10),
            poll_backoff: Backoff::fast(),
            submit_backoff: Backoff::fast(),
            ..ClientOptions::default()
        },
    )
    .expect("client")
}

fn no_model(_: &str) -> Option<String> {
    None
}

async fn preflight_video(url: &str) -> Vec<Finding> {
    let plan = plan(json!({"model": "media-1", "prompt": "p", "video_url": url}));
    client().preflight(&plan, no_model).await
}

fn late_clip(seconds: u32, mdat_len: usize) -> Vec<u8> {
    Clip {
        moov_at_end: true,
        mdat_len,
        ..Clip::video().timed(seconds, 25)
    }
    .bytes()
}

#[tokio::test]
async fn a_moov_at_the_end_of_a_large_remote_video_is_fetched_alone_with_ranged_reads() {
    let file = late_clip(2, 8 * 1024 * 1024);
    let (url, seen) = server(file, true).await;
    let findings = preflight_video(&url).await;
    let message = only_error(&findings);
    assert!(
        message.contains("lasts 2.00 s, shorter than the minimum 3 s"),
        "{message}"
    );
    assert_eq!(findings[0].path, "/video_url");
    let seen = seen.lock().expect("lock").clone();
    // the head, the header after mdat, the moov
    assert!(seen.len() <= 4, "{seen:#?}");
    assert!(
        seen.iter().all(|request| request.range.is_some()),
        "{seen:#?}"
    );
    assert!(
        seen.iter().all(|request| !request.authorization),
        "{seen:#?}"
    );
    let sent: usize = seen.iter().map(|request| request.bytes_sent).sum();
    assert!(sent < 128 * 1024, "{sent} bytes of an 8 MiB file were read");
}

#[tokio::test]
async fn a_remote_video_that_fits_passes_and_its_size_comes_from_content_range() {
    let (url, _) = server(Clip::video().bytes(), true).await;
    assert!(preflight_video(&url).await.is_empty());
    let big = Clip {
        mdat_len: 0,
        ..Clip::video()
    };
    let (url, _) = server(big.bytes(), true).await;
    let plan = plan(json!({"model": "media-1", "prompt": "p", "video_url": url}));
    let mut findings = client().preflight(&plan, no_model).await;
    assert!(findings.is_empty(), "{findings:#?}");
    // a cap of 100 bytes is broken by the size Content-Range gives
    let small_cap = VideoConstraints {
        max_bytes: Some(100),
        ..video_constraints()
    };
    let path = temp_file("capped.mp4", &big.bytes());
    findings = check_local_video(&path, &small_cap).await;
    cleanup(&path);
    assert!(only_error(&findings).contains("larger than the maximum 100 bytes"));
}

#[tokio::test]
async fn a_server_that_ignores_range_is_streamed_and_only_the_moov_kept() {
    let file = late_clip(2, 4 * 1024 * 1024);
    let (url, seen) = server(file, false).await;
    let findings = preflight_video(&url).await;
    let message = only_error(&findings);
    assert!(
        message.contains("shorter than the minimum 3 s"),
        "{message}"
    );
    assert_eq!(seen.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn a_moov_beyond_the_streaming_cap_of_a_server_ignoring_range_is_a_warning() {
    let file = late_clip(2, 17 * 1024 * 1024);
    let (url, _) = server(file, false).await;
    let findings = preflight_video(&url).await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(
        findings[0].message.contains("ignores ranged reads"),
        "{}",
        findings[0].message
    );
    assert!(!findings[0].message.contains("sk-media-secret"));
}

#[tokio::test]
async fn a_remote_wav_and_a_video_are_both_checked_by_one_preflight() {
    let (video, _) = server(Clip::video().bytes(), true).await;
    let (audio, _) = server(fixtures::wav(31), true).await;
    let plan =
        plan(json!({"model": "media-1", "prompt": "p", "video_url": video, "audio_url": audio}));
    let findings = client().preflight(&plan, no_model).await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].path, "/audio_url");
    assert_eq!(findings[0].rule.as_deref(), Some("D3"));
    assert!(
        findings[0].message.contains("lasts 31.00 s"),
        "{}",
        findings[0].message
    );
}

#[tokio::test]
async fn an_unreachable_video_is_a_warning_never_a_silent_pass() {
    let findings = preflight_video("http://127.0.0.1:9/gone.mp4?sig=secret").await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(findings[0].message.contains("could not check the video"));
    assert!(
        !findings[0].message.contains("secret"),
        "{}",
        findings[0].message
    );
}

// ---- images: formats are open data ----

/// A top-down BMP of 640×480 (BITMAPINFOHEADER, negative height).
fn bmp() -> Vec<u8> {
    let mut bmp = b"BM".to_vec();
    bmp.extend([0; 12]);
    bmp.extend(40u32.to_le_bytes());
    bmp.extend(640i32.to_le_bytes());
    bmp.extend((-480i32).to_le_bytes());
    bmp.extend([0; 28]);
    bmp
}

fn image_constraints(formats: &[&str]) -> ImageConstraints {
    ImageConstraints {
        formats: formats.iter().map(|name| (*name).to_owned()).collect(),
        min_width: Some(64),
        min_height: Some(64),
        min_aspect: None,
        max_aspect: None,
        max_bytes: None,
        rule: Some("D4".into()),
    }
}

#[tokio::test]
async fn a_local_bmp_passes_preflight_when_the_spec_names_no_formats() {
    let path = temp_file("open.bmp", &bmp());
    let findings = check_local_image(&path, &image_constraints(&[])).await;
    cleanup(&path);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[tokio::test]
async fn a_local_bmp_matches_formats_bmp_and_is_refused_by_formats_png() {
    let path = temp_file("named.bmp", &bmp());
    assert!(
        check_local_image(&path, &image_constraints(&["bmp"]))
            .await
            .is_empty()
    );
    let findings = check_local_image(&path, &image_constraints(&["png"])).await;
    cleanup(&path);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(
        findings[0]
            .message
            .contains("the image is a BMP, but only png are accepted")
    );
}

#[tokio::test]
async fn a_local_file_of_no_known_image_format_is_only_a_warning_when_no_formats_are_named() {
    let path = temp_file(
        "drawing.svg",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    );
    let findings = check_local_image(&path, &image_constraints(&[])).await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Warning);
    let findings = check_local_image(&path, &image_constraints(&["png"])).await;
    cleanup(&path);
    assert_eq!(findings[0].severity, Severity::Error);
}

#[tokio::test]
async fn remote_images_of_any_format_pass_when_the_spec_names_none() {
    let (url, _) = server(bmp(), true).await;
    let plan = plan(json!({"model": "media-1", "prompt": "p", "image_urls": [url]}));
    let findings = client().preflight(&plan, no_model).await;
    assert!(findings.is_empty(), "{findings:#?}");
}

// ---- hostile bytes ----

#[test]
fn damaged_headers_are_errors_or_readings_never_panics() {
    let mut rng = fastrand::Rng::with_seed(0x9E37_79B9_7F4A_7C15);
    let clip = Clip::video().bytes();
    let moov_at = clip
        .windows(4)
        .position(|window| window == b"moov")
        .expect("a moov")
        - 4;
    let moov = &clip[moov_at..clip.len() - 1008];
    let samples = [moov.to_vec(), fixtures::wav(1), fixtures::flac(3)];
    for round in 0..20_000 {
        let mut bytes = samples[round % samples.len()].clone();
        for _ in 0..rng.usize(1..=4) {
            let at = rng.usize(..bytes.len());
            bytes[at] = rng.u8(..);
        }
        if rng.u8(..3) == 0 {
            let keep = rng.usize(..bytes.len());
            bytes.truncate(keep);
        }
        let _ = vidspec_transport::read_movie(&bytes, "mp4");
        let _ = vidspec_transport::box_header(&bytes, "mp4");
        let _ = vidspec_transport::wav_seconds(&bytes);
        let _ = vidspec_transport::flac_seconds(&bytes);
        let _ = sniff_video(&bytes);
        let _ = sniff_audio(&bytes);
    }
}

// ---- unrecognised remote files ----

/// The first bytes of a WebM (Matroska) file: no format pre-flight recognises.
fn webm() -> Vec<u8> {
    let mut bytes = vec![0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81];
    bytes.extend([0; 256]);
    bytes
}

#[tokio::test]
async fn a_remote_video_in_no_recognised_format_is_an_error_when_the_spec_names_formats() {
    // media-1's video_url names [mp4, mov]; lint admits only names pre-flight
    // recognises, so a file it does not recognise is none of them.
    let (url, _) = server(webm(), true).await;
    let findings = preflight_video(&url).await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Error, "{findings:#?}");
    assert!(
        findings[0]
            .message
            .contains("not a video format pre-flight recognises"),
        "{findings:#?}"
    );
}

#[tokio::test]
async fn a_remote_image_in_no_recognised_format_is_an_error_when_the_spec_names_formats() {
    // viduq3's image_urls name [png, jpeg, webp].
    let (url, _) = server(
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
        true,
    )
    .await;
    let plan = vidspec_core::Registry::embedded()
        .model("viduq3")
        .expect("viduq3")
        .prepare(json!({"model": "viduq3", "prompt": "p", "image_urls": [url]}))
        .expect("a valid request");
    let findings = client().preflight(&plan, no_model).await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Error, "{findings:#?}");
    assert!(findings[0].message.contains("not a PNG"), "{findings:#?}");
}
