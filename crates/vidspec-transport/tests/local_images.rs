//! Local image files that are not what an upload should read: a FIFO, an
//! endless device, a directory, a file over the gateway's 20 MiB upload
//! limit. The pre-flight and the upload refuse each before reading it, and
//! nothing reaches the simulated gateway (loopback only). This file owns
//! those cases; pixel and format checks live in `preflight.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use vidspec_core::spec::ImageConstraints;
use vidspec_sim::{Sim, SimConfig};
use vidspec_transport::{
    ApiKey, Backoff, Client, ClientOptions, Error, MAX_UPLOAD_BYTES, Severity, check_local_image,
    read_local_image,
};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "vidspec-local-images-{}-{label}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A PNG header of 512×512 pixels.
fn png_header() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&13u32.to_be_bytes());
    bytes.extend_from_slice(b"IHDR");
    bytes.extend_from_slice(&512u32.to_be_bytes());
    bytes.extend_from_slice(&512u32.to_be_bytes());
    bytes.extend_from_slice(&[8, 6, 0, 0, 0]);
    bytes.extend_from_slice(&[0, 0, 0, 0]);
    bytes
}

/// A PNG of `len` bytes: a real header, then a hole (a sparse file takes no
/// disk space).
fn sparse_png(dir: &Path, len: u64) -> PathBuf {
    let path = dir.join("large.png");
    std::fs::write(&path, png_header()).expect("writes");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|file| file.set_len(len))
        .expect("extends");
    path
}

fn fifo(dir: &Path) -> PathBuf {
    let path = dir.join("planted.png");
    let made = Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo runs (coreutils)");
    assert!(made.success());
    path
}

fn constraints() -> ImageConstraints {
    serde_json::from_value(serde_json::json!({"formats": ["png"]})).expect("image constraints")
}

/// Opens `path` for writing from a thread of its own: releases a reader
/// stuck opening the FIFO `path`, so a hang fails its test instead of
/// stalling the runtime's shutdown.
fn release_fifo_reader(path: &Path) {
    let path = path.to_owned();
    std::thread::spawn(move || std::fs::OpenOptions::new().write(true).open(path));
}

async fn only_error(path: &Path) -> String {
    let Ok(findings) = tokio::time::timeout(
        Duration::from_secs(60),
        check_local_image(path, &constraints()),
    )
    .await
    else {
        release_fifo_reader(path);
        panic!("the pre-flight of {} hung", path.display());
    };
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Error);
    findings[0].message.clone()
}

#[tokio::test]
async fn a_fifo_given_as_an_image_is_refused_at_once_instead_of_hanging() {
    let dir = TempDir::new("fifo");
    let message = only_error(&fifo(&dir.0)).await;
    assert!(
        message.contains("planted.png")
            && message.contains("a FIFO (named pipe), not a regular file"),
        "{message}"
    );
}

#[tokio::test]
async fn dev_zero_given_as_an_image_is_refused_as_a_device() {
    let message = only_error(Path::new("/dev/zero")).await;
    assert!(message.contains("a character device"), "{message}");
}

#[tokio::test]
async fn a_directory_given_as_an_image_is_refused_as_a_directory() {
    let dir = TempDir::new("dir");
    let message = only_error(&dir.0).await;
    assert!(message.contains("a directory"), "{message}");
}

#[tokio::test]
async fn an_image_over_the_upload_limit_is_refused_by_the_preflight() {
    let dir = TempDir::new("large-preflight");
    let message = only_error(&sparse_png(&dir.0, MAX_UPLOAD_BYTES + 1)).await;
    assert!(
        message.contains("larger than the gateway's upload limit of 20971520 bytes"),
        "{message}"
    );
}

#[test]
fn an_image_at_the_upload_limit_is_read_whole() {
    let dir = TempDir::new("at-limit");
    let bytes = read_local_image(&sparse_png(&dir.0, MAX_UPLOAD_BYTES)).expect("reads");
    assert_eq!(bytes.len() as u64, MAX_UPLOAD_BYTES);
}

fn client(sim: &Sim) -> Client {
    Client::new(
        ApiKey::new("sim-key"),
        ClientOptions {
            base_url: sim.base_url(),
            requests_per_second: 0.0,
            timeout: Duration::from_secs(5),
            poll_backoff: Backoff::fast(),
            submit_backoff: Backoff::fast(),
            ..ClientOptions::default()
        },
    )
    .expect("client")
}

#[tokio::test]
async fn an_image_over_the_upload_limit_is_refused_before_it_is_read_or_sent() {
    let sim = Sim::start(
        "127.0.0.1:0".parse().expect("loopback"),
        SimConfig::default(),
    )
    .await
    .expect("the simulator starts");
    let dir = TempDir::new("large-upload");
    let path = sparse_png(&dir.0, MAX_UPLOAD_BYTES + 1);
    let error = client(&sim)
        .upload_image(&path)
        .await
        .expect_err("over the limit");
    assert!(
        matches!(
            error,
            Error::LocalImage {
                source: vidspec_transport::LocalImageError::TooLarge,
                ..
            }
        ),
        "{error:?}"
    );
    let message = vidspec_transport::with_causes(&error);
    assert!(message.contains("upload limit"), "{message}");
    let stats = sim.stats();
    assert_eq!((stats.uploads, stats.rejected), (0, 0), "nothing was sent");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_fifo_given_for_upload_is_refused_before_anything_is_sent() {
    let sim = Sim::start(
        "127.0.0.1:0".parse().expect("loopback"),
        SimConfig::default(),
    )
    .await
    .expect("the simulator starts");
    let dir = TempDir::new("fifo-upload");
    let fifo = fifo(&dir.0);
    let Ok(uploaded) =
        tokio::time::timeout(Duration::from_secs(60), client(&sim).upload_image(&fifo)).await
    else {
        release_fifo_reader(&fifo);
        panic!("the upload of a FIFO hung");
    };
    let error = uploaded.expect_err("a FIFO");
    let message = vidspec_transport::with_causes(&error);
    assert!(message.contains("a FIFO"), "{message}");
    assert_eq!(sim.stats().uploads, 0);
    sim.shutdown().await;
}
