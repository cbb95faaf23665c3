//! Downloads into any `AsyncWrite` and uploads from bytes in memory: the same
//! caps, checks and key rules as the folder and path versions. Loopback only.

mod loopback;

use std::time::Duration;

use loopback::{mp4, ok, serve};
use vidspec_sim::{Sim, SimConfig};
use vidspec_transport::{
    ApiKey, Backoff, Client, ClientOptions, DownloadLimit, DownloadOptions, Error, LocalImageError,
    MAX_UPLOAD_BYTES, Video,
};

fn client(base: &str, configure: impl FnOnce(&mut ClientOptions)) -> Client {
    client_with_key("sk-writer-secret", base, configure)
}

fn client_with_key(key: &str, base: &str, configure: impl FnOnce(&mut ClientOptions)) -> Client {
    let mut options = ClientOptions {
        base_url: base.to_owned(),
        requests_per_second: 0.0,
        timeout: Duration::from_secs(10),
        poll_backoff: Backoff::fast(),
        submit_backoff: Backoff::fast(),
        ..ClientOptions::default()
    };
    configure(&mut options);
    Client::new(ApiKey::new(key), options).expect("client")
}

fn video(url: String) -> Video {
    Video {
        url,
        expires_at: None,
    }
}

async fn sim() -> Sim {
    Sim::start(
        "127.0.0.1:0".parse().expect("loopback"),
        SimConfig::default(),
    )
    .await
    .expect("the simulator starts")
}

/// A PNG header of 4×4 pixels (all the upload endpoint sniffs).
fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&13u32.to_be_bytes());
    bytes.extend_from_slice(b"IHDR");
    bytes.extend_from_slice(&4u32.to_be_bytes());
    bytes.extend_from_slice(&4u32.to_be_bytes());
    bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

#[tokio::test]
async fn a_video_downloads_into_a_vec_without_the_key() {
    let body = mp4(4096);
    let expected = body.clone();
    let host = serve(move |_, _| ok("video/mp4", &body)).await;
    let client = client("http://127.0.0.1:9", |_| {});
    let mut buffer: Vec<u8> = Vec::new();
    let written = client
        .download_to(
            &video(format!("{}/v.mp4?token=signed", host.base)),
            &mut buffer,
            &DownloadOptions::default(),
        )
        .await
        .expect("downloaded");
    assert_eq!(written, 4096);
    assert_eq!(buffer, expected);
    let seen = host.requests.lock().expect("log").join("\n");
    assert!(
        !seen.to_ascii_lowercase().contains("authorization"),
        "{seen}"
    );
}

#[tokio::test]
async fn a_video_over_the_per_video_cap_is_refused_when_written_to_a_writer() {
    let body = mp4(4096);
    let host = serve(move |_, _| ok("video/mp4", &body)).await;
    let client = client("http://127.0.0.1:9", |options| {
        options.max_download_bytes = 1000;
    });
    let mut buffer: Vec<u8> = Vec::new();
    let refused = client
        .download_to(
            &video(format!("{}/v.mp4", host.base)),
            &mut buffer,
            &DownloadOptions::default(),
        )
        .await;
    assert!(
        matches!(
            &refused,
            Err(Error::OverLimit {
                limit: DownloadLimit::BytesPerVideo { .. },
                ..
            })
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_video_over_the_total_cap_is_refused_when_written_to_a_writer() {
    let body = mp4(4096);
    let host = serve(move |_, _| ok("video/mp4", &body)).await;
    let client = client("http://127.0.0.1:9", |_| {});
    let options = DownloadOptions {
        max_total_bytes: 100,
        ..DownloadOptions::default()
    };
    let mut buffer: Vec<u8> = Vec::new();
    let refused = client
        .download_to(
            &video(format!("{}/v.mp4", host.base)),
            &mut buffer,
            &options,
        )
        .await;
    assert!(
        matches!(
            &refused,
            Err(Error::OverLimit {
                limit: DownloadLimit::BytesPerTask { .. },
                ..
            })
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_stalled_video_ends_on_the_idle_timeout_when_written_to_a_writer() {
    let host = serve(|_, _| {
        vec![
            loopback::head(
                "200 OK",
                &[
                    ("Content-Type", "video/mp4".into()),
                    ("Content-Length", "100".into()),
                ],
            ),
            loopback::Step::Pause(Duration::from_secs(30)),
        ]
    })
    .await;
    let client = client("http://127.0.0.1:9", |_| {});
    let options = DownloadOptions {
        idle_timeout: Duration::from_millis(300),
        ..DownloadOptions::default()
    };
    let mut buffer: Vec<u8> = Vec::new();
    let refused = tokio::time::timeout(
        Duration::from_secs(20),
        client.download_to(
            &video(format!("{}/v.mp4", host.base)),
            &mut buffer,
            &options,
        ),
    )
    .await
    .expect("bounded by the idle timeout");
    assert!(
        matches!(&refused, Err(Error::Download { problem, .. }) if problem.contains("no bytes arrived")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_url_that_is_not_http_is_refused_before_anything_is_written() {
    let client = client("http://127.0.0.1:9", |_| {});
    let mut buffer: Vec<u8> = Vec::new();
    let refused = client
        .download_to(
            &video("file:///etc/passwd".into()),
            &mut buffer,
            &DownloadOptions::default(),
        )
        .await;
    assert!(
        matches!(refused, Err(Error::Download { .. })),
        "{refused:?}"
    );
    assert!(buffer.is_empty());
}

#[tokio::test]
async fn an_image_in_memory_uploads_and_comes_back_as_a_url() {
    let sim = sim().await;
    let client = client_with_key("sim-key", &sim.base_url(), |_| {});
    let upload = client
        .upload_image_bytes(png(), "frame.png")
        .await
        .expect("uploaded");
    assert!(upload.url.starts_with("http"), "{upload:?}");
    assert_eq!(sim.stats().uploads, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn bytes_that_are_no_image_the_endpoint_takes_are_refused_before_sending() {
    let sim = sim().await;
    let client = client_with_key("sim-key", &sim.base_url(), |_| {});
    let refused = client
        .upload_image_bytes(b"%PDF-1.7 not an image".to_vec(), "doc.pdf")
        .await;
    assert!(
        matches!(&refused, Err(Error::Io { path, problem, .. }) if path.as_os_str() == "doc.pdf" && problem.contains("not a JPEG, PNG, WebP or GIF")),
        "{refused:?}"
    );
    assert_eq!(sim.stats().uploads, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn bytes_over_the_upload_limit_are_refused_before_sending() {
    let sim = sim().await;
    let client = client_with_key("sim-key", &sim.base_url(), |_| {});
    let mut large = png();
    large.resize(usize::try_from(MAX_UPLOAD_BYTES + 1).expect("fits"), 0);
    let refused = client.upload_image_bytes(large, "large.png").await;
    assert!(
        matches!(&refused, Err(Error::LocalImage { path, source: LocalImageError::TooLarge }) if path.as_os_str() == "large.png"),
        "{refused:?}"
    );
    assert_eq!(sim.stats().uploads, 0);
    sim.shutdown().await;
}
