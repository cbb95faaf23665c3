//! Downloading result videos: streamed to a temporary file in the target
//! directory, size-capped, then renamed; never overwriting unless asked; the
//! file name comes from the task id, never from the URL; the API key is never
//! sent (result URLs are public and often on another host).
//!
//! Owns downloads and expiry warnings. It does not poll.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tokio::io::AsyncWriteExt;

use crate::client::Client;
use crate::error::Error;
use crate::wait::Outcome;

/// Warn when a URL expires within this many seconds.
pub const EXPIRY_WARNING_S: i64 = 3600;

/// How to download.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownloadOptions {
    /// Replace files that already exist.
    pub overwrite: bool,
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
    let left = expires_at? - now;
    if left <= 0 {
        Some(format!(
            "the URL expired {} min ago; the download may fail",
            (-left) / 60
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
        .map(|elapsed| elapsed.as_secs() as i64)
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

impl Client {
    /// Downloads every video of `outcome` into `dir` as `<task id>-<n>.mp4`.
    pub async fn download(
        &self,
        outcome: &Outcome,
        dir: &Path,
        options: &DownloadOptions,
    ) -> Result<Vec<Downloaded>, Error> {
        let io = |path: &Path, message: String| Error::Io {
            path: path.display().to_string(),
            message,
        };
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|error| io(dir, format!("cannot create the directory: {error}")))?;
        let mut written = Vec::new();
        for (index, video) in outcome.videos().iter().enumerate() {
            let url = &video.url;
            let lowered = url.to_ascii_lowercase();
            if !(lowered.starts_with("https://") || lowered.starts_with("http://")) {
                return Err(Error::Download {
                    url: url.clone(),
                    message: "only http(s) URLs are downloaded".to_owned(),
                });
            }
            let path = dir.join(format!("{}-{index}.mp4", safe_name(&outcome.task_id)));
            if !options.overwrite && tokio::fs::try_exists(&path).await.unwrap_or(false) {
                return Err(io(
                    &path,
                    "exists already: remove it or pass --force".to_owned(),
                ));
            }
            let partial = dir.join(format!(".{}-{index}.mp4.part", safe_name(&outcome.task_id)));
            let bytes = self.fetch_to(url, &partial).await;
            let bytes = match bytes {
                Ok(bytes) => bytes,
                Err(error) => {
                    let _ = tokio::fs::remove_file(&partial).await;
                    return Err(error);
                }
            };
            tokio::fs::rename(&partial, &path).await.map_err(|error| {
                io(
                    &path,
                    format!("cannot move the download into place: {error}"),
                )
            })?;
            written.push(Downloaded {
                path,
                url: url.clone(),
                bytes,
                warning: expiry_warning(video.expires_at, now_unix()),
            });
        }
        Ok(written)
    }

    async fn fetch_to(&self, url: &str, partial: &Path) -> Result<u64, Error> {
        let failed = |message: String| Error::Download {
            url: url.to_owned(),
            message,
        };
        let mut response = self
            .http()
            .get(url)
            .send()
            .await
            .map_err(|error| failed(error.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(failed(format!("HTTP {}", response.status().as_u16())));
        }
        let cap = self.options().max_download_bytes;
        let mut file = tokio::fs::File::create(partial)
            .await
            .map_err(|error| failed(format!("cannot create {}: {error}", partial.display())))?;
        let mut total: u64 = 0;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| failed(format!("the transfer broke off: {error}")))?
        {
            total += chunk.len() as u64;
            if total > cap {
                return Err(failed(format!("larger than the {cap}-byte cap")));
            }
            file.write_all(&chunk)
                .await
                .map_err(|error| failed(format!("cannot write: {error}")))?;
        }
        file.sync_all()
            .await
            .map_err(|error| failed(format!("cannot flush: {error}")))?;
        if total == 0 {
            return Err(failed("the answer was empty".to_owned()));
        }
        Ok(total)
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
}
