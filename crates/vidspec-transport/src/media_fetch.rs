//! Pre-flight of video and audio inputs: fetching just enough of a file —
//! behind a URL, in a `data:` URL or on disk — to judge it against a spec's
//! `video:` / `audio:` constraints.
//!
//! Owns the byte sources and the walk to an MP4/MOV `moov` box: the first
//! 64 KiB, then the top-level boxes one header at a time (ranged GETs when
//! the server honours `Range`, so a `moov` at the end of a large file costs
//! two or three small requests), then `moov` alone. A server that ignores
//! `Range` is read as a stream, every byte outside `moov` dropped, for at
//! most `MAX_STREAMED_BYTES`. It must never send the API key (media URLs are
//! third-party hosts), never read more than those caps, and never pass
//! silently: a file it cannot judge is a `Warning`. Parsing lives in `media`,
//! judging in `media_check`, local files in `media_local`.

use std::io::SeekFrom;

use tokio::io::{AsyncReadExt, AsyncSeekExt};
use vidspec_core::spec::{AudioConstraints, VideoConstraints};

use crate::client::Client;
use crate::error::shown_url;
use crate::media::{
    AudioInfo, MAX_MOVIE_BYTES, MediaError, VideoInfo, audio_format, box_header, flac_seconds,
    read_movie, video_format, wav_seconds,
};
use crate::media_check::{Judgement, check_audio, check_video};
use crate::preflight::{Finding, REMOTE_READ_BYTES, Remote, decode_data_url, range_total, remote};

/// How many top-level boxes are walked looking for `moov` before giving up.
pub const MAX_TOP_LEVEL_BOXES: usize = 64;

/// How many bytes of a server that ignores `Range` are read looking for
/// `moov` (everything outside `moov` is dropped as it arrives).
pub const MAX_STREAMED_BYTES: u64 = 16 * 1024 * 1024;

/// Where the bytes of one media file come from. Reads only move forward
/// through a stream; the others read any range.
pub(crate) enum Source<'a> {
    /// A `data:` URL, decoded.
    Memory(Vec<u8>),
    /// A server that honours `Range`: its first bytes, then one ranged GET
    /// per read outside them.
    Ranged {
        client: &'a Client,
        url: &'a str,
        head: Vec<u8>,
    },
    /// A server that ignores `Range`: the answer's body, read forward.
    Streamed {
        response: reqwest::Response,
        buffer: Vec<u8>,
        buffer_at: u64,
        pulled: u64,
        ended: bool,
    },
    /// A local regular file (`media_local`).
    Local(tokio::fs::File),
}

impl Source<'_> {
    /// Up to `len` bytes from `offset`; fewer at the end of the file.
    pub(crate) async fn read_at(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, String> {
        match self {
            Source::Memory(bytes) => Ok(window(bytes, 0, offset, len)),
            Source::Ranged { client, url, head } => {
                if offset.saturating_add(len) <= head.len() as u64 {
                    return Ok(window(head, 0, offset, len));
                }
                ranged_get(client, url, offset, len).await
            }
            Source::Streamed {
                response,
                buffer,
                buffer_at,
                pulled,
                ended,
            } => {
                if offset < *buffer_at {
                    return Err("the walk went backwards in a stream (a bug; report it)".into());
                }
                let want_end = offset.saturating_add(len);
                while *buffer_at + (buffer.len() as u64) < want_end && !*ended {
                    // Drop what lies before `offset`: it is not wanted again.
                    let drop = (offset - *buffer_at).min(buffer.len() as u64) as usize;
                    buffer.drain(..drop);
                    *buffer_at += drop as u64;
                    if *pulled >= MAX_STREAMED_BYTES {
                        return Err(format!(
                            "the server ignores ranged reads, and the moov box is not within the first {MAX_STREAMED_BYTES} bytes"
                        ));
                    }
                    match response.chunk().await {
                        Ok(Some(chunk)) => {
                            *pulled += chunk.len() as u64;
                            buffer.extend_from_slice(&chunk);
                        }
                        Ok(None) => *ended = true,
                        Err(error) => return Err(crate::client::without_url(&error)),
                    }
                }
                Ok(window(buffer, *buffer_at, offset, len))
            }
            Source::Local(file) => {
                file.seek(SeekFrom::Start(offset))
                    .await
                    .map_err(|error| format!("cannot read the file: {error}"))?;
                let mut bytes = Vec::new();
                file.take(len)
                    .read_to_end(&mut bytes)
                    .await
                    .map_err(|error| format!("cannot read the file: {error}"))?;
                Ok(bytes)
            }
        }
    }
}

/// The bytes of `held` (which starts at file offset `held_at`) in
/// `offset..offset + len`, as far as it holds them.
fn window(held: &[u8], held_at: u64, offset: u64, len: u64) -> Vec<u8> {
    let start = offset.saturating_sub(held_at).min(held.len() as u64) as usize;
    let end = offset
        .saturating_add(len)
        .saturating_sub(held_at)
        .min(held.len() as u64) as usize;
    held[start..end.max(start)].to_vec()
}

/// One ranged GET of `len` bytes at `offset`, without the API key; a server
/// that answers the whole file instead is refused (it stopped honouring
/// `Range`), and 416 means the range lies past the end.
async fn ranged_get(client: &Client, url: &str, offset: u64, len: u64) -> Result<Vec<u8>, String> {
    client.limiter().acquire().await;
    let last = offset.saturating_add(len).saturating_sub(1);
    let mut response = client
        .http()
        .get(url)
        .header(reqwest::header::RANGE, format!("bytes={offset}-{last}"))
        .timeout(client.options().timeout)
        .send()
        .await
        .map_err(|error| crate::client::without_url(&error))?;
    match response.status().as_u16() {
        206 => {}
        416 => return Ok(Vec::new()),
        200 => return Err("the server stopped honouring ranged reads".into()),
        other => return Err(format!("the server answered HTTP {other}")),
    }
    let mut bytes = Vec::new();
    while (bytes.len() as u64) < len {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(error) => return Err(crate::client::without_url(&error)),
        }
    }
    bytes.truncate(len as usize);
    Ok(bytes)
}

/// The whole `moov` box of an MP4/MOV file, found by walking the top-level
/// boxes from the start.
async fn find_moov(
    source: &mut Source<'_>,
    total: Option<u64>,
    format: &'static str,
) -> Result<Vec<u8>, String> {
    let mut at = 0u64;
    for _ in 0..MAX_TOP_LEVEL_BOXES {
        if total.is_some_and(|total| at >= total) {
            break;
        }
        let bytes = source.read_at(at, 16).await?;
        let Some(header) = box_header(&bytes, format).map_err(|error| error.to_string())? else {
            break;
        };
        if &header.kind == b"moov" {
            let size = header
                .size
                .or_else(|| total.map(|total| total - at))
                .unwrap_or(MAX_MOVIE_BYTES + 1);
            if size > MAX_MOVIE_BYTES {
                return Err(MediaError::MovieTooLarge {
                    format,
                    size,
                    cap: MAX_MOVIE_BYTES,
                }
                .to_string());
            }
            let moov = source.read_at(at, size).await?;
            if (moov.len() as u64) < size {
                return Err(format!(
                    "the {format} moov box is cut short ({} of {size} bytes); the file may be truncated",
                    moov.len()
                ));
            }
            return Ok(moov);
        }
        match header.size {
            Some(size) => at = at.saturating_add(size),
            None => break, // the box runs to the end of the file
        }
    }
    Err(MediaError::NoMovie { format }.to_string())
}

/// The first bytes of a media file and a source for the rest.
pub(crate) struct Opened<'a> {
    pub(crate) shown: String,
    pub(crate) head: Vec<u8>,
    pub(crate) total: Option<u64>,
    pub(crate) source: Source<'a>,
}

impl Client {
    /// Opens `url` for reading: a `data:` URL decoded; an http(s) URL with a
    /// ranged GET of its first `REMOTE_READ_BYTES` (no API key).
    async fn open_media<'a>(&'a self, url: &'a str) -> Result<Opened<'a>, (String, String)> {
        let parsed = match remote(url) {
            Remote::Data => None,
            Remote::Http(parsed) => Some(parsed),
            Remote::Other => {
                return Err((
                    shown_url(url),
                    "it is neither an http(s) nor a data: URL".into(),
                ));
            }
        };
        let Some(parsed) = parsed else {
            let shown = "the data: URL".to_owned();
            let (bytes, total) = decode_data_url(url).map_err(|why| (shown.clone(), why))?;
            let head = window(&bytes, 0, 0, REMOTE_READ_BYTES as u64);
            return Ok(Opened {
                shown,
                head,
                total,
                source: Source::Memory(bytes),
            });
        };
        let shown = shown_url(url);
        let fail = |why: String| (shown.clone(), why);
        self.limiter().acquire().await;
        let response = self
            .http()
            .get(parsed)
            .header(
                reqwest::header::RANGE,
                format!("bytes=0-{}", REMOTE_READ_BYTES - 1),
            )
            .timeout(self.options().timeout)
            .send()
            .await
            .map_err(|error| fail(crate::client::without_url(&error)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(fail(format!(
                "the server answered HTTP {}",
                status.as_u16()
            )));
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|value: &reqwest::header::HeaderValue| value.to_str().ok())
                .map(str::to_owned)
        };
        if status.as_u16() == 206 {
            let total = header(reqwest::header::CONTENT_RANGE)
                .as_deref()
                .and_then(range_total);
            let mut response = response;
            let mut head = Vec::new();
            while head.len() < REMOTE_READ_BYTES {
                match response.chunk().await {
                    Ok(Some(chunk)) => head.extend_from_slice(&chunk),
                    Ok(None) => break,
                    Err(error) => return Err(fail(crate::client::without_url(&error))),
                }
            }
            head.truncate(REMOTE_READ_BYTES);
            return Ok(Opened {
                shown,
                head: head.clone(),
                total,
                source: Source::Ranged {
                    client: self,
                    url,
                    head,
                },
            });
        }
        let total =
            header(reqwest::header::CONTENT_LENGTH).and_then(|value| value.trim().parse().ok());
        let mut source = Source::Streamed {
            response,
            buffer: Vec::new(),
            buffer_at: 0,
            pulled: 0,
            ended: false,
        };
        let head = source
            .read_at(0, REMOTE_READ_BYTES as u64)
            .await
            .map_err(fail)?;
        Ok(Opened {
            shown,
            head,
            total,
            source,
        })
    }

    /// The pre-flight findings for the video or audio file at `url` (see
    /// `Client::preflight`).
    pub(crate) async fn check_remote_media(
        &self,
        path: &str,
        url: &str,
        wanted: Wanted<'_>,
    ) -> Vec<Finding> {
        match self.open_media(url).await {
            Ok(mut opened) => judge(&mut opened, path, wanted).await,
            Err((shown, why)) => vec![could_not(path, &shown, wanted.what(), &why, wanted.rule())],
        }
    }
}

/// The constraints a media file is judged by: a video's or an audio file's.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wanted<'c> {
    /// `video:` of a field.
    Video(&'c VideoConstraints),
    /// `audio:` of a field.
    Audio(&'c AudioConstraints),
}

impl Wanted<'_> {
    /// The file, for people (`video`, `audio file`).
    pub(crate) fn what(self) -> &'static str {
        match self {
            Wanted::Video(_) => "video",
            Wanted::Audio(_) => "audio file",
        }
    }

    /// The rule the constraints cite.
    pub(crate) fn rule(&self) -> &Option<String> {
        match self {
            Wanted::Video(constraints) => &constraints.rule,
            Wanted::Audio(constraints) => &constraints.rule,
        }
    }

    fn formats_named(self) -> bool {
        match self {
            Wanted::Video(constraints) => !constraints.formats.is_empty(),
            Wanted::Audio(constraints) => !constraints.formats.is_empty(),
        }
    }

    fn max_bytes(self) -> Option<u64> {
        match self {
            Wanted::Video(constraints) => constraints.max_bytes,
            Wanted::Audio(constraints) => constraints.max_bytes,
        }
    }
}

/// The findings for an opened media file, local or remote: its header read
/// and judged against `wanted`; `path` is the body place findings point at.
pub(crate) async fn judge(opened: &mut Opened<'_>, path: &str, wanted: Wanted<'_>) -> Vec<Finding> {
    let shown = opened.shown.clone();
    let inspected = match wanted {
        Wanted::Video(constraints) => inspect_video(opened)
            .await
            .map(|(info, problem)| (check_video(&info, opened.total, constraints), problem)),
        Wanted::Audio(constraints) => inspect_audio(opened)
            .await
            .map(|(info, problem)| (check_audio(&info, opened.total, constraints), problem)),
    };
    let (rule, what) = (wanted.rule(), wanted.what());
    match inspected {
        Ok((judgement, problem)) => findings(
            path,
            &shown,
            what,
            judgement,
            problem,
            opened.total,
            wanted.max_bytes(),
            rule,
        ),
        Err(error) => vec![unreadable(
            path,
            &shown,
            what,
            error,
            wanted.formats_named(),
            rule,
        )],
    }
}

/// The format and what the `moov` box says; a `moov` that cannot be read is
/// the second part (the format is still judged).
pub(crate) async fn inspect_video(
    opened: &mut Opened<'_>,
) -> Result<(VideoInfo, Option<String>), MediaError> {
    let format = video_format(&opened.head)?;
    let bare = VideoInfo {
        format,
        seconds: None,
        size: None,
        fps: None,
    };
    let moov = match find_moov(&mut opened.source, opened.total, format).await {
        Ok(moov) => moov,
        Err(why) => return Ok((bare, Some(why))),
    };
    match read_movie(&moov, format) {
        Ok(movie) => match movie.video {
            Some(video) => Ok((video, None)),
            None => Ok((bare, Some(format!("the {format} file has no video track")))),
        },
        Err(error) => Ok((bare, Some(error.to_string()))),
    }
}

/// The format and, for WAV, FLAC and M4A, the duration.
pub(crate) async fn inspect_audio(
    opened: &mut Opened<'_>,
) -> Result<(AudioInfo, Option<String>), MediaError> {
    let format = audio_format(&opened.head)?;
    let (seconds, problem) = match format {
        "wav" => split(wav_seconds(&opened.head)),
        "flac" => split(flac_seconds(&opened.head)),
        "m4a" => match find_moov(&mut opened.source, opened.total, format).await {
            Ok(moov) => match read_movie(&moov, format) {
                Ok(movie) => (movie.seconds, None),
                Err(error) => (None, Some(error.to_string())),
            },
            Err(why) => (None, Some(why)),
        },
        _ => (None, None),
    };
    Ok((AudioInfo { format, seconds }, problem))
}

fn split(read: Result<Option<f64>, MediaError>) -> (Option<f64>, Option<String>) {
    match read {
        Ok(seconds) => (seconds, None),
        Err(error) => (None, Some(error.to_string())),
    }
}

/// A file whose header names no format pre-flight recognises: an `Error`
/// when it is empty or the spec names `formats` (every format lint accepts is
/// recognised, so the file is none of them), else a `Warning` (no `formats`
/// means no format check), as for local files.
fn unreadable(
    path: &str,
    shown: &str,
    what: &str,
    error: MediaError,
    formats_named: bool,
    rule: &Option<String>,
) -> Finding {
    if matches!(error, MediaError::Empty) || formats_named {
        Finding::error(path, format!("{shown}: {error}"), rule)
    } else {
        could_not(path, shown, what, &error.to_string(), rule)
    }
}

fn could_not(path: &str, shown: &str, what: &str, why: &str, rule: &Option<String>) -> Finding {
    Finding::warning(
        path,
        format!("could not check the {what} at {shown}: {why}; the gateway may reject it"),
        rule,
    )
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn findings(
    path: &str,
    shown: &str,
    what: &str,
    judgement: Judgement,
    problem: Option<String>,
    total: Option<u64>,
    max_bytes: Option<u64>,
    rule: &Option<String>,
) -> Vec<Finding> {
    let mut findings: Vec<Finding> = judgement
        .broken
        .into_iter()
        .map(|message| Finding::error(path, format!("{shown}: {message}"), rule))
        .collect();
    // One warning says why the header could not be read; the constraints it
    // leaves unchecked are not listed one by one then.
    match problem {
        Some(why) => findings.push(could_not(path, shown, what, &why, rule)),
        None => findings.extend(
            judgement
                .unchecked
                .into_iter()
                .map(|message| Finding::warning(path, format!("{shown}: {message}"), rule)),
        ),
    }
    if let (None, Some(max)) = (total, max_bytes) {
        findings.push(Finding::warning(
            path,
            format!("could not check the size of the {what} at {shown} (its size is not known); the gateway accepts at most {max} bytes"),
            rule,
        ));
    }
    findings
}
