//! Pre-flight: the checks a schema cannot make, run over the network before a
//! plan is submitted — the images behind URL fields (format, pixels, aspect
//! ratio, bytes), the videos and audio files behind them (through
//! `media_fetch`) and the earlier tasks that id fields name (status, model).
//!
//! Owns `Finding`, `Severity`, the capped ranged image fetch, `data:` URL
//! decoding and `Client::preflight`. It must not submit anything, must never
//! send the API key anywhere but the gateway (image URLs are third-party hosts:
//! they are fetched without `Authorization`), must never put the key in a
//! finding, and must not pass silently: an image or task it cannot check is a
//! `Warning`, never nothing. Header parsing lives in `image`.

use std::path::Path;
use std::sync::Arc;

use futures_util::future::join_all;
use serde::Serialize;
use serde_json::Value;
use vidspec_core::spec::{ImageConstraints, TaskReference};
use vidspec_core::{Plan, Precondition};

use crate::client::Client;
use crate::error::{Error, Operation, shown_url, with_causes};
use crate::handle::TaskHandle;
use crate::image::{ProbeError, check, probe};
use crate::media_fetch::Wanted;
use crate::read::Status;

/// How many bytes of a remote image are fetched (`Range: bytes=0-65535`):
/// enough for any PNG, GIF or WebP header and almost every JPEG's.
pub const REMOTE_READ_BYTES: usize = 64 * 1024;

/// How many bytes of a local image are read to find its header.
pub const LOCAL_READ_BYTES: u64 = 1024 * 1024;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The gateway will refuse the request (or charge for a useless task): do
    /// not submit.
    Error,
    /// The check could not be made, or could not be made completely; the
    /// gateway may reject the request.
    Warning,
}

/// One pre-flight result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// JSON pointer to the field in the body (`/image_urls/0`); empty for
    /// `check_local_image`, whose caller knows the field.
    pub path: String,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong and what to do, for people. Never holds the API key or a
    /// URL's query string.
    pub message: String,
    /// The spec's rule number (`V3`), when it gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

impl Finding {
    pub(crate) fn error(path: &str, message: String, rule: &Option<String>) -> Finding {
        Finding {
            path: path.to_owned(),
            severity: Severity::Error,
            message,
            rule: rule.clone(),
        }
    }

    pub(crate) fn warning(path: &str, message: String, rule: &Option<String>) -> Finding {
        Finding {
            path: path.to_owned(),
            severity: Severity::Warning,
            message,
            rule: rule.clone(),
        }
    }
}

/// Checks a local image file (one about to be uploaded) against
/// `constraints`: reads at most `LOCAL_READ_BYTES` of it for the header and
/// takes its size from the file system; anything but a regular file, or a
/// file over the gateway's upload limit, is an `Error` before it is read.
///
/// Each finding's `path` is empty (the caller knows which field the file is
/// for); messages name the file. A file that cannot be read, is empty, or is
/// in no format pre-flight recognises while the spec names `formats`, is an
/// `Error`; a header that cannot be read (or an unrecognised format when the
/// spec names none: no `formats` means no format check) is a `Warning`.
pub async fn check_local_image(path: &Path, constraints: &ImageConstraints) -> Vec<Finding> {
    let rule = &constraints.rule;
    let shown = path.display();
    // A regular file only, refused past the upload limit before it is read.
    let (head, size) = match crate::image::load_local_image_head(path, LOCAL_READ_BYTES).await {
        Ok((head, size)) => (head, Some(size)),
        Err(error) => {
            return vec![Finding::error(
                "",
                format!("{shown}: {}", with_causes(&error)),
                rule,
            )];
        }
    };
    match probe(&head) {
        Ok(info) => {
            let mut findings: Vec<Finding> = check(&info, size, constraints)
                .into_iter()
                .map(|message| Finding::error("", format!("{shown}: {message}"), rule))
                .collect();
            if size.is_none() && constraints.max_bytes.is_some() {
                findings.push(Finding::warning(
                    "",
                    format!(
                        "{shown}: could not read the file's size, so max_bytes was not checked"
                    ),
                    rule,
                ));
            }
            findings
        }
        // A spec that names formats accepts none that cannot be recognised;
        // one that names none makes no format check, so the file is only
        // left unchecked.
        Err(error @ (ProbeError::Empty | ProbeError::UnknownFormat { .. }))
            if !constraints.formats.is_empty() || matches!(error, ProbeError::Empty) =>
        {
            vec![Finding::error("", format!("{shown}: {error}"), rule)]
        }
        Err(error) => vec![Finding::warning(
            "",
            format!("{shown}: could not check the image: {error}; the gateway may reject it"),
            rule,
        )],
    }
}

impl Client {
    /// Runs every precondition of `plan` and returns what it found (empty:
    /// all checked and fine), in the order of `plan.preconditions()`.
    ///
    /// - **Images**: the URL at the precondition's pointer is fetched with a
    ///   ranged GET (`Range: bytes=0-65535`, at most `REMOTE_READ_BYTES` read,
    ///   never with the API key), its header probed and judged against the
    ///   spec's constraints — each broken constraint is an `Error`. The total
    ///   size comes from `Content-Range` or, when the server ignores the range,
    ///   `Content-Length`. `data:image/…;base64,` URLs are decoded and checked
    ///   locally. An unreachable image, a non-2xx answer or bytes that cannot
    ///   be probed are a `Warning` ("could not check …").
    /// - **Videos and audio**: the first `REMOTE_READ_BYTES` the same way,
    ///   then, for MP4/MOV (and M4A), the top-level boxes walked with ranged
    ///   GETs to the `moov` box, which `mp4parse` reads (duration, displayed
    ///   size, frame rate); WAV and FLAC durations come from the head. A
    ///   server that ignores `Range` is streamed, only `moov` kept, for at
    ///   most `MAX_STREAMED_BYTES`. What cannot be read is a `Warning`.
    /// - **Tasks**: the id at the pointer is polled (with the plan's `task`
    ///   section); a status other than the reference's is an `Error`, as is an
    ///   unknown task (404); other transport failures are a `Warning`. When the
    ///   reference names models, `known_model(task_id)` (e.g. from the caller's
    ///   journal) must return one of them (`Error` otherwise); `None` is a
    ///   `Warning` that the model could not be confirmed.
    ///
    /// The checks run concurrently; every request takes a slot of the
    /// client's rate cap.
    pub async fn preflight(
        &self,
        plan: &Plan,
        known_model: impl Fn(&str) -> Option<String>,
    ) -> Vec<Finding> {
        let body = Value::Object(plan.body().clone());
        // The model lookups are made up front so `known_model` is never held
        // across an await.
        let preconditions = plan.preconditions();
        let checks: Vec<_> = preconditions
            .iter()
            .map(|precondition| {
                let model = match (&precondition.task, body.pointer(&precondition.path)) {
                    (Some(reference), Some(Value::String(id))) if !reference.models.is_empty() => {
                        Some(known_model(id))
                    }
                    _ => None,
                };
                self.check_precondition(plan, &body, precondition, model)
            })
            .collect();
        join_all(checks).await.into_iter().flatten().collect()
    }

    async fn check_precondition(
        &self,
        plan: &Plan,
        body: &Value,
        precondition: &Precondition,
        model: Option<Option<String>>,
    ) -> Vec<Finding> {
        let mut findings = Vec::new();
        let path = precondition.path.as_str();
        let value = body.pointer(path);
        if let Some(constraints) = &precondition.image {
            match value {
                Some(Value::String(url)) => {
                    findings.extend(self.check_remote_image(path, url, constraints).await)
                }
                _ => findings.push(Finding::warning(
                    path,
                    format!(
                        "could not check the image at {path}: the body holds no URL string there"
                    ),
                    &constraints.rule,
                )),
            }
        }
        if let Some(constraints) = &precondition.video {
            match value {
                Some(Value::String(url)) => findings.extend(
                    self.check_remote_media(path, url, Wanted::Video(constraints))
                        .await,
                ),
                _ => findings.push(Finding::warning(
                    path,
                    format!(
                        "could not check the video at {path}: the body holds no URL string there"
                    ),
                    &constraints.rule,
                )),
            }
        }
        if let Some(constraints) = &precondition.audio {
            match value {
                Some(Value::String(url)) => {
                    findings.extend(self.check_remote_media(path, url, Wanted::Audio(constraints)).await)
                }
                _ => findings.push(Finding::warning(
                    path,
                    format!(
                        "could not check the audio file at {path}: the body holds no URL string there"
                    ),
                    &constraints.rule,
                )),
            }
        }
        if let Some(reference) = &precondition.task {
            match value {
                Some(Value::String(id)) => {
                    findings.extend(self.check_task(plan, path, id, reference, model).await)
                }
                _ => findings.push(Finding::warning(
                    path,
                    format!("could not check the task at {path}: the body holds no task id there"),
                    &reference.rule,
                )),
            }
        }
        findings
    }

    async fn check_remote_image(
        &self,
        path: &str,
        url: &str,
        constraints: &ImageConstraints,
    ) -> Vec<Finding> {
        let rule = &constraints.rule;
        let (shown, fetched) = match remote(url) {
            Remote::Data => ("the data: URL".to_owned(), decode_data_url(url)),
            Remote::Http(parsed) => (shown_url(url), self.fetch_head(parsed).await),
            Remote::Other => (
                shown_url(url),
                Err("it is neither an http(s) nor a data: URL".to_owned()),
            ),
        };
        let could_not = |why: String| {
            vec![Finding::warning(
                path,
                format!("could not check the image at {shown}: {why}; the gateway may reject it"),
                rule,
            )]
        };
        let (head, total) = match fetched {
            Ok(fetched) => fetched,
            Err(why) => return could_not(why),
        };
        let info = match probe(&head) {
            Ok(info) => info,
            // As for local files: a spec that names formats accepts none
            // pre-flight cannot recognise (lint lets it name only those).
            Err(error @ (ProbeError::Empty | ProbeError::UnknownFormat { .. }))
                if !constraints.formats.is_empty() || matches!(error, ProbeError::Empty) =>
            {
                return vec![Finding::error(path, format!("{shown}: {error}"), rule)];
            }
            Err(error) => return could_not(error.to_string()),
        };
        let mut findings: Vec<Finding> = check(&info, total, constraints)
            .into_iter()
            .map(|message| Finding::error(path, format!("{shown}: {message}"), rule))
            .collect();
        if let (None, Some(max)) = (total, constraints.max_bytes) {
            findings.push(Finding::warning(
                path,
                format!(
                    "could not check the size of the image at {shown} (the server sent neither Content-Range nor Content-Length); the gateway accepts at most {max} bytes"
                ),
                rule,
            ));
        }
        findings
    }

    /// The first `REMOTE_READ_BYTES` of `url` and its total size, if the
    /// server says. No `Authorization` header is sent.
    async fn fetch_head(&self, url: url::Url) -> Result<(Vec<u8>, Option<u64>), String> {
        self.limiter().acquire().await;
        let range = format!("bytes=0-{}", REMOTE_READ_BYTES - 1);
        let mut response = self
            .http()
            .get(url)
            .header(reqwest::header::RANGE, range)
            .timeout(self.options().timeout)
            .send()
            .await
            .map_err(|error| crate::client::without_url(&error))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the server answered HTTP {}", status.as_u16()));
        }
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let content_range = header(reqwest::header::CONTENT_RANGE);
        let content_length = header(reqwest::header::CONTENT_LENGTH)
            .and_then(|value| value.trim().parse::<u64>().ok());
        let partial = status.as_u16() == 206;
        let mut total = if partial {
            content_range.as_deref().and_then(range_total)
        } else {
            content_length
        };
        let mut head = Vec::new();
        let mut ended = false;
        while head.len() < REMOTE_READ_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => head.extend_from_slice(&chunk),
                Ok(None) => {
                    ended = true;
                    break;
                }
                Err(error) => return Err(crate::client::without_url(&error)),
            }
        }
        head.truncate(REMOTE_READ_BYTES);
        if total.is_none() && ended && !partial {
            // A whole answer without Content-Length: its length is the size.
            total = Some(head.len() as u64);
        }
        Ok((head, total))
    }

    async fn check_task(
        &self,
        plan: &Plan,
        path: &str,
        id: &str,
        reference: &TaskReference,
        model: Option<Option<String>>,
    ) -> Vec<Finding> {
        let rule = &reference.rule;
        let field = path.trim_start_matches('/');
        let wanted = reference
            .description
            .as_deref()
            .map(|description| format!(" (it must be {description})"))
            .unwrap_or_default();
        let mut findings = Vec::new();
        let handle = TaskHandle {
            id: id.to_owned(),
            model: model.clone().flatten().unwrap_or_default(),
            task: Arc::clone(plan.task()),
            request_id: None,
        };
        match self.poll(&handle, Operation::Preflight, &mut |_| {}).await {
            Ok(snapshot) if matches!(snapshot.status, Status::Unknown(_)) => {
                findings.push(Finding::warning(
                    path,
                    format!(
                        "could not check task {id} named by {field}: its status {:?} is not one the spec knows; the gateway may reject it",
                        snapshot.raw_status
                    ),
                    rule,
                ));
            }
            Ok(snapshot) => {
                let status = snapshot.status.word();
                if !status.eq_ignore_ascii_case(reference.status.trim()) {
                    let advice = if snapshot.status.is_terminal() {
                        format!("name a task that is {}", reference.status)
                    } else {
                        "wait for it to complete".to_owned()
                    };
                    findings.push(Finding::error(
                        path,
                        format!("{field} names task {id}, which is {status}; {advice}{wanted}"),
                        rule,
                    ));
                }
            }
            Err(Error::TaskNotFound { .. }) => {
                findings.push(Finding::error(
                    path,
                    format!(
                        "{field} names task {id}, which the gateway does not know (404); check the id (tasks are kept about 3 days){wanted}"
                    ),
                    rule,
                ));
                return findings;
            }
            Err(error) => findings.push(Finding::warning(
                path,
                format!(
                    "could not check task {id} named by {field}: {}; the gateway may reject it",
                    with_causes(&error)
                ),
                rule,
            )),
        }
        if !reference.models.is_empty() {
            let models = reference.models.join(", ");
            match model.flatten() {
                Some(made_by) if reference.models.contains(&made_by) => {}
                Some(made_by) => findings.push(Finding::error(
                    path,
                    format!(
                        "{field} names task {id}, made by {made_by}; it must be a task of {models}{wanted}"
                    ),
                    rule,
                )),
                None => findings.push(Finding::warning(
                    path,
                    format!(
                        "could not confirm which model made task {id} named by {field}; it must be a task of {models}, or the gateway may reject it"
                    ),
                    rule,
                )),
            }
        }
        findings
    }
}

/// The total of `Content-Range: bytes 0-65535/12345` (`None` for `/*`).
pub(crate) fn range_total(value: &str) -> Option<u64> {
    value.rsplit_once('/')?.1.trim().parse().ok()
}

/// How a URL value of a request is read, by its scheme as the URL parser
/// reads it (any case; `http:/x` is `http://x/` to it, as to reqwest).
pub(crate) enum Remote {
    /// A `data:` URL: decoded in place.
    Data,
    /// An `http:` or `https:` URL with a host: fetched.
    Http(url::Url),
    /// Anything else, or no URL at all.
    Other,
}

/// Classifies `text` by its parsed scheme.
pub(crate) fn remote(text: &str) -> Remote {
    match url::Url::parse(text) {
        Ok(url) if url.scheme() == "data" => Remote::Data,
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Remote::Http(url)
        }
        _ => Remote::Other,
    }
}

/// The bytes of a `data:[<type>];base64,<data>` URL and their count.
pub(crate) fn decode_data_url(url: &str) -> Result<(Vec<u8>, Option<u64>), String> {
    let rest = match url.split_once(':') {
        Some((scheme, rest)) if scheme.trim().eq_ignore_ascii_case("data") => rest,
        _ => url,
    };
    let (meta, data) = rest
        .split_once(',')
        .ok_or_else(|| "the data: URL has no comma before its data".to_owned())?;
    if !meta
        .split(';')
        .any(|part| part.trim().eq_ignore_ascii_case("base64"))
    {
        return Err("the data: URL is not base64-encoded".to_owned());
    }
    let bytes = decode_base64(data)?;
    let len = bytes.len() as u64;
    Ok((bytes, Some(len)))
}

/// Decodes base64 (standard or URL-safe alphabet; padding optional;
/// whitespace ignored) with the `base64` crate's engine: whitespace is
/// dropped and the URL-safe letters read as the standard ones first.
fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    use base64::alphabet::STANDARD;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let standard: Vec<u8> = text
        .bytes()
        .filter(|byte| !byte.is_ascii_whitespace())
        .map(|byte| match byte {
            b'-' => b'+',
            b'_' => b'/',
            other => other,
        })
        .collect();
    LENIENT
        .decode(&standard)
        .map_err(|error| format!("the data: URL is not valid base64 ({error})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(decode_base64("aGVsbG8=").as_deref(), Ok(&b"hello"[..]));
        assert_eq!(decode_base64("aGVsbG8").as_deref(), Ok(&b"hello"[..]));
        assert_eq!(decode_base64("aGVs\nbG8h").as_deref(), Ok(&b"hello!"[..]));
        assert_eq!(decode_base64("").as_deref(), Ok(&b""[..]));
        assert_eq!(
            decode_base64("-_-_").as_deref(),
            Ok(&[0xFB, 0xFF, 0xBF][..])
        );
        assert!(decode_base64("aGVsbG8*").is_err());
        assert!(decode_base64("aG=Vs").is_err());
        assert!(decode_base64("aGVsb").is_err());
    }

    #[test]
    fn data_urls_must_be_base64() {
        let (bytes, len) = decode_data_url("data:image/png;base64,iVBORw0KGgo=").expect("decodes");
        assert_eq!(bytes, b"\x89PNG\r\n\x1a\n");
        assert_eq!(len, Some(8));
        assert!(decode_data_url("data:image/png,%89PNG").is_err());
        assert!(decode_data_url("data:image/png;base64").is_err());
    }

    #[test]
    fn content_range_gives_the_total() {
        assert_eq!(range_total("bytes 0-65535/12345678"), Some(12_345_678));
        assert_eq!(range_total("bytes 0-65535/*"), None);
        assert_eq!(range_total("garbage"), None);
    }

    #[test]
    fn query_strings_are_not_shown() {
        assert_eq!(
            shown_url("https://cdn.example/a.png?X-Amz-Signature=secret"),
            "https://cdn.example/a.png?…"
        );
        assert_eq!(
            shown_url("https://cdn.example/a.png"),
            "https://cdn.example/a.png"
        );
    }

    #[test]
    fn a_urls_user_name_and_password_are_never_shown() {
        for url in [
            "https://user:hunter2@cdn.example/a.png",
            "HTTPS://user:hunter2@cdn.example/a.png?sig=1",
            "https://user:hunter2@/a.png",
            "ftp://user:hunter2@cdn.example/a.png",
        ] {
            let shown = shown_url(url);
            assert!(!shown.contains("hunter2"), "{url} → {shown}");
            assert!(!shown.contains("user"), "{url} → {shown}");
        }
        assert_eq!(
            shown_url("https://user:hunter2@cdn.example/a.png"),
            "https://cdn.example/a.png"
        );
    }

    #[test]
    fn urls_are_classified_by_their_parsed_scheme_in_any_case() {
        assert!(matches!(
            remote("HTTPS://cdn.example/a.png"),
            Remote::Http(_)
        ));
        assert!(matches!(
            remote("Http://cdn.example/a.png"),
            Remote::Http(_)
        ));
        assert!(matches!(remote("http:/cdn.example/a.png"), Remote::Http(_)));
        assert!(matches!(remote("DATA:image/png;base64,iVBO"), Remote::Data));
        assert!(matches!(remote("data:,x"), Remote::Data));
        for other in [
            "ftp://cdn.example/a.png",
            "file:///etc/passwd",
            "a.png",
            "http://",
        ] {
            assert!(matches!(remote(other), Remote::Other), "{other}");
        }
    }

    #[test]
    fn a_data_url_is_read_whatever_the_case_of_its_scheme() {
        let (bytes, _) = decode_data_url("DATA:image/png;BASE64,iVBORw0KGgo=").expect("decodes");
        assert_eq!(bytes, b"\x89PNG\r\n\x1a\n");
    }
}
