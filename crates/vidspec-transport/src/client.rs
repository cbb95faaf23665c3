//! The HTTP client: one request, its answer classified into a typed error, and
//! the three calls built on that — submit (never resent once it may have
//! arrived), poll one task (retried), upload an image.
//!
//! Owns the API key (never printed: its `Debug` is redacted, it is checked
//! before anything is sent, and it is redacted from every gateway text), the
//! base URL (judged by the URL parser reqwest itself uses), the one function
//! that builds every request carrying the key (`keyed_request`: the URL joined
//! through the `Url` API and refused unless it stays on the base URL's scheme,
//! host and port), the proxy decision, the request-rate cap and answer size
//! cap. Waiting and downloading live in `wait` and `download`; they must never
//! send the key.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde::Serialize;
use serde_json::Value;
use url::{Host, Url};
use vidspec_core::Plan;
use vidspec_core::lint::{TASK_ID_PLACEHOLDER, gateway_path_problem};

use crate::error::{ConfigError, Error, Operation, error_body};
use crate::handle::TaskHandle;
use crate::limit::RateLimiter;
use crate::read::{TaskSnapshot, snapshot, submitted_task_id};
use crate::redact::Redactor;
use crate::retry::{Backoff, with_retries, with_retries_reporting};
use crate::wait::{PollClock, millis};
use crate::watch::Retry;
use tracing::Instrument;

/// The default base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.apimart.ai";

/// The path of the image upload endpoint.
const UPLOAD_PATH: &str = "/v1/uploads/images";

/// An API key. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key as it is; `Client::new` refuses it if `ApiKey::parse` would.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// A key that can be sent as it is: not empty, no whitespace around or in
    /// it (a `.env` file saved on Windows leaves a carriage return at the end),
    /// no `Bearer ` prefix, only visible ASCII characters.
    pub fn parse(key: &str) -> Result<ApiKey, KeyError> {
        key_problem(key).map_or_else(|| Ok(ApiKey(key.to_owned())), Err)
    }

    /// The `Authorization` header value, marked sensitive.
    fn authorization(&self) -> Result<HeaderValue, KeyError> {
        if let Some(problem) = key_problem(&self.0) {
            return Err(problem);
        }
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.0))
            .map_err(|_| KeyError::NotAHeaderValue)?;
        value.set_sensitive(true);
        Ok(value)
    }
}

/// Why an API key cannot be sent. The messages never show the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Nothing, or only whitespace.
    #[error("the API key is empty: set it to the key from the console")]
    Empty,
    /// Whitespace before the key.
    #[error("the API key starts with {what}: remove it (a key has no whitespace)")]
    LeadingWhitespace {
        /// The character, named (`a space (U+0020)`).
        what: String,
    },
    /// Whitespace after the key, such as a Windows line ending.
    #[error("the API key ends with {what}{}: remove it (a key has no whitespace)", if .what.contains("U+000D") { ", as a line of a file saved with Windows line endings does" } else { "" })]
    TrailingWhitespace {
        /// The character, named (`a carriage return (U+000D)`).
        what: String,
    },
    /// The whole `Authorization` value was given.
    #[error(
        "the API key starts with \"Bearer \": give only the key; the word is added when it is sent"
    )]
    BearerPrefix,
    /// A character no key holds.
    #[error(
        "the API key holds {what} at character {position}: a key is visible ASCII characters only; copy it again"
    )]
    InvalidCharacter {
        /// The character, named by code point (never the key's own characters).
        what: String,
        /// 1-based position in the key.
        position: usize,
    },
    /// Not sendable as an HTTP header value.
    #[error("the API key cannot be sent as an HTTP header value: copy it again")]
    NotAHeaderValue,
}

/// What is wrong with `key`, if anything.
fn key_problem(key: &str) -> Option<KeyError> {
    let Some(first) = key.chars().next() else {
        return Some(KeyError::Empty);
    };
    if key.trim().is_empty() {
        return Some(KeyError::Empty);
    }
    if key
        .get(.."bearer ".len())
        .is_some_and(|head| head.eq_ignore_ascii_case("bearer "))
        && key.trim_end().len() > "bearer".len()
    {
        return Some(KeyError::BearerPrefix);
    }
    if first.is_whitespace() {
        return Some(KeyError::LeadingWhitespace {
            what: character_name(first),
        });
    }
    if let Some(last) = key.chars().next_back().filter(|last| last.is_whitespace()) {
        return Some(KeyError::TrailingWhitespace {
            what: character_name(last),
        });
    }
    key.chars()
        .enumerate()
        .find(|(_, character)| !character.is_ascii_graphic())
        .map(|(index, character)| KeyError::InvalidCharacter {
            what: character_name(character),
            position: index + 1,
        })
}

/// A character named for a message about a key: its code point, and a word
/// for the usual suspects. Only ever called on characters no key holds.
fn character_name(character: char) -> String {
    let word = match character {
        ' ' => "a space ",
        '\r' => "a carriage return ",
        '\n' => "a line feed ",
        '\t' => "a tab ",
        '\u{a0}' => "a no-break space ",
        '\u{200b}' => "a zero-width space ",
        '\u{feff}' => "a byte-order mark ",
        _ => "",
    };
    if word.is_empty() {
        format!("U+{:04X}", u32::from(character))
    } else {
        format!("{word}(U+{:04X})", u32::from(character))
    }
}

/// Why a base URL cannot be used. The messages never show a user name or
/// password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BaseUrlError {
    /// The URL parser refused it.
    #[error("base URL {shown} is not a URL: give one such as {DEFAULT_BASE_URL}")]
    Unparsable {
        /// The text, quoted and escaped, without what looks like a user
        /// name, password or query.
        shown: String,
        /// The parser's reason.
        #[source]
        source: url::ParseError,
    },
    /// Not `https://` (nor `http://`).
    #[error("base URL {shown} must start with https:// (or http:// for a gateway on this machine)")]
    Scheme {
        /// The URL without user name or password.
        shown: String,
    },
    /// A user name or password (`user:pass@host`).
    #[error(
        "base URL {shown} holds a user name or password before @: remove it (the API key is sent as a header, and a user part can disguise the host)"
    )]
    UserInfo {
        /// The URL without user name or password.
        shown: String,
    },
    /// A query or fragment.
    #[error(
        "base URL {shown} holds a query or fragment (? or #): remove it (paths are joined below the base URL)"
    )]
    QueryOrFragment {
        /// The URL without user name or password.
        shown: String,
    },
    /// Plain http to another machine.
    #[error(
        "base URL {shown} is plain http to {host}, which is not this machine: the API key would travel unencrypted; use https://, or allow insecure http (`ClientOptions::allow_insecure_http`) if you must"
    )]
    PlainHttpOffMachine {
        /// The URL without user name or password.
        shown: String,
        /// The host as the URL parser reads it.
        host: String,
    },
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
    /// Resend schedule of submits with an idempotency key
    /// (`Client::submit_idempotent`): attempts in all and the delays between
    /// them, `Retry-After` honoured up to its `max_retry_after`. The default
    /// makes at most 8 attempts over at most about 4 minutes.
    pub idempotent_resend: Backoff,
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
            idempotent_resend: Backoff {
                base: Duration::from_secs(1),
                cap: Duration::from_secs(30),
                max_attempts: 8,
                max_retry_after: Duration::from_secs(30),
            },
            max_answer_bytes: 4 * 1024 * 1024,
            max_download_bytes: 2 * 1024 * 1024 * 1024,
            allow_insecure_http: false,
            max_in_flight: 32,
        }
    }
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
    /// How waits read spec and gateway durations (real time unless a
    /// simulator's speed was set with `with_poll_clock`).
    clock: PollClock,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    /// The parsed base URL every keyed request is joined below.
    base: Url,
    /// `Bearer <key>`, marked sensitive (its `Debug` hides it).
    authorization: HeaderValue,
    /// Takes the key (and any bearer token) out of gateway text.
    redactor: Redactor,
    options: ClientOptions,
    limiter: RateLimiter,
    in_flight: tokio::sync::Semaphore,
}

/// An answer read in full (up to the cap).
pub(crate) struct Answer {
    /// The call it answers, which its errors carry.
    pub operation: Operation,
    pub status: u16,
    pub body: Vec<u8>,
    pub request_id: Option<String>,
    pub retry_after: Option<Duration>,
}

impl Client {
    /// A client for `api_key` with `options`, on an HTTP client of its own:
    /// a 10-second connect timeout, `vidspec/<version>` as user agent, a
    /// connection pool sized by `max_in_flight`, and proxies from the
    /// environment only for a base URL off this machine.
    pub fn new(api_key: ApiKey, options: ClientOptions) -> Result<Client, Error> {
        let base = parse_base_url(&options.base_url, options.allow_insecure_http)
            .map_err(ConfigError::BaseUrl)?;
        // No total timeout on the shared client: API requests set their own
        // (`exchange`), and downloads use an idle timeout (`download`).
        let builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("vidspec/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(options.max_in_flight.max(1));
        let builder = if proxies_allowed(&base) {
            builder
        } else {
            builder.no_proxy()
        };
        let http = builder.build().map_err(ConfigError::HttpClient)?;
        Client::assemble(api_key, options, base, http)
    }

    /// A client for `api_key` with `options` that sends everything through
    /// the caller's own `http` client (its proxies, root certificates, DNS,
    /// connection pool). The base URL and key are checked as by `new`.
    ///
    /// What the caller's client must and must not have:
    /// - **Redirects**: any policy is safe for the key. reqwest itself drops
    ///   the `Authorization` header whenever a redirect changes the scheme,
    ///   host or port, whatever the policy (`redirect::Policy::none()` stops
    ///   at the 3xx, which is then read as a rejected request).
    /// - **No credentials in `default_headers`**: downloads of result videos
    ///   go through the same client to other hosts, so a default
    ///   `Authorization` or cookie would travel with them. (The key of this
    ///   client is set per request on gateway requests only.)
    /// - **No total `timeout`**, or a long one: API requests set
    ///   `ClientOptions::timeout` each, and downloads end on
    ///   `DownloadOptions::idle_timeout`; a short total timeout on the client
    ///   would cut off a large video that is still arriving.
    /// - **Proxies are the caller's**: `new` ignores environment proxies for
    ///   a base URL on this machine; here the caller's proxy settings apply
    ///   as built. With plain `http://` a proxy reads the key; with
    ///   `https://` it sees only a CONNECT tunnel.
    ///
    /// ```no_run
    /// use vidspec_transport::{ApiKey, Client, ClientOptions};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let http = reqwest::Client::builder()
    ///     .proxy(reqwest::Proxy::https("http://proxy.internal:3128")?)
    ///     .build()?;
    /// let client = Client::with_http(ApiKey::parse("sk-…")?, ClientOptions::default(), http)?;
    /// # let _ = client;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_http(
        api_key: ApiKey,
        options: ClientOptions,
        http: reqwest::Client,
    ) -> Result<Client, Error> {
        let base = parse_base_url(&options.base_url, options.allow_insecure_http)
            .map_err(ConfigError::BaseUrl)?;
        Client::assemble(api_key, options, base, http)
    }

    fn assemble(
        api_key: ApiKey,
        options: ClientOptions,
        base: Url,
        http: reqwest::Client,
    ) -> Result<Client, Error> {
        let authorization = api_key.authorization().map_err(ConfigError::ApiKey)?;
        let limiter = RateLimiter::new(options.requests_per_second);
        let mut options = options;
        options.base_url = base.as_str().trim_end_matches('/').to_owned();
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                authorization,
                redactor: Redactor::new(&api_key.0),
                in_flight: tokio::sync::Semaphore::new(options.max_in_flight.max(1)),
                options,
                limiter,
            }),
            clock: PollClock::REAL,
        })
    }

    /// A client from `APIMART_API_KEY` and `APIMART_BASE_URL` (default
    /// `https://api.apimart.ai`).
    pub fn from_env() -> Result<Client, Error> {
        const VARIABLE: &str = "APIMART_API_KEY";
        let key = std::env::var(VARIABLE).map_err(|_| ConfigError::MissingEnvironment {
            variable: VARIABLE.to_owned(),
        })?;
        let key = ApiKey::parse(&key).map_err(|source| ConfigError::ApiKeyFromEnvironment {
            variable: VARIABLE.to_owned(),
            source,
        })?;
        let base_url =
            std::env::var("APIMART_BASE_URL").unwrap_or_else(|_| DEFAULT_BASE_URL.to_owned());
        Client::new(
            key,
            ClientOptions {
                base_url,
                ..ClientOptions::default()
            },
        )
    }

    /// This client, its waits reading the spec's poll hints and the
    /// gateway's estimates on `clock`: a test/simulator hook for a gateway
    /// that runs faster than real time (`vidspec sim --speed N`); production
    /// code keeps the default, real time. The copy shares the original's
    /// connections and rate cap.
    ///
    /// ```
    /// use vidspec_transport::{ApiKey, Client, ClientOptions, PollClock};
    ///
    /// let options = ClientOptions {
    ///     base_url: "http://127.0.0.1:8080".into(),
    ///     ..ClientOptions::default()
    /// };
    /// let client = Client::new(ApiKey::new("sim-key"), options).unwrap();
    /// let fast = client.with_poll_clock(PollClock::simulated(50.0));
    /// assert_eq!(fast.poll_clock().speed(), 50.0);
    /// ```
    pub fn with_poll_clock(&self, clock: PollClock) -> Client {
        Client {
            inner: Arc::clone(&self.inner),
            clock,
        }
    }

    /// The clock waits read durations on (`PollClock::REAL` unless set).
    pub fn poll_clock(&self) -> PollClock {
        self.clock
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

    /// The redactor of gateway text (the key out of every answer).
    pub(crate) fn redactor(&self) -> &Redactor {
        &self.inner.redactor
    }

    /// Sends a plan's body. Resent only when it provably did not arrive
    /// (connection failed) or was answered 429; never after a timeout, a reset
    /// or a 5xx, since the task may exist and be charged.
    pub async fn submit(&self, plan: &Plan) -> Result<TaskHandle, Error> {
        let span = tracing::info_span!(
            "submit",
            model = %plan.model(),
            path = %plan.endpoint().path,
            task_id = tracing::field::Empty
        );
        let handle = self.submit_in_span(plan).instrument(span.clone()).await;
        if let Ok(handle) = &handle {
            span.record("task_id", handle.id.as_str());
            let _entered = span.enter();
            tracing::info!("submitted");
        }
        handle
    }

    async fn submit_in_span(&self, plan: &Plan) -> Result<TaskHandle, Error> {
        let method =
            reqwest::Method::from_bytes(plan.endpoint().method.as_bytes()).map_err(|_| {
                ConfigError::Method {
                    method: plan.endpoint().method.clone(),
                }
            })?;
        // `is_retryable` knows a submit: only a 429 or a connection that
        // could not be made is tried again.
        with_retries(
            &self.inner.options.submit_backoff,
            Error::is_retryable,
            || async {
                let request = self
                    .keyed_request(method.clone(), &plan.endpoint().path, None)?
                    .json(&plan.body());
                let (body, request_id) =
                    self.classify(self.exchange(request, Operation::Submit).await?, None)?;
                let id =
                    submitted_task_id(plan.task(), &body).ok_or_else(|| Error::Undecodable {
                        operation: Operation::Submit,
                        status: 200,
                        reason: "the submit answer holds no task id where the spec says".to_owned(),
                        excerpt: self.inner.redactor.excerpt(body.to_string().as_bytes()),
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
        self.poll(handle, Operation::Poll, &mut |_| {}).await
    }

    /// Polls a task once for `operation` (a poll, or a pre-flight check of
    /// a task a request names), which its errors carry, telling `on_retry`
    /// of each retry. Runs in a `poll` span.
    pub(crate) async fn poll(
        &self,
        handle: &TaskHandle,
        operation: Operation,
        on_retry: &mut (dyn FnMut(Retry) + Send),
    ) -> Result<TaskSnapshot, Error> {
        let span = tracing::debug_span!("poll", task_id = %handle.id);
        with_retries_reporting(
            &self.inner.options.poll_backoff,
            Error::is_retryable,
            on_retry,
            || async {
                let request = self.keyed_request(
                    reqwest::Method::GET,
                    &handle.task.poll_path,
                    Some(&handle.id),
                )?;
                let (body, request_id) =
                    self.classify(self.exchange(request, operation).await?, Some(&handle.id))?;
                Ok(snapshot(&handle.task, &handle.id, &body, request_id))
            },
        )
        .instrument(span)
        .await
    }

    /// Uploads a local image (`POST /v1/uploads/images`) and returns its URL.
    /// The file must be a regular file of at most `MAX_UPLOAD_BYTES`, a JPEG,
    /// PNG, WebP or GIF by its bytes (the checks `upload_image_bytes` makes).
    pub async fn upload_image(&self, path: &Path) -> Result<Upload, Error> {
        let bytes = crate::image::load_local_image(path)
            .await
            .map_err(|source| Error::LocalImage {
                path: path.to_owned(),
                source,
            })?;
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("image")
            .to_owned();
        let mime = upload_type(&bytes, path)?;
        self.upload(bytes, name, mime).await
    }

    /// Uploads an image held in memory, under `file_name` (only its last
    /// path component is sent), with the checks of `upload_image`: at most
    /// `MAX_UPLOAD_BYTES`, a JPEG, PNG, WebP or GIF by its bytes. A refused
    /// image is `Error::LocalImage` (too large) or `Error::Io` (not an image
    /// the endpoint takes) naming `file_name`, and nothing is sent.
    ///
    /// ```no_run
    /// # async fn example(client: &vidspec_transport::Client) -> Result<(), vidspec_transport::Error> {
    /// let png: Vec<u8> = std::fs::read("frame.png").unwrap_or_default();
    /// let upload = client.upload_image_bytes(png, "frame.png").await?;
    /// println!("{}", upload.url);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn upload_image_bytes(
        &self,
        bytes: impl Into<Vec<u8>>,
        file_name: &str,
    ) -> Result<Upload, Error> {
        let bytes = bytes.into();
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > crate::image::MAX_UPLOAD_BYTES {
            return Err(Error::LocalImage {
                path: PathBuf::from(file_name),
                source: crate::image::LocalImageError::TooLarge,
            });
        }
        let mime = upload_type(&bytes, Path::new(file_name))?;
        let name = Path::new(file_name)
            .file_name()
            .and_then(|name| name.to_str())
            .filter(|name| !name.is_empty())
            .unwrap_or("image")
            .to_owned();
        self.upload(bytes, name, mime).await
    }

    /// Sends checked image bytes to the upload endpoint (retried as polls are).
    async fn upload(
        &self,
        bytes: Vec<u8>,
        name: String,
        mime: &'static str,
    ) -> Result<Upload, Error> {
        let span = tracing::info_span!("upload", bytes = bytes.len(), mime);
        let upload = self
            .upload_in_span(bytes, name, mime)
            .instrument(span.clone())
            .await;
        if upload.is_ok() {
            let _entered = span.enter();
            tracing::info!("uploaded");
        }
        upload
    }

    async fn upload_in_span(
        &self,
        bytes: Vec<u8>,
        name: String,
        mime: &'static str,
    ) -> Result<Upload, Error> {
        with_retries(
            &self.inner.options.poll_backoff,
            Error::is_retryable,
            || async {
                let part = reqwest::multipart::Part::bytes(bytes.clone())
                    .file_name(name.clone())
                    .mime_str(mime)
                    .map_err(ConfigError::Request)?;
                let form = reqwest::multipart::Form::new().part("file", part);
                let request = self
                    .keyed_request(reqwest::Method::POST, UPLOAD_PATH, None)?
                    .multipart(form);
                let (body, request_id) =
                    self.classify(self.exchange(request, Operation::Upload).await?, None)?;
                let url =
                    body.get("url")
                        .and_then(Value::as_str)
                        .ok_or_else(|| Error::Undecodable {
                            operation: Operation::Upload,
                            status: 200,
                            reason: "the upload answer has no url".to_owned(),
                            excerpt: self.inner.redactor.excerpt(body.to_string().as_bytes()),
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

    /// Builds every request that carries the API key: `path` (a spec path,
    /// `{task_id}` replaced by `task_id` inside one segment) joined below the
    /// parsed base URL through the `Url` API, refused unless the result keeps
    /// the base URL's scheme, host and port. Nothing else sets `Authorization`.
    pub(crate) fn keyed_request(
        &self,
        method: reqwest::Method,
        path: &str,
        task_id: Option<&str>,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let url = gateway_url(&self.inner.base, path, task_id)
            .map_err(|problem| ConfigError::Path { problem })?;
        Ok(self
            .inner
            .http
            .request(method, url)
            .header(AUTHORIZATION, self.inner.authorization.clone()))
    }

    /// Sends one request for `operation` and reads the whole answer (up to
    /// the cap); the answer is classified by the caller.
    pub(crate) async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
        operation: Operation,
    ) -> Result<Answer, Error> {
        let _slot = self
            .inner
            .in_flight
            .acquire()
            .await
            .map_err(|_| ConfigError::ShutDown)?;
        self.inner.limiter.acquire().await;
        let redactor = &self.inner.redactor;
        let sent = tokio::time::Instant::now();
        let mut response = request
            .timeout(self.inner.options.timeout)
            .send()
            .await
            .map_err(|error| {
                let error = network_error(error, operation);
                tracing::warn!(
                    elapsed_ms = millis(sent.elapsed()),
                    error = %error,
                    "HTTP attempt got no answer"
                );
                error
            })?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let request_id = header("x-oneapi-request-id").map(|id| redactor.text(&id));
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
                            operation,
                            status,
                            reason: format!("the answer is larger than {cap} bytes"),
                            excerpt: redactor.excerpt(&body),
                            request_id,
                        });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(error) => {
                    let error = network_error(error, operation);
                    tracing::warn!(status, error = %error, "HTTP attempt's answer broke off");
                    return Err(error);
                }
            }
        }
        tracing::debug!(
            status,
            bytes = body.len(),
            elapsed_ms = millis(sent.elapsed()),
            request_id = request_id.as_deref(),
            retry_after_ms = retry_after.map(millis),
            "HTTP attempt answered"
        );
        Ok(Answer {
            operation,
            status,
            body,
            request_id,
            retry_after,
        })
    }
}

/// The base URL judged by the URL parser reqwest itself uses: http(s) only,
/// no user name or password, no query or fragment, and plain http only to
/// this machine unless `allow_insecure_http`.
pub(crate) fn parse_base_url(text: &str, allow_insecure_http: bool) -> Result<Url, BaseUrlError> {
    let url = Url::parse(text).map_err(|source| BaseUrlError::Unparsable {
        shown: format!("{:?}", crate::error::shown_url(text)),
        source,
    })?;
    let mut shown = url.clone();
    // Both only fail on URLs without a host, which have no password to hide.
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    // A query may carry a token: it is cut, as everywhere (`shown_url`).
    let cut = shown.query().is_some() || shown.fragment().is_some();
    shown.set_query(None);
    shown.set_fragment(None);
    let shown = if cut {
        format!("{shown}?…")
    } else {
        shown.to_string()
    };
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
        return Err(BaseUrlError::Scheme { shown });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(BaseUrlError::UserInfo { shown });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(BaseUrlError::QueryOrFragment { shown });
    }
    if url.scheme() == "http" && !is_loopback_host(&url) && !allow_insecure_http {
        return Err(BaseUrlError::PlainHttpOffMachine {
            host: url.host_str().unwrap_or_default().to_owned(),
            shown,
        });
    }
    Ok(url)
}

/// Whether the parsed host is this machine: `localhost`, or an IP address
/// that is loopback (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104). `localhost.`
/// and other spellings are not: they go to a resolver.
fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain == "localhost",
        Some(Host::Ipv4(address)) => address.is_loopback(),
        Some(Host::Ipv6(address)) => {
            address.is_loopback()
                || address
                    .to_ipv4_mapped()
                    .is_some_and(|address| address.is_loopback())
        }
        None => false,
    }
}

/// Whether requests may go through a proxy from the environment (`HTTP_PROXY`,
/// `ALL_PROXY`, …): never for a base URL on this machine. A proxy elsewhere
/// cannot reach this machine's loopback anyway, and with plain http it would
/// read the key. (An https base URL through a proxy is a CONNECT tunnel: the
/// key stays inside TLS.)
pub(crate) fn proxies_allowed(base: &Url) -> bool {
    !is_loopback_host(base)
}

/// `base` with the segments of the spec path `path` appended through the
/// `Url` API, `{task_id}` replaced by `task_id` inside its segment (so the id
/// is percent-encoded as part of one segment: `../x` or `a/b?c` cannot change
/// the path). Refused unless the result keeps the base URL's scheme, host and
/// port and has exactly one segment per segment of `path`.
pub(crate) fn gateway_url(base: &Url, path: &str, task_id: Option<&str>) -> Result<Url, String> {
    let placeholder = task_id.map(|_| TASK_ID_PLACEHOLDER);
    if let Some(problem) = gateway_path_problem(path, placeholder) {
        return Err(format!("the spec's path {path:?} {problem}: fix the spec"));
    }
    if let Some(id) = task_id
        && let Some(problem) = task_id_problem(id)
    {
        return Err(format!(
            "task id {id:?} {problem}: it cannot be put in a URL path"
        ));
    }
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|segment| match task_id {
            Some(id) => segment.replace(TASK_ID_PLACEHOLDER, id),
            None => segment.to_owned(),
        })
        .collect();
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|()| format!("the base URL {base} cannot have a path"))?
        .pop_if_empty()
        .extend(&segments);
    let kept = |url: &Url| url.path_segments().map_or(0, Iterator::count);
    // The base path's segments, but for the empty one a trailing `/` leaves
    // (`pop_if_empty` drops it before joining).
    let base_segments = base.path_segments().map_or(0, |found| {
        let found: Vec<&str> = found.collect();
        found.len() - usize::from(found.last() == Some(&""))
    });
    let same_place = url.scheme() == base.scheme()
        && url.host() == base.host()
        && url.port_or_known_default() == base.port_or_known_default()
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none()
        && kept(&url) == base_segments + segments.len();
    if same_place {
        Ok(url)
    } else {
        Err(format!(
            "the path {path:?} does not stay below the base URL {base}"
        ))
    }
}

/// What keeps a task id from being one path segment, if anything.
fn task_id_problem(id: &str) -> Option<&'static str> {
    if id.is_empty() {
        Some("is empty")
    } else if id == "." || id == ".." {
        Some("is a dot segment")
    } else if id
        .chars()
        .any(|character| character.is_control() || character.is_whitespace())
    {
        Some("holds whitespace or a control character")
    } else {
        None
    }
}

/// A network failure of `operation`: provably unsent (the request could not
/// be built, the connection could not be made) or possibly received. The
/// reqwest error is kept as the source without its URL; it never holds a
/// header, so never the key.
fn network_error(error: reqwest::Error, operation: Operation) -> Error {
    let source = error.without_url();
    if source.is_builder() {
        ConfigError::Request(source).into()
    } else if source.is_connect() {
        Error::Connect { operation, source }
    } else {
        Error::NoAnswer { operation, source }
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

impl Client {
    /// Reads an answer with the key redacted from every string in it.
    fn classify(
        &self,
        answer: Answer,
        task_id: Option<&str>,
    ) -> Result<(Value, Option<String>), Error> {
        classify(answer, task_id, &self.inner.redactor)
    }
}

/// Reads an answer: the JSON body of a 2xx, or the typed error. Every string
/// of the body (and any excerpt of it) is redacted first, so nothing the
/// gateway said leaves the transport with the key in it.
pub(crate) fn classify(
    answer: Answer,
    task_id: Option<&str>,
    redactor: &Redactor,
) -> Result<(Value, Option<String>), Error> {
    let Answer {
        operation,
        status,
        body,
        request_id,
        retry_after,
    } = answer;
    let mut parsed: Option<Value> = serde_json::from_slice(&body).ok();
    if let Some(value) = parsed.as_mut() {
        redactor.value(value);
    }
    let (code, message) = parsed.as_ref().map(error_body).unwrap_or((None, None));
    let message = message.unwrap_or_else(|| redactor.excerpt(&body));
    match status {
        200..=299 => parsed
            .map(|value| (value, request_id.clone()))
            .ok_or_else(|| Error::Undecodable {
                operation,
                status,
                reason: "the answer is not JSON".to_owned(),
                excerpt: redactor.excerpt(&body),
                request_id,
            }),
        401 => Err(Error::Unauthorized {
            operation,
            request_id,
        }),
        402 => Err(Error::PaymentRequired {
            operation,
            request_id,
        }),
        429 => Err(Error::RateLimited {
            operation,
            retry_after,
            request_id,
        }),
        404 if task_id.is_some() => Err(Error::TaskNotFound {
            operation,
            task_id: task_id.unwrap_or_default().to_owned(),
            request_id,
        }),
        400..=499 => Err(Error::Rejected {
            operation,
            status,
            code,
            message,
            request_id,
        }),
        500 if code.as_deref() == Some("build_request_failed")
            || message.contains("build_request_failed") =>
        {
            Err(Error::Rejected {
                operation,
                status,
                code,
                message,
                request_id,
            })
        }
        _ => Err(Error::Server {
            operation,
            status,
            message,
            request_id,
        }),
    }
}

/// The MIME type the upload endpoint is sent for `bytes`, or why it takes
/// none: the one type check of both uploads (from a path and from bytes).
fn upload_type(bytes: &[u8], path: &Path) -> Result<&'static str, Error> {
    image_mime(bytes).ok_or_else(|| Error::Io {
        operation: Operation::Upload,
        path: path.to_owned(),
        problem: "not a JPEG, PNG, WebP or GIF image (the upload endpoint takes only those)"
            .to_owned(),
        source: None,
    })
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
    fn a_key_from_a_windows_env_file_is_refused_with_a_message_naming_the_carriage_return() {
        let refused = ApiKey::parse("sk-secret-1\r");
        assert!(
            matches!(&refused, Err(KeyError::TrailingWhitespace { .. })),
            "{refused:?}"
        );
        let message = refused
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(message.contains("carriage return (U+000D)"), "{message}");
        assert!(message.contains("Windows"), "{message}");
        assert!(!message.contains("sk-secret"), "{message}");
    }

    #[test]
    fn keys_that_cannot_be_sent_as_they_are_are_refused_by_kind() {
        assert_eq!(ApiKey::parse("").err(), Some(KeyError::Empty));
        assert_eq!(ApiKey::parse(" \t").err(), Some(KeyError::Empty));
        assert_eq!(
            ApiKey::parse("Bearer sk-1").err(),
            Some(KeyError::BearerPrefix)
        );
        assert!(matches!(
            ApiKey::parse(" sk-1"),
            Err(KeyError::LeadingWhitespace { .. })
        ));
        assert_eq!(
            ApiKey::parse("sk-\u{200b}1").err(),
            Some(KeyError::InvalidCharacter {
                what: "a zero-width space (U+200B)".into(),
                position: 4
            })
        );
        assert_eq!(
            ApiKey::parse("sk\u{43a}\u{43b}ю").err(),
            Some(KeyError::InvalidCharacter {
                what: "U+043A".into(),
                position: 3
            })
        );
        assert!(matches!(
            ApiKey::parse("sk 1"),
            Err(KeyError::InvalidCharacter { position: 3, .. })
        ));
        assert!(ApiKey::parse("sk-0123456789abcdefABCDEF_~.!").is_ok());
    }

    fn base(text: &str) -> Url {
        parse_base_url(text, false).unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    #[test]
    fn gateway_paths_are_joined_below_the_base_path_one_segment_per_segment() {
        let joined = |base_url: &str, path: &str, id: Option<&str>| {
            gateway_url(&base(base_url), path, id).map(String::from)
        };
        assert_eq!(
            joined(
                "http://127.0.0.1:9/api/",
                "/v1/tasks/{task_id}",
                Some("t/1?x")
            ),
            Ok("http://127.0.0.1:9/api/v1/tasks/t%2F1%3Fx".to_owned())
        );
        assert_eq!(
            joined(
                "https://api.example.com",
                "/v1/mj/{task_id}:fetch",
                Some("42")
            ),
            Ok("https://api.example.com/v1/mj/42:fetch".to_owned())
        );
        assert_eq!(
            joined("http://127.0.0.1:9/a//b", "/v1/tasks/{task_id}", Some("1")),
            Ok("http://127.0.0.1:9/a//b/v1/tasks/1".to_owned())
        );
        assert_eq!(
            joined("https://api.example.com", UPLOAD_PATH, None),
            Ok("https://api.example.com/v1/uploads/images".to_owned())
        );
        for (path, id) in [
            ("@evil.example/v1/tasks/{task_id}", Some("1")),
            ("//evil.example/{task_id}", Some("1")),
            ("/v1/{task_id}", None),
            ("/v1/../{task_id}", Some("1")),
            ("/v1/tasks/{task_id}", Some("..")),
            ("/v1/tasks/{task_id}", Some(".\n.")),
        ] {
            assert!(
                joined("https://api.example.com", path, id).is_err(),
                "{path} {id:?}"
            );
        }
    }

    #[test]
    fn only_a_base_url_off_this_machine_may_use_a_proxy_from_the_environment() {
        assert!(!proxies_allowed(&base("http://127.0.0.1:8080")));
        assert!(!proxies_allowed(&base("http://localhost:8080")));
        assert!(!proxies_allowed(&base("https://[::1]:8443")));
        assert!(proxies_allowed(&base("https://api.apimart.ai")));
        let insecure = parse_base_url("http://gateway.lan", true).expect("allowed");
        assert!(proxies_allowed(&insecure));
    }

    #[test]
    fn an_unparsable_base_url_keeps_the_parsers_reason_and_shows_no_password() {
        let refused = parse_base_url("https://user:hunter2@[::1", false);
        let Err(error) = refused else {
            panic!("{refused:?} was accepted")
        };
        assert!(
            matches!(error, BaseUrlError::Unparsable { .. }),
            "{error:?}"
        );
        assert!(std::error::Error::source(&error).is_some());
        let message = crate::error::with_causes(&error);
        assert!(!message.contains("hunter2"), "{message}");
        assert!(!message.contains("user"), "{message}");
    }

    #[test]
    fn a_base_url_with_a_query_is_refused_without_showing_the_query() {
        let refused = parse_base_url("https://api.example.com/?token=s3cr3t", false);
        let Err(error) = refused else {
            panic!("{refused:?} was accepted")
        };
        assert!(
            matches!(error, BaseUrlError::QueryOrFragment { .. }),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(!message.contains("s3cr3t"), "{message}");
        assert!(message.contains("https://api.example.com/?…"), "{message}");
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
            operation: Operation::Poll,
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
            classify(answer(500, body), None, &Redactor::new("k")),
            Err(Error::Rejected { status: 500, .. })
        ));
    }

    #[test]
    fn a_plain_500_is_a_server_error() {
        let body =
            r#"{"error":{"code":500,"message":"Internal server error","type":"server_error"}}"#;
        assert!(matches!(
            classify(answer(500, body), None, &Redactor::new("k")),
            Err(Error::Server { .. })
        ));
    }

    #[test]
    fn malformed_json_is_undecodable_with_an_excerpt() {
        match classify(answer(200, "{\"code\":200,\"da"), None, &Redactor::new("k")) {
            Err(Error::Undecodable { excerpt, .. }) => assert!(excerpt.starts_with("{\"code\"")),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_refused_connection_keeps_its_source_and_shows_neither_url_nor_query() {
        // A closed port on loopback: nothing leaves this machine.
        let refused = match reqwest::Client::new()
            .get("http://127.0.0.1:1/v1/tasks/t1?signature=s3cr3t")
            .send()
            .await
        {
            Err(error) => error,
            Ok(response) => panic!("port 1 answered {}", response.status()),
        };
        let error = network_error(refused, Operation::Submit);
        assert!(
            matches!(
                error,
                Error::Connect {
                    operation: Operation::Submit,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.is_retryable());
        assert!(std::error::Error::source(&error).is_some());
        let message = crate::error::with_causes(&error);
        assert!(!message.contains("127.0.0.1:1/v1"), "{message}");
        let shown = format!("{message} {error:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }

    #[test]
    fn image_types_are_known_by_magic_bytes() {
        assert_eq!(image_mime(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_mime(b"%PDF-1.7"), None);
    }
}
