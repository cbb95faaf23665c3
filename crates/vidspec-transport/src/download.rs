//! Downloading result videos, inside their folder and within their caps.
//!
//! Owns downloads and expiry warnings. Each video is streamed into a fresh
//! temporary file created exclusively in the target folder (`tempfile`: a
//! random name opened with `O_EXCL`, never through a planted link), then
//! renamed into place: over an existing regular file only with `overwrite`,
//! never onto or through a symbolic link, directory, FIFO or device. The file
//! name comes from the task id (or a safe name the caller gives, such as a
//! batch's job id), never from the URL. The number of videos and
//! the bytes taken from one task are capped; a transfer ends when no byte
//! arrives for `idle_timeout` (no total timeout: a large video on a slow link
//! finishes as long as it moves). The API key is never sent (result URLs are
//! public and often on another host). It does not poll.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tracing::Instrument;

use crate::client::Client;
use crate::error::{DownloadLimit, Error, Occupant, Operation, shown_url};
use crate::read::Video;
use crate::wait::Outcome;

/// What a failed write to a caller's writer is called in an error.
const WRITER: &str = "(the writer given to download_to)";

/// Warn when a URL expires within this many seconds.
pub const EXPIRY_WARNING_S: i64 = 3600;

/// Videos downloaded from one task at most, unless raised.
pub const DEFAULT_MAX_VIDEOS: usize = 16;

/// Bytes downloaded from one task at most (all its videos together), unless raised.
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// A download fails when no byte arrives for this long.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadOptions {
    /// Replace regular files that already exist (never links, folders or
    /// other special files).
    pub overwrite: bool,
    /// A task listing more videos is refused before anything is downloaded.
    pub max_videos: usize,
    /// Bytes taken from one task at most, all its videos together (each video
    /// is also capped by `ClientOptions::max_download_bytes`).
    pub max_total_bytes: u64,
    /// A transfer fails when no byte arrives for this long (waiting for the
    /// answer's head included).
    pub idle_timeout: Duration,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            overwrite: false,
            max_videos: DEFAULT_MAX_VIDEOS,
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// One downloaded video.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Downloaded {
    /// Where it was written.
    pub path: PathBuf,
    /// Where it came from.
    pub url: String,
    /// Bytes written.
    pub bytes: u64,
    /// A warning about the URL's expiry, if it is near or past.
    pub warning: Option<String>,
}

/// A warning when `expires_at` (Unix seconds) is within the warning window of `now`.
pub fn expiry_warning(expires_at: Option<i64>, now: i64) -> Option<String> {
    let left = expires_at?.saturating_sub(now);
    if left <= 0 {
        Some(format!(
            "the URL expired {} min ago; the download may fail",
            left.unsigned_abs() / 60
        ))
    } else if left < EXPIRY_WARNING_S {
        Some(format!(
            "the URL expires in {} min: download it now",
            left / 60
        ))
    } else {
        None
    }
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `task_01/../x` → `task_01___x`: only letters, digits, `-` and `_` survive.
pub fn safe_name(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || character == '-' || character == '_' {
                character
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if cleaned.is_empty() {
        "task".to_owned()
    } else {
        cleaned
    }
}

/// Whether `text` may be a file name's stem as it is: letters, digits, `-`,
/// `_` and `.`, not starting with `.`, 1 to 100 characters.
fn is_safe_file_stem(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 100
        && !text.starts_with('.')
        && text
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "-_.".contains(character))
}

fn io_error(path: &Path, problem: &str, source: Option<std::io::Error>) -> Error {
    Error::Io {
        operation: Operation::Download,
        path: path.to_owned(),
        problem: problem.to_owned(),
        source,
    }
}

/// Refuses a URL that is not absolute http(s), judged by the URL parser the
/// HTTP client uses.
fn checked_url(url: &str) -> Result<reqwest::Url, Error> {
    let refused = || Error::Download {
        url: shown_url(url),
        problem: "only absolute http:// and https:// URLs are downloaded".to_owned(),
        source: None,
    };
    if url.trim() != url {
        return Err(refused());
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| refused())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(refused());
    }
    Ok(parsed)
}

/// Whether `path` may receive a download: nothing there, or (with
/// `overwrite`) a regular file. Links are looked at, never followed.
async fn check_target(path: &Path, overwrite: bool) -> Result<(), Error> {
    let metadata = match tokio::fs::symlink_metadata(path).await {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(io_error(path, "cannot inspect it", Some(error))),
    };
    let kind = metadata.file_type();
    let taken = |found| {
        Err(Error::TargetTaken {
            path: path.to_owned(),
            found,
        })
    };
    if kind.is_symlink() {
        taken(Occupant::SymbolicLink)
    } else if kind.is_dir() {
        taken(Occupant::Directory)
    } else if !kind.is_file() {
        taken(Occupant::NotARegularFile)
    } else if !overwrite {
        taken(Occupant::ExistingFile)
    } else {
        Ok(())
    }
}

/// A fresh temporary file in `dir` (exclusive create, random name), open for
/// async writing; it is removed when the `TempPath` drops unless persisted.
fn temporary_file(dir: &Path, stem: &str) -> Result<(tokio::fs::File, tempfile::TempPath), Error> {
    let prefix = format!(".{stem}-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".part");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Like `File::create`: 0666 less the umask (tempfile's default is 0600).
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let file = builder
        .tempfile_in(dir)
        .map_err(|error| io_error(dir, "cannot create a temporary file", Some(error)))?;
    let (file, path) = file.into_parts();
    Ok((tokio::fs::File::from_std(file), path))
}

impl Client {
    /// Downloads every video of `outcome` into `dir` as `<task id>-<n>.mp4`.
    pub async fn download(
        &self,
        outcome: &Outcome,
        dir: &Path,
        options: &DownloadOptions,
    ) -> Result<Vec<Downloaded>, Error> {
        self.download_as(outcome, dir, &safe_name(&outcome.task_id), options)
            .await
    }

    /// Downloads every video of `outcome` into `dir` as `<name>-<n>.mp4`
    /// (a batch names files by job id). `name` is used as given when it is
    /// a safe file name (letters, digits, `-`, `_` and `.`, not starting
    /// with `.`, at most 100 characters), else as [`safe_name`] cleans it.
    pub async fn download_as(
        &self,
        outcome: &Outcome,
        dir: &Path,
        name: &str,
        options: &DownloadOptions,
    ) -> Result<Vec<Downloaded>, Error> {
        let videos = outcome.videos();
        if videos.len() > options.max_videos {
            return Err(Error::OverLimit {
                task_id: safe_name(&outcome.task_id),
                limit: DownloadLimit::Videos {
                    listed: videos.len(),
                    cap: options.max_videos,
                },
            });
        }
        let urls = videos
            .iter()
            .map(|video| checked_url(&video.url))
            .collect::<Result<Vec<_>, _>>()?;
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|error| io_error(dir, "cannot create the directory", Some(error)))?;
        let stem = if is_safe_file_stem(name) {
            name.to_owned()
        } else {
            safe_name(name)
        };
        let targets: Vec<PathBuf> = (0..videos.len())
            .map(|index| dir.join(format!("{stem}-{index}.mp4")))
            .collect();
        for target in &targets {
            check_target(target, options.overwrite).await?;
        }
        let mut budget = Budget {
            task_id: stem.clone(),
            per_video: self.options().max_download_bytes,
            total: options.max_total_bytes,
            taken: 0,
        };
        let mut written = Vec::new();
        for ((video, url), path) in videos.iter().zip(urls).zip(targets) {
            let (mut file, temporary) = temporary_file(dir, &stem)?;
            // On any error below, `temporary` drops and the partial file goes.
            let bytes = self
                .fetch_to(url, &video.url, &mut file, &temporary, options, &mut budget)
                .await?;
            file.sync_all()
                .await
                .map_err(|error| io_error(&temporary, "cannot flush the download", Some(error)))?;
            drop(file);
            let persisted = if options.overwrite {
                check_target(&path, true).await?;
                temporary.persist(&path)
            } else {
                temporary.persist_noclobber(&path)
            };
            persisted.map_err(|error| {
                io_error(
                    &path,
                    "cannot move the download into place: remove what is there or allow overwriting",
                    Some(error.error),
                )
            })?;
            written.push(Downloaded {
                path,
                url: video.url.clone(),
                bytes,
                warning: expiry_warning(video.expires_at, now_unix()),
            });
        }
        Ok(written)
    }

    /// Downloads one video into `writer`, with the caps and idle timeout of
    /// `download`: at most `ClientOptions::max_download_bytes` and
    /// `options.max_total_bytes`, ended when no byte arrives for
    /// `options.idle_timeout`; the API key is never sent. Returns the bytes
    /// written. On an error, what was written so far stays in `writer`: the
    /// caller discards it (`download` writes to a temporary file for that).
    ///
    /// ```no_run
    /// # async fn example(client: &vidspec_transport::Client, outcome: &vidspec_transport::Outcome) -> Result<(), vidspec_transport::Error> {
    /// use vidspec_transport::DownloadOptions;
    ///
    /// let mut buffer: Vec<u8> = Vec::new();
    /// for video in outcome.videos() {
    ///     let bytes = client.download_to(video, &mut buffer, &DownloadOptions::default()).await?;
    ///     println!("{bytes} bytes");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn download_to<W>(
        &self,
        video: &Video,
        writer: &mut W,
        options: &DownloadOptions,
    ) -> Result<u64, Error>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let url = checked_url(&video.url)?;
        let mut budget = Budget {
            task_id: "(the video given to download_to)".to_owned(),
            per_video: self.options().max_download_bytes,
            total: options.max_total_bytes,
            taken: 0,
        };
        let bytes = self
            .fetch_to(
                url,
                &video.url,
                writer,
                Path::new(WRITER),
                options,
                &mut budget,
            )
            .await?;
        writer.flush().await.map_err(|error| {
            io_error(Path::new(WRITER), "cannot flush the download", Some(error))
        })?;
        Ok(bytes)
    }

    /// `fetch_unlogged` in a `download` span that names the URL by host and
    /// path only (result URLs may carry signed tokens in their query), with
    /// an event for how it went.
    async fn fetch_to<W>(
        &self,
        url: reqwest::Url,
        shown: &str,
        file: &mut W,
        temporary: &Path,
        options: &DownloadOptions,
        budget: &mut Budget,
    ) -> Result<u64, Error>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        // Logged as errors show it: no user name, password, query or fragment.
        let logged_url = shown_url(url.as_str());
        let span = tracing::info_span!("download", url = %logged_url);
        let started = tokio::time::Instant::now();
        let fetched = self
            .fetch_unlogged(url, shown, file, temporary, options, budget)
            .instrument(span.clone())
            .await;
        let _entered = span.enter();
        let elapsed_ms = crate::wait::millis(started.elapsed());
        match &fetched {
            Ok(bytes) => tracing::info!(bytes, elapsed_ms, "downloaded"),
            // An error's text holds the whole URL: logged with it redacted.
            Err(error) => tracing::warn!(
                elapsed_ms,
                error = %error,
                "download failed"
            ),
        }
        fetched
    }

    async fn fetch_unlogged<W>(
        &self,
        url: reqwest::Url,
        shown: &str,
        file: &mut W,
        temporary: &Path,
        options: &DownloadOptions,
        budget: &mut Budget,
    ) -> Result<u64, Error>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let failed = |problem: String, source: Option<reqwest::Error>| Error::Download {
            url: shown_url(shown),
            problem,
            source: source.map(reqwest::Error::without_url),
        };
        let idle = options.idle_timeout;
        let stalled = || {
            failed(
                format!(
                    "no bytes arrived for {} s; try again later",
                    idle.as_secs_f64()
                ),
                None,
            )
        };
        self.limiter().acquire().await;
        let mut response = tokio::time::timeout(idle, self.http().get(url).send())
            .await
            .map_err(|_| stalled())?
            .map_err(|error| failed("the request failed".to_owned(), Some(error)))?;
        if !response.status().is_success() {
            return Err(failed(
                format!("the server answered HTTP {}", response.status().as_u16()),
                None,
            ));
        }
        if let Some(length) = response.content_length() {
            budget.admit(0, length)?;
        }
        let mut total: u64 = 0;
        loop {
            let chunk = tokio::time::timeout(idle, response.chunk())
                .await
                .map_err(|_| stalled())?
                .map_err(|error| failed("the transfer broke off".to_owned(), Some(error)))?;
            let Some(chunk) = chunk else { break };
            let length = u64::try_from(chunk.len()).unwrap_or(u64::MAX);
            budget.admit(total, length)?;
            total = total.saturating_add(length);
            // A local failure (a full disk): not the server's fault, so `Io`.
            file.write_all(&chunk)
                .await
                .map_err(|error| io_error(temporary, "cannot write the download", Some(error)))?;
        }
        if total == 0 {
            return Err(failed("the answer was empty".to_owned(), None));
        }
        budget.taken = budget.taken.saturating_add(total);
        Ok(total)
    }
}

/// The byte caps of one task's download.
struct Budget {
    /// The task's id (safe as a file name), for the error.
    task_id: String,
    per_video: u64,
    total: u64,
    /// Bytes of the task's videos finished so far.
    taken: u64,
}

impl Budget {
    /// Whether `more` bytes may follow `so_far` bytes of the current video.
    fn admit(&self, so_far: u64, more: u64) -> Result<(), Error> {
        let video = so_far.saturating_add(more);
        let over = |limit| {
            Err(Error::OverLimit {
                task_id: self.task_id.clone(),
                limit,
            })
        };
        if video > self.per_video {
            return over(DownloadLimit::BytesPerVideo {
                cap: self.per_video,
            });
        }
        if self.taken.saturating_add(video) > self.total {
            return over(DownloadLimit::BytesPerTask { cap: self.total });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_climb_out_of_the_directory() {
        assert_eq!(safe_name("../../etc/passwd"), "______etc_passwd");
        assert_eq!(safe_name(""), "task");
    }

    #[test]
    fn expiry_warnings_cover_soon_and_past() {
        assert!(
            expiry_warning(Some(1_000 + 600), 1_000).is_some_and(|text| text.contains("10 min"))
        );
        assert!(expiry_warning(Some(500), 1_000).is_some_and(|text| text.contains("expired")));
        assert_eq!(expiry_warning(Some(1_000 + 86_400), 1_000), None);
        assert_eq!(expiry_warning(None, 1_000), None);
    }

    #[test]
    fn expiry_times_at_the_ends_of_the_clock_do_not_overflow() {
        assert!(expiry_warning(Some(i64::MIN), i64::MAX).is_some());
        assert_eq!(expiry_warning(Some(i64::MAX), i64::MIN), None);
    }

    #[test]
    fn a_url_in_the_logs_keeps_host_and_path_but_no_token_or_password() {
        assert_eq!(
            shown_url("https://user:secret@cdn.example.com:8443/v/1.mp4?X-Amz-Signature=abc#frag"),
            "https://cdn.example.com:8443/v/1.mp4?…"
        );
    }

    #[test]
    fn a_refused_url_is_named_without_its_password_or_query() {
        let refused = checked_url("ftp://user:hunter2@cdn.example/v.mp4?sig=s3cr3t");
        match refused {
            Err(Error::Download { url, .. }) => {
                assert_eq!(url, "ftp://cdn.example/v.mp4?…");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_absolute_http_urls_pass() {
        assert!(checked_url("https://cdn.example.com/v.mp4").is_ok());
        assert!(checked_url("HTTP://127.0.0.1:8080/v.mp4").is_ok());
        for url in [
            "file:///etc/passwd",
            "/v.mp4",
            " http://a/v",
            "data:,x",
            "ftp://a/v",
        ] {
            assert!(checked_url(url).is_err(), "{url}");
        }
    }
}
