//! Downloads stay inside their folder and within their caps, whatever is
//! planted in the folder and whatever the gateway lists: symbolic links at the
//! temporary or the final name, directories and FIFOs at the final name, a
//! thousand URLs, lying lengths, redirects, URLs that are not http(s).
//!
//! Every server is on 127.0.0.1; every file outside the download folder that
//! a test plants is checked byte for byte afterwards.

#![cfg(unix)]

mod loopback;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use loopback::{Step, head, mp4, ok, serve};
use vidspec_transport::{
    ApiKey, Client, ClientOptions, DEFAULT_MAX_VIDEOS, DownloadLimit, DownloadOptions, Downloaded,
    Error, Occupant, Outcome, Status, TaskSnapshot, Video,
};

const OUTSIDE_TEXT: &[u8] = b"precious file outside the download folder\n";

fn client(base: &str) -> Client {
    Client::new(
        ApiKey::new("sk-download-safety"),
        ClientOptions {
            base_url: base.to_owned(),
            requests_per_second: 0.0,
            ..ClientOptions::default()
        },
    )
    .expect("client")
}

fn outcome(task_id: &str, urls: &[String]) -> Outcome {
    Outcome {
        task_id: task_id.into(),
        model: "m".into(),
        snapshot: TaskSnapshot {
            id: task_id.into(),
            status: Status::Succeeded,
            raw_status: "completed".into(),
            progress: Some(100),
            cost: None,
            estimated_time_s: None,
            actual_time_s: None,
            videos: urls
                .iter()
                .map(|url| Video {
                    url: url.clone(),
                    expires_at: None,
                })
                .collect(),
            error: None,
            request_id: None,
            extras: Default::default(),
        },
    }
}

/// A fresh folder holding `downloads/` (the target) and `outside.txt`.
struct Playground {
    root: PathBuf,
}

impl Playground {
    fn new(label: &str) -> Playground {
        let root = std::env::temp_dir().join(format!(
            "vidspec-download-safety-{}-{label}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("downloads")).expect("dirs");
        std::fs::write(root.join("outside.txt"), OUTSIDE_TEXT).expect("outside file");
        Playground { root }
    }

    fn downloads(&self) -> PathBuf {
        self.root.join("downloads")
    }

    fn outside(&self) -> PathBuf {
        self.root.join("outside.txt")
    }

    fn assert_outside_untouched(&self) {
        assert_eq!(
            std::fs::read(self.outside()).expect("the outside file still exists"),
            OUTSIDE_TEXT,
            "the file outside the download folder was overwritten"
        );
    }

    /// Names in the download folder, sorted.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.downloads())
            .expect("downloads")
            .filter_map(Result::ok)
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Playground {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

async fn video_server() -> loopback::Server {
    serve(|_, _| ok("video/mp4", &mp4(64))).await
}

/// Downloads task_1's one video, `/v.mp4` on `server`, into `place`.
async fn download_one(
    server: &loopback::Server,
    place: &Playground,
    overwrite: bool,
) -> Result<Vec<Downloaded>, Error> {
    client(&server.base)
        .download(
            &outcome("task_1", &[format!("{}/v.mp4", server.base)]),
            &place.downloads(),
            &download_options(overwrite),
        )
        .await
}

fn download_options(overwrite: bool) -> DownloadOptions {
    DownloadOptions {
        overwrite,
        ..DownloadOptions::default()
    }
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink())
}

#[tokio::test]
async fn a_symlink_planted_at_the_old_temporary_name_is_not_followed() {
    let place = Playground::new("temp-link");
    symlink(
        place.outside(),
        place.downloads().join(".task_1-0.mp4.part"),
    )
    .expect("plant");
    let server = video_server().await;
    let files = download_one(&server, &place, false)
        .await
        .expect("the download goes to a fresh temporary file");
    place.assert_outside_untouched();
    assert_eq!(std::fs::read(&files[0].path).expect("video"), mp4(64));
    assert!(!is_symlink(&files[0].path));
}

#[tokio::test]
async fn a_symlink_planted_at_the_final_name_is_refused_and_its_target_untouched() {
    for overwrite in [false, true] {
        let place = Playground::new(&format!("final-link-{overwrite}"));
        let final_name = place.downloads().join("task_1-0.mp4");
        symlink(place.outside(), &final_name).expect("plant");
        let server = video_server().await;
        let result = client(&server.base)
            .download(
                &outcome("task_1", &[format!("{}/v.mp4", server.base)]),
                &place.downloads(),
                &download_options(overwrite),
            )
            .await;
        match &result {
            Err(Error::TargetTaken { found, .. }) => {
                assert_eq!(*found, Occupant::SymbolicLink)
            }
            other => panic!("--force={overwrite}: {other:?}"),
        }
        place.assert_outside_untouched();
        assert!(
            is_symlink(&final_name),
            "the planted link is left as it was"
        );
        assert_eq!(place.names(), ["task_1-0.mp4"], "no temporary file left");
    }
}

#[tokio::test]
async fn a_dangling_symlink_at_the_final_name_creates_nothing_where_it_points() {
    let place = Playground::new("dangling");
    let target = place.root.join("created-through-the-link.mp4");
    symlink(&target, place.downloads().join("task_1-0.mp4")).expect("plant");
    let server = video_server().await;
    let result = download_one(&server, &place, true).await;
    assert!(
        matches!(
            result,
            Err(Error::TargetTaken {
                found: Occupant::SymbolicLink,
                ..
            })
        ),
        "{result:?}"
    );
    assert!(!target.exists(), "a file was created through the link");
}

#[tokio::test]
async fn a_directory_at_the_final_name_is_refused_even_with_force() {
    let place = Playground::new("final-dir");
    std::fs::create_dir(place.downloads().join("task_1-0.mp4")).expect("plant");
    let server = video_server().await;
    let result = download_one(&server, &place, true).await;
    match &result {
        Err(error @ Error::TargetTaken { found, .. }) => {
            assert_eq!(*found, Occupant::Directory);
            assert!(error.to_string().contains("directory"), "{error}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.request_count(), 0, "refused before downloading");
}

#[tokio::test]
async fn a_fifo_at_the_final_name_is_refused_without_opening_it() {
    let place = Playground::new("final-fifo");
    let fifo = place.downloads().join("task_1-0.mp4");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let server = video_server().await;
    let result = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        client(&server.base).download(
            &outcome("task_1", &[format!("{}/v.mp4", server.base)]),
            &place.downloads(),
            &download_options(true),
        ),
    )
    .await
    .expect("a FIFO is never opened, so nothing blocks");
    match &result {
        Err(error @ Error::TargetTaken { found, .. }) => {
            assert_eq!(*found, Occupant::NotARegularFile);
            assert!(error.to_string().contains("not a regular file"), "{error}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn force_replaces_an_existing_regular_file_with_the_new_video() {
    let place = Playground::new("force");
    std::fs::write(place.downloads().join("task_1-0.mp4"), b"old").expect("old file");
    let server = video_server().await;
    let files = download_one(&server, &place, true).await.expect("replaced");
    assert_eq!(std::fs::read(&files[0].path).expect("video"), mp4(64));
    assert_eq!(place.names(), ["task_1-0.mp4"]);
}

#[tokio::test]
async fn without_force_an_existing_file_is_kept_and_named_in_the_error() {
    let place = Playground::new("no-force");
    std::fs::write(place.downloads().join("task_1-0.mp4"), b"old").expect("old file");
    let server = video_server().await;
    let result = download_one(&server, &place, false).await;
    match &result {
        Err(error @ Error::TargetTaken { path, found }) => {
            assert!(path.ends_with("task_1-0.mp4"), "{}", path.display());
            assert_eq!(*found, Occupant::ExistingFile);
            assert!(error.to_string().contains("task_1-0.mp4"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        std::fs::read(place.downloads().join("task_1-0.mp4")).expect("old"),
        b"old"
    );
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn a_gateway_listing_a_thousand_videos_is_refused_at_the_cap_before_any_download() {
    let place = Playground::new("many");
    let server = video_server().await;
    let urls: Vec<String> = (0..1000)
        .map(|index| format!("{}/v{index}.mp4", server.base))
        .collect();
    let result = client(&server.base)
        .download(
            &outcome("task_1", &urls),
            &place.downloads(),
            &download_options(false),
        )
        .await;
    match &result {
        Err(error @ Error::OverLimit { limit, .. }) => {
            assert_eq!(
                *limit,
                DownloadLimit::Videos {
                    listed: 1000,
                    cap: DEFAULT_MAX_VIDEOS
                }
            );
            let message = error.to_string();
            assert!(message.contains("1000 videos"), "{message}");
            assert!(
                message.contains(&format!("cap of {DEFAULT_MAX_VIDEOS}")),
                "{message}"
            );
        }
        Err(other) => panic!("{other}"),
        Ok(files) => panic!("{} files downloaded", files.len()),
    }
    assert_eq!(server.request_count(), 0);
    assert!(place.names().is_empty(), "{:?}", place.names());
}

#[tokio::test]
async fn the_bytes_taken_from_one_task_are_capped_across_its_videos() {
    let place = Playground::new("total");
    let server = serve(|_, _| ok("video/mp4", &mp4(1000))).await;
    let urls: Vec<String> = (0..3)
        .map(|index| format!("{}/v{index}.mp4", server.base))
        .collect();
    let options = DownloadOptions {
        max_total_bytes: 2500,
        ..DownloadOptions::default()
    };
    let result = client(&server.base)
        .download(&outcome("task_1", &urls), &place.downloads(), &options)
        .await;
    match &result {
        Err(error @ Error::OverLimit { limit, .. }) => {
            assert_eq!(*limit, DownloadLimit::BytesPerTask { cap: 2500 });
            assert!(error.to_string().contains("2500"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        place.names().iter().all(|name| !name.ends_with(".part")),
        "{:?}",
        place.names()
    );
    assert!(!place.names().contains(&"task_1-2.mp4".to_owned()));
}

#[tokio::test]
async fn a_content_length_above_the_cap_is_refused_before_the_body_is_read() {
    let place = Playground::new("length-cap");
    let server = serve(|_, _| {
        vec![
            head("200 OK", &[("Content-Length", (10u64 << 40).to_string())]),
            Step::Send(mp4(64)),
        ]
    })
    .await;
    let result = download_one(&server, &place, false).await;
    match &result {
        Err(error @ Error::OverLimit { .. }) => {
            assert!(error.to_string().contains("cap"), "{error}")
        }
        other => panic!("{other:?}"),
    }
    assert!(place.names().is_empty(), "{:?}", place.names());
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_fails_and_leaves_no_file() {
    let place = Playground::new("short");
    let server = serve(|_, _| {
        vec![
            head("200 OK", &[("Content-Length", "1000".into())]),
            Step::Send(mp4(64)),
        ]
    })
    .await;
    let result = download_one(&server, &place, false).await;
    assert!(matches!(result, Err(Error::Download { .. })), "{result:?}");
    assert!(place.names().is_empty(), "{:?}", place.names());
}

#[tokio::test]
async fn urls_that_are_not_http_are_refused_before_anything_is_written() {
    let place = Playground::new("schemes");
    for url in [
        "file:///etc/passwd",
        "ftp://127.0.0.1/v.mp4",
        "javascript:alert(1)",
        "  http://127.0.0.1/v.mp4",
        "",
    ] {
        let result = client("http://127.0.0.1:9")
            .download(
                &outcome("task_1", &[url.to_owned()]),
                &place.downloads(),
                &download_options(false),
            )
            .await;
        match &result {
            Err(Error::Download { problem, .. }) => {
                assert!(problem.contains("http"), "{url}: {problem}")
            }
            other => panic!("{url}: {other:?}"),
        }
    }
    assert!(place.names().is_empty(), "{:?}", place.names());
}

#[tokio::test]
async fn a_redirect_to_a_file_url_is_not_followed() {
    let place = Playground::new("redirect-file");
    let server = serve(|_, _| {
        vec![head(
            "302 Found",
            &[
                ("Location", "file:///etc/passwd".into()),
                ("Content-Length", "0".into()),
            ],
        )]
    })
    .await;
    let result = download_one(&server, &place, false).await;
    assert!(matches!(result, Err(Error::Download { .. })), "{result:?}");
    assert!(place.names().is_empty(), "{:?}", place.names());
}

#[tokio::test]
async fn a_task_id_that_climbs_directories_names_a_file_inside_the_folder() {
    let place = Playground::new("climb");
    let server = video_server().await;
    let files = client(&server.base)
        .download(
            &outcome("../outside", &[format!("{}/v.mp4", server.base)]),
            &place.downloads(),
            &download_options(true),
        )
        .await
        .expect("download");
    assert_eq!(files[0].path.parent(), Some(place.downloads().as_path()));
    place.assert_outside_untouched();
}

#[tokio::test]
async fn a_download_folder_that_is_a_file_is_a_clear_error() {
    let place = Playground::new("dir-is-file");
    let server = video_server().await;
    let result = client(&server.base)
        .download(
            &outcome("task_1", &[format!("{}/v.mp4", server.base)]),
            &place.outside(),
            &download_options(true),
        )
        .await;
    assert!(matches!(result, Err(Error::Io { .. })), "{result:?}");
    place.assert_outside_untouched();
    assert_eq!(server.request_count(), 0);
}

#[test]
fn a_video_list_holding_non_strings_yields_only_the_string_urls() {
    let registry = vidspec_core::Registry::embedded();
    let model = registry.model("Omni-Flash-Ext").expect("model");
    let body = serde_json::json!({"code": 200, "data": {"status": "completed", "result": {"videos": [
        {"url": ["https://cdn.example/a.mp4", 5, null, {"x": 1}, ["nested"], true]},
        {"url": 42},
        {"url": {"href": "https://cdn.example/b.mp4"}},
        "not an object",
        null,
    ]}}});
    let read = vidspec_transport::snapshot(model.task(), "task_1", &body, None);
    let urls: Vec<&str> = read.videos.iter().map(|video| video.url.as_str()).collect();
    assert_eq!(urls, ["https://cdn.example/a.mp4"]);
}
