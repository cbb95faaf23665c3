//! The HTTP client: one request, its answer classified into a typed error, and
//! the three calls built on that — submit (never resent once it may have
//! arrived), poll one task (retried), upload an image.
//!
//! Owns the API key (never printed: its `Debug` is redacted, and it is sent only
//! to the base URL), the request-rate cap and answer size cap. Waiting and
//! downloading live in `wait` and `download`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use vidspec_core::Plan;
use vidspec_core::spec::Task;

use crate::error::{Error, error_body, excerpt};
use crate::limit::RateLimiter;
use crate::read::{TaskSnapshot, snapshot, submitted_task_id};
use crate::retry::{Backoff, with_retries};

/// The default base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.apimart.ai";

/// An API key. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Settings of a `Client`.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Base URL, e.g. `https://api.apimart.ai`.
    pub base_url: String,
    /// Cap on requests per second across all calls of the client (0 = none).
    /// The gateway's account limit is about 500 per minute.
    pub requests_per_second: f64,
    /// Total timeout of one API request (submit, poll, upload, pre-flight
    /// read), answer included. Downloads use `DownloadOptions::idle_timeout`.
    pub timeout: Duration,
    /// Retry schedule of polls and uploads.
    pub poll_backoff: Backoff,
    /// Retry schedule of submits (used only when a submit provably did not
    /// arrive, or was answered 429).
    pub submit_backoff: Backoff,
    /// Largest API answer read, in bytes.
    pub max_answer_bytes: usize,
    /// Largest video downloaded, in bytes.
    pub max_download_bytes: u64,
    /// Requests in flight at once across the client (waiting on thousands of
    /// tasks then holds a handful of connections, not thousands).
    pub max_in_flight: usize,
    /// Allow a plain `http://` base URL that is not on this machine (the key
    /// would cross the network unencrypted).
    pub allow_insecure_http: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            base_url: DEFAULT_BASE_URL.to_owned(),
            requests_per_second: 7.0,
            timeout: Duration::from_secs(60),
            poll_backoff: Backoff::default(),
            submit_backoff: Backoff::default(),
            max_answer_bytes: 4 * 1024 * 1024,
            max_download_bytes: 2 * 1024 * 1024 * 1024,
            allow_insecure_http: false,
            max_in_flight: 32,
        }
    }
}

/// A submitted task: its id and how to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskHandle {
    /// Task id.
    pub id: String,
    /// Model id.
    pub model: String,
    /// The spec's task section (poll path, pointers, statuses).
    pub task: Arc<Task>,
    /// `X-Oneapi-Request-Id` of the submit answer.
    pub request_id: Option<String>,
}

/// An uploaded image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Upload {
    /// The URL a model accepts (kept 72 h by the gateway).
    pub url: String,
    /// Size in bytes.
    pub bytes: Option<u64>,
}

/// Talks to the gateway. Cheap to clone; clones share the rate cap.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    key: ApiKey,
    options: ClientOptions,
    limiter: RateLimiter,
    in_flight: tokio::sync::Semaphore,
}

/// An answer read in full (up to the cap).
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    pub request_id: Option<String>,
    pub retry_after: Option<Duration>,
}

impl Client {
    /// A client for `api_key` with `options`.
    pub fn new(api_key: ApiKey, options: ClientOptions) -> Result<Client, Error> {
        let base = options.base_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(Error::Config(format!(
                "base URL {base} must start with https:// (or http:// for a local simulator)"
            )));
        }
        if base.starts_with("http://") && !is_loopback(&base) && !options.allow_insecure_http {
            return Err(Error::Config(format!(
                "base URL {base} is plain http on another machine: the API key would travel unencrypted; use https://, or pass --insecure if you must"
            )));
        }
        if api_key.0.trim().is_empty() {
            return Err(Error::Config(
                "the API key is empty: set APIMART_API_KEY".to_owned(),
            ));
        }
        // No total timeout on the shared client: API requests set their own
        // (`exchange`), and downloads use an idle timeout (`download`).
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("vidspec/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(options.max_in_flight.max(1))
            .build()
            .map_err(|error| Error::Config(format!("cannot build the HTTP client: {error}")))?;
        let limiter = RateLimiter::new(options.requests_per_second);
        let mut options = options;
        options.base_url = base;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                key: api_key,
                in_flight: tokio::sync::Semaphore::new(options.max_in_flight.max(1)),
                options,
                limiter,
            }),
        })
    }

    /// A client from `APIMART_API_KEY` and `APIMART_BASE_URL` (default
    /// `https://api.apimart.ai`).
    pub fn from_env() -> Result<Client, Error> {
        let key = std::env::var("APIMART_API_KEY").map_err(|_| {
            Error::Config("APIMART_API_KEY is not set: export your API key".to_owned())
        })?;
        let base_url =
            std::env::var("APIMART_BASE_URL").unwrap_or_else(|_| DEFAULT_BASE_URL.to_owned());
        Client::new(
            ApiKey::new(key),
            ClientOptions {
                base_url,
                ..ClientOptions::default()
            },
        )
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.inner.options.base_url
    }

    /// The options.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) fn limiter(&self) -> &RateLimiter {
        &self.inner.limiter
    }

    /// Sends a plan's body. Resent only when it provably did not arrive
    /// (connection failed) or was answered 429; never after a timeout, a reset
    /// or a 5xx, since the task may exist and be charged.
    pub async fn submit(&self, plan: &Plan) -> Result<TaskHandle, Error> {
        let url = format!("{}{}", self.base_url(), plan.endpoint().path);
        let method =
            reqwest::Method::from_bytes(plan.endpoint().method.as_bytes()).map_err(|_| {
                Error::Config(format!(
                    "the spec's method {} is not an HTTP method",
                    plan.endpoint().method
                ))
            })?;
        with_retries(
            &self.inner.options.submit_backoff,
            Error::is_safe_to_resubmit,
            || async {
                let request = self
                    .inner
                    .http
                    .request(method.clone(), &url)
                    .bearer_auth(&self.inner.key.0)
                    .json(&plan.body());
                let (body, request_id) = classify(self.exchange(request, true).await?, None)?;
                let id =
                    submitted_task_id(plan.task(), &body).ok_or_else(|| Error::Undecodable {
                        status: 200,
                        reason: "the submit answer holds no task id where the spec says".to_owned(),
                        excerpt: excerpt(body.to_string().as_bytes()),
                        request_id: request_id.clone(),
                    })?;
                Ok(TaskHandle {
                    id,
                    model: plan.model().to_owned(),
                    task: Arc::clone(plan.task()),
                    request_id,
                })
            },
        )
        .await
    }

    /// Prepares `request` for `model` and submits it; an invalid request is
    /// `Error::InvalidRequest` and is never sent.
    pub async fn submit_request(
        &self,
        model: &vidspec_core::Model,
        request: &Value,
    ) -> Result<TaskHandle, Error> {
        let plan = model
            .prepare(request.clone())
            .map_err(Error::InvalidRequest)?;
        self.submit(&plan).await
    }

    /// Polls a task once (retrying 429, 5xx, lost and undecodable answers with
    /// backoff; polls are free and idempotent).
    pub async fn task(&self, handle: &TaskHandle) -> Result<TaskSnapshot, Error> {
        let path = handle.task.poll_path.replace("{task_id}", &handle.id);
        let url = format!("{}{path}", self.base_url());
        with_retries(
            &self.inner.options.poll_backoff,
            Error::is_retryable,
            || async {
                let request = self.inner.http.get(&url).bearer_auth(&self.inner.key.0);
                let (body, request_id) =
                    classify(self.exchange(request, false).await?, Some(&handle.id))?;
                Ok(snapshot(&handle.task, &handle.id, &body, request_id))
            },
        )
        .await
    }

    /// Uploads a local image (`POST /v1/uploads/images`) and returns its URL.
    pub async fn upload_image(&self, path: &Path) -> Result<Upload, Error> {
        let bytes = tokio::fs::read(path).await.map_err(|error| Error::Io {
            path: path.display().to_string(),
            message: format!("cannot read the image: {error}"),
        })?;
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("image")
            .to_owned();
        let mime = image_mime(&bytes).ok_or_else(|| Error::Io {
            path: path.display().to_string(),
            message: "not a JPEG, PNG, WebP or GIF image (the upload endpoint takes only those)"
                .to_owned(),
        })?;
        let url = format!("{}/v1/uploads/images", self.base_url());
        with_retries(
            &self.inner.options.poll_backoff,
            Error::is_retryable,
            || async {
                let part = reqwest::multipart::Part::bytes(bytes.clone())
                    .file_name(name.clone())
                    .mime_str(mime)
                    .map_err(|error| Error::Config(format!("bad mime type: {error}")))?;
                let form = reqwest::multipart::Form::new().part("file", part);
                let request = self
                    .inner
                    .http
                    .post(&url)
                    .bearer_auth(&self.inner.key.0)
                    .multipart(form);
                let (body, request_id) = classify(self.exchange(request, false).await?, None)?;
                let url =
                    body.get("url")
                        .and_then(Value::as_str)
                        .ok_or_else(|| Error::Undecodable {
                            status: 200,
                            reason: "the upload answer has no url".to_owned(),
                            excerpt: excerpt(body.to_string().as_bytes()),
                            request_id,
                        })?;
                Ok(Upload {
                    url: url.to_owned(),
                    bytes: body.get("bytes").and_then(Value::as_u64),
                })
            },
        )
        .await
    }

    /// Sends one request and reads the whole answer (up to the cap).
    pub(crate) async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
        submitted: bool,
    ) -> Result<Answer, Error> {
        let _slot = self
            .inner
            .in_flight
            .acquire()
            .await
            .map_err(|_| Error::Config("the client was shut down".to_owned()))?;
        self.inner.limiter.acquire().await;
        let mut response = request
            .timeout(self.inner.options.timeout)
            .send()
            .await
            .map_err(|error| network_error(&error, submitted))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let request_id = header("x-oneapi-request-id");
        let retry_after = header("retry-after").and_then(|value| {
            crate::retry::parse_retry_after(&value, std::time::SystemTime::now())
        });
        let cap = self.inner.options.max_answer_bytes;
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > cap {
                        return Err(Error::Undecodable {
                            status,
                            reason: format!("the answer is larger than {cap} bytes"),
                            excerpt: excerpt(&body),
                            request_id,
                        });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(error) => return Err(network_error(&error, submitted)),
            }
        }
        Ok(Answer {
            status,
            body,
            request_id,
            retry_after,
        })
    }
}

/// Whether an `http://` URL points at this machine (127.0.0.0/8, ::1, localhost).
fn is_loopback(url: &str) -> bool {
    let rest = url.trim_start_matches("http://");
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// A network failure: provably unsent (connect) or possibly received.
fn network_error(error: &reqwest::Error, submitted: bool) -> Error {
    let message = without_url(error);
    if error.is_connect() {
        Error::Connect { message }
    } else {
        Error::NoAnswer { message, submitted }
    }
}

/// reqwest's message without the URL (URLs may carry signed query strings).
pub(crate) fn without_url(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    if let Some(url) = error.url() {
        message = message.replace(url.as_str(), "<url>");
    }
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        message.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    message
}

/// Reads an answer: the JSON body of a 2xx, or the typed error.
pub(crate) fn classify(
    answer: Answer,
    task_id: Option<&str>,
) -> Result<(Value, Option<String>), Error> {
    let Answer {
        status,
        body,
        request_id,
        retry_after,
    } = answer;
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let (code, message) = parsed.as_ref().map(error_body).unwrap_or((None, None));
    let message = message.unwrap_or_else(|| excerpt(&body));
    match status {
        200..=299 => parsed
            .map(|value| (value, request_id.clone()))
            .ok_or_else(|| Error::Undecodable {
                status,
                reason: "the answer is not JSON".to_owned(),
                excerpt: excerpt(&body),
                request_id,
            }),
        401 => Err(Error::Unauthorized { request_id }),
        402 => Err(Error::PaymentRequired { request_id }),
        429 => Err(Error::RateLimited {
            retry_after,
            request_id,
        }),
        404 if task_id.is_some() => Err(Error::TaskNotFound {
            task_id: task_id.unwrap_or_default().to_owned(),
            request_id,
        }),
        400..=499 => Err(Error::Rejected {
            status,
            code,
            message,
            request_id,
        }),
        500 if code.as_deref() == Some("build_request_failed")
            || message.contains("build_request_failed") =>
        {
            Err(Error::Rejected {
                status,
                code,
                message,
                request_id,
            })
        }
        _ => Err(Error::Server {
            status,
            message,
            request_id,
        }),
    }
}

/// The MIME type of an image by its magic bytes, for the formats the upload
/// endpoint takes.
pub fn image_mime(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_never_shows_in_debug() {
        let client =
            Client::new(ApiKey::new("sk-very-secret"), ClientOptions::default()).expect("client");
        let shown = format!("{client:?}");
        assert!(!shown.contains("sk-very-secret"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn plain_http_is_refused_off_this_machine_unless_allowed() {
        let http = |base: &str, allow: bool| {
            Client::new(
                ApiKey::new("k"),
                ClientOptions {
                    base_url: base.into(),
                    allow_insecure_http: allow,
                    ..ClientOptions::default()
                },
            )
        };
        assert!(matches!(
            http("http://api.example.com", false),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            http("http://127.0.0.1.evil.com:80", false),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            http("http://user@10.0.0.1:8080/v1", false),
            Err(Error::Config(_))
        ));
        assert!(http("http://api.example.com", true).is_ok());
        assert!(http("http://127.0.0.1:8080", false).is_ok());
        assert!(http("http://localhost:8080", false).is_ok());
        assert!(http("http://[::1]:8080", false).is_ok());
        assert!(http("https://api.example.com", false).is_ok());
    }

    #[test]
    fn a_base_url_without_scheme_is_refused() {
        let options = ClientOptions {
            base_url: "api.apimart.ai".into(),
            ..ClientOptions::default()
        };
        assert!(matches!(
            Client::new(ApiKey::new("k"), options),
            Err(Error::Config(_))
        ));
    }

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.as_bytes().to_vec(),
            request_id: Some("req-1".into()),
            retry_after: None,
        }
    }

    #[test]
    fn a_500_build_request_failed_is_a_rejection_not_a_server_error() {
        let body = r#"{"error":{"code":"build_request_failed","message":"build_request_failed: invalid size: 3:5","type":"server_error"}}"#;
        assert!(matches!(
            classify(answer(500, body), None),
            Err(Error::Rejected { status: 500, .. })
        ));
    }

    #[test]
    fn a_plain_500_is_a_server_error() {
        let body =
            r#"{"error":{"code":500,"message":"Internal server error","type":"server_error"}}"#;
        assert!(matches!(
            classify(answer(500, body), None),
            Err(Error::Server { .. })
        ));
    }

    #[test]
    fn malformed_json_is_undecodable_with_an_excerpt() {
        match classify(answer(200, "{\"code\":200,\"da"), None) {
            Err(Error::Undecodable { excerpt, .. }) => assert!(excerpt.starts_with("{\"code\"")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn image_types_are_known_by_magic_bytes() {
        assert_eq!(image_mime(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_mime(b"%PDF-1.7"), None);
    }
}
