//! Transport errors, sorted by what the caller should do next.
//!
//! Owns the error enums (`Error`, `ConfigError`, what a download found in
//! its way), `Operation` (which call produced an error) and the judgements
//! made from both — `is_retryable`, `is_safe_to_resubmit`,
//! `may_have_created_a_task`; the lenient reading of the gateway's error
//! bodies (`error.code` may be an integer, a string or `""`). Gateway text
//! reaches an error only through `redact::Redactor`.
//!
//! Messages are worded for any user of the library: they never name a
//! command, a flag or an environment variable the caller did not choose
//! (the CLI adds its own hints), never contain the API key, a request body,
//! a URL's user name or password, or a query string. Errors of the network
//! layer are kept as sources (`std::error::Error::source`), with the URL
//! taken out (`reqwest::Error::without_url`): reqwest's own message is the
//! one place a URL (with a signed query) could show, and its sources (hyper,
//! io, rustls) carry neither URLs nor headers. `with_causes` writes an error
//! and its sources on one line.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use vidspec_core::Diagnostics;

use crate::client::{BaseUrlError, KeyError};
use crate::idempotent::IdempotencyRefusal;
use crate::image::LocalImageError;
use crate::read::TaskSnapshot;

/// Which call of the client produced an error. It decides whether trying
/// the same call again may pay twice: only a submit creates a task, which
/// may be charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Sending a plan's body: it creates a task, which may be charged.
    Submit,
    /// Reading a task's state once (free, idempotent).
    Poll,
    /// Waiting for a task to end (polls until a deadline).
    Wait,
    /// Uploading a local image (nothing is charged).
    Upload,
    /// Downloading a task's results.
    Download,
    /// A check before sending: a referenced task, an image or video behind
    /// a URL.
    Preflight,
    /// Reading the account balance (free, idempotent).
    Balance,
}

impl Operation {
    /// Whether this call may create a task that is charged: a submit.
    pub fn may_create_a_paid_task(self) -> bool {
        matches!(self, Operation::Submit)
    }

    /// The call in words (`submit`, `pre-flight check`).
    pub fn words(self) -> &'static str {
        match self {
            Operation::Submit => "submit",
            Operation::Poll => "poll",
            Operation::Wait => "wait",
            Operation::Upload => "upload",
            Operation::Download => "download",
            Operation::Preflight => "pre-flight check",
            Operation::Balance => "balance check",
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.words())
    }
}

/// What went wrong talking to the gateway, and what to do about it.
///
/// Every variant that comes from a call says which (`Error::operation`), so
/// `is_retryable` can refuse whatever may have created a paid task. The
/// enum may grow: match it with a `_` arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request broke the spec; it was never sent.
    #[error("invalid request, not sent:\n{0}")]
    InvalidRequest(Diagnostics),
    /// No usable configuration (an API key or base URL that cannot be used,
    /// a spec path that leaves the base URL); nothing was sent.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// 401: the key is wrong or missing.
    #[error("the gateway refused the API key (401){}: check that the key is the one from the console", request_id_suffix(.request_id))]
    Unauthorized {
        /// The call answered so.
        operation: Operation,
        /// `X-Oneapi-Request-Id` of the answer.
        request_id: Option<String>,
    },
    /// 402: the balance is too low.
    #[error("the account balance is too low (402){}: top up, then submit again", request_id_suffix(.request_id))]
    PaymentRequired {
        /// The call answered so.
        operation: Operation,
        /// `X-Oneapi-Request-Id` of the answer.
        request_id: Option<String>,
    },
    /// 429: too many requests; the gateway did not process the request.
    #[error("rate limited (429){}{}: wait and retry, or lower the request rate", retry_after_words(.retry_after), request_id_suffix(.request_id))]
    RateLimited {
        /// The call answered so.
        operation: Operation,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
        /// `X-Oneapi-Request-Id` of the answer.
        request_id: Option<String>,
    },
    /// 400 (or 500 `build_request_failed`): the gateway rejected the parameters.
    #[error("the gateway rejected the request ({status}{}): {message}{}; fix the request (the spec may be out of date: report it)", code.as_ref().map(|code| format!(", {code}")).unwrap_or_default(), request_id_suffix(.request_id))]
    Rejected {
        /// The call answered so.
        operation: Operation,
        /// HTTP status.
        status: u16,
        /// Upstream error code.
        code: Option<String>,
        /// Upstream message.
        message: String,
        /// `X-Oneapi-Request-Id` of the answer.
        request_id: Option<String>,
    },
    /// 404 on a task: unknown id, another account's task, or older than the retention.
    #[error("task {task_id} is unknown to the gateway (404){}: check the id (tasks are kept about 3 days)", request_id_suffix(.request_id))]
    TaskNotFound {
        /// The call answered so.
        operation: Operation,
        /// The task id.
        task_id: String,
        /// `X-Oneapi-Request-Id` of the answer.
        request_id: Option<String>,
    },
    /// 5xx: the gateway failed; a submit's task may exist all the same.
    #[error("gateway error ({status}) on a {operation}{}: {message}", request_id_suffix(.request_id))]
    Server {
        /// The call answered so.
        operation: Operation,
        /// HTTP status.
        status: u16,
        /// Upstream message.
        message: String,
        /// `X-Oneapi-Request-Id` of the answer.
        request_id: Option<String>,
    },
    /// The connection could not be made: the request provably never arrived.
    #[error(
        "cannot reach the gateway, so the {operation} was not sent: check the base URL and the network"
    )]
    Connect {
        /// The call that could not be sent.
        operation: Operation,
        /// What the network layer said (its URL taken out).
        #[source]
        source: reqwest::Error,
    },
    /// The request may have arrived, but no answer came back (timeout, reset).
    #[error("no complete answer from the gateway to a {operation}{}", if operation.may_create_a_paid_task() { ": the task may have been created and charged; look for it before submitting again" } else { "" })]
    NoAnswer {
        /// The call that went unanswered.
        operation: Operation,
        /// What the network layer said (its URL taken out).
        #[source]
        source: reqwest::Error,
    },
    /// A submit sent with an idempotency key was refused for the key (409):
    /// a task may exist under it. Never resend it under a new key.
    #[error("{refusal} (409 {}, key {key}){}", .refusal.code(), request_id_suffix(.request_id))]
    IdempotencyConflict {
        /// Which refusal, and what it means.
        refusal: IdempotencyRefusal,
        /// The idempotency key sent.
        key: String,
        /// `X-Oneapi-Request-Id` of the answer.
        request_id: Option<String>,
    },
    /// The answer was not what the spec says the gateway sends.
    #[error("undecodable answer from the gateway to a {operation} (HTTP {status}){}: {reason}; starts with: {excerpt}", request_id_suffix(.request_id))]
    Undecodable {
        /// The call answered so.
        operation: Operation,
        /// HTTP status.
        status: u16,
        /// Why it could not be read.
        reason: String,
        /// The first bytes of the body (capped, redacted).
        excerpt: String,
        /// `X-Oneapi-Request-Id` of the answer.
        request_id: Option<String>,
    },
    /// The task ended in failure (or was cancelled); usually not charged.
    #[error("task {task_id} failed{}: {message}", code.as_ref().map(|code| format!(" ({code})")).unwrap_or_default())]
    TaskFailed {
        /// The task id.
        task_id: String,
        /// Upstream error code.
        code: Option<String>,
        /// Upstream message.
        message: String,
        /// The last snapshot.
        snapshot: Box<TaskSnapshot>,
    },
    /// The wait's deadline passed; the task may still finish: wait again later.
    #[error("gave up waiting for task {} after the deadline (last status {}); it may still finish: wait for it again later", .last.id, .last.raw_status)]
    DeadlinePassed {
        /// The last snapshot seen.
        last: Box<TaskSnapshot>,
    },
    /// A download failed on the network or at the server.
    #[error("cannot download {url}: {problem}")]
    Download {
        /// The URL as shown: no user name, password or query string.
        url: String,
        /// What went wrong.
        problem: String,
        /// What the network layer said (its URL taken out), if it spoke.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// A download would be larger than a cap of its `DownloadOptions`;
    /// nothing more was written.
    #[error("cannot download the videos of task {task_id}: {limit}")]
    OverLimit {
        /// The task id (made safe as a file name).
        task_id: String,
        /// Which cap.
        limit: DownloadLimit,
    },
    /// A download's target is taken by something it must not replace.
    #[error("{}: {found}", .path.display())]
    TargetTaken {
        /// The target path.
        path: PathBuf,
        /// What is there.
        found: Occupant,
    },
    /// A local image could not be uploaded.
    #[error("{}: cannot upload it", .path.display())]
    LocalImage {
        /// The image's path.
        path: PathBuf,
        /// Why.
        #[source]
        source: LocalImageError,
    },
    /// A local file or folder could not be read or written.
    #[error("{}: {problem}", .path.display())]
    Io {
        /// The call that needed it.
        operation: Operation,
        /// The path.
        path: PathBuf,
        /// What was being done, or what is wrong.
        problem: String,
        /// What the system said, if it spoke.
        #[source]
        source: Option<std::io::Error>,
    },
}

/// Why a client cannot be made or a request cannot be built; nothing was
/// sent. The messages never show the key or a URL's password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The API key cannot be sent as it is.
    #[error(transparent)]
    ApiKey(#[from] KeyError),
    /// The API key read from an environment variable cannot be sent.
    #[error("{variable} holds an API key that cannot be sent")]
    ApiKeyFromEnvironment {
        /// The variable's name.
        variable: String,
        /// What is wrong with the key.
        #[source]
        source: KeyError,
    },
    /// The environment variable that should hold the API key is not set.
    #[error("{variable} is not set: it must hold the API key")]
    MissingEnvironment {
        /// The variable's name.
        variable: String,
    },
    /// The base URL cannot be used.
    #[error(transparent)]
    BaseUrl(#[from] BaseUrlError),
    /// The HTTP client could not be built (TLS roots, the system's proxy settings).
    #[error("cannot build the HTTP client")]
    HttpClient(#[source] reqwest::Error),
    /// The spec names a method that is not an HTTP method.
    #[error("the spec's method {method:?} is not an HTTP method: fix the spec")]
    Method {
        /// The method as the spec writes it.
        method: String,
    },
    /// The spec's path, or a task id, does not make a URL below the base URL.
    #[error("{problem}; not sent")]
    Path {
        /// What is wrong.
        problem: String,
    },
    /// The request could not be built.
    #[error("cannot build the request, so it was not sent")]
    Request(#[source] reqwest::Error),
    /// An idempotency header or key cannot be sent.
    #[error("{problem}; not sent")]
    Idempotency {
        /// What is wrong.
        problem: String,
    },
    /// The request body could not be written as JSON.
    #[error("cannot write the request body as JSON, so it was not sent")]
    Body(#[source] serde_json::Error),
    /// The client's connection slots were closed.
    #[error("the client was shut down")]
    ShutDown,
}

/// A cap of `DownloadOptions` (or of the client) a download would pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadLimit {
    /// More videos than `DownloadOptions::max_videos`.
    #[error(
        "it lists {listed} videos, more than the cap of {cap} per task; nothing was downloaded: raise the cap if that many are expected"
    )]
    Videos {
        /// Videos the task lists.
        listed: usize,
        /// The cap.
        cap: usize,
    },
    /// One video larger than `ClientOptions::max_download_bytes`.
    #[error("a video is larger than the {cap}-byte cap per video")]
    BytesPerVideo {
        /// The cap.
        cap: u64,
    },
    /// All videos together larger than `DownloadOptions::max_total_bytes`.
    #[error(
        "the task's videos are larger than the {cap}-byte cap per task; raise the cap if that much is expected"
    )]
    BytesPerTask {
        /// The cap.
        cap: u64,
    },
}

/// What a download found where it would write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Occupant {
    /// A symbolic link: downloads never write through links.
    #[error(
        "is a symbolic link, and downloads never write through links: remove it or download into another folder"
    )]
    SymbolicLink,
    /// A folder.
    #[error("is a directory: remove it or download into another folder")]
    Directory,
    /// A FIFO, socket or device.
    #[error(
        "exists and is not a regular file (a FIFO, socket or device): remove it or download into another folder"
    )]
    NotARegularFile,
    /// A file, and overwriting was not allowed.
    #[error("exists already: remove it or allow overwriting")]
    ExistingFile,
}

impl Error {
    /// The call that produced the error; `None` for an invalid request or a
    /// configuration problem, which no call got as far as sending.
    pub fn operation(&self) -> Option<Operation> {
        match self {
            Error::InvalidRequest(_) | Error::Config(_) => None,
            Error::Unauthorized { operation, .. }
            | Error::PaymentRequired { operation, .. }
            | Error::RateLimited { operation, .. }
            | Error::Rejected { operation, .. }
            | Error::TaskNotFound { operation, .. }
            | Error::Server { operation, .. }
            | Error::Connect { operation, .. }
            | Error::NoAnswer { operation, .. }
            | Error::Undecodable { operation, .. }
            | Error::Io { operation, .. } => Some(*operation),
            Error::TaskFailed { .. } | Error::DeadlinePassed { .. } => Some(Operation::Wait),
            Error::Download { .. } | Error::OverLimit { .. } | Error::TargetTaken { .. } => {
                Some(Operation::Download)
            }
            Error::LocalImage { .. } => Some(Operation::Upload),
            Error::IdempotencyConflict { .. } => Some(Operation::Submit),
        }
    }

    /// Whether the same call may be made again as it is, by any retry layer
    /// (tower, backon): never when it may have created a paid task.
    ///
    /// True for a 429 and a connection that could not be made (the request
    /// provably was not processed), whatever the call; for a 5xx, a lost
    /// answer and an undecodable answer only when the call was not a submit
    /// (a submit's task may exist and be charged: see
    /// `may_have_created_a_task`).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Connect { .. } => true,
            Error::Server { operation, .. }
            | Error::NoAnswer { operation, .. }
            | Error::Undecodable { operation, .. } => !operation.may_create_a_paid_task(),
            _ => false,
        }
    }

    /// Whether a submit may be sent again: only when it provably did not arrive
    /// (connection failed) or was refused unprocessed (429). Never after a 5xx, a
    /// timeout or a reset: the task may exist and be charged. It judges the
    /// error alone, whichever call produced it.
    pub fn is_safe_to_resubmit(&self) -> bool {
        matches!(self, Error::RateLimited { .. } | Error::Connect { .. })
    }

    /// Whether a submit that failed so may all the same have created a task
    /// (and been charged): false when it provably did not arrive, was
    /// refused unprocessed (401, 402, 429, another 4xx) or was never sent;
    /// true after a 5xx, a lost answer or an answer without a task id.
    /// Always false for calls other than a submit.
    pub fn may_have_created_a_task(&self) -> bool {
        match self {
            Error::Server { operation, .. }
            | Error::NoAnswer { operation, .. }
            | Error::Undecodable { operation, .. } => operation.may_create_a_paid_task(),
            Error::Rejected {
                operation, status, ..
            } => operation.may_create_a_paid_task() && !(400..=499).contains(status),
            _ => false,
        }
    }

    /// The server's `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// `error` and each of its sources, joined by `: ` on one line (what
/// anyhow's `{:#}` writes), for logs and ledgers.
pub fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let shown = inner.to_string();
        if !text.ends_with(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        source = inner.source();
    }
    text
}

/// A URL as messages show it: parsed by the URL parser reqwest uses, with
/// its user name and password dropped and its query string and fragment
/// cut (`?…`), since they may carry credentials or signatures. Text that
/// does not parse is cut the same way by hand.
pub(crate) fn shown_url(text: &str) -> String {
    if let Ok(mut url) = url::Url::parse(text) {
        if url.cannot_be_a_base() {
            return format!("a {}: URL", url.scheme());
        }
        // Both fail only on URLs without a host, which have no user part.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let cut = url.query().is_some() || url.fragment().is_some();
        url.set_query(None);
        url.set_fragment(None);
        let mut shown = url.to_string();
        if cut {
            shown.push_str("?…");
        }
        return shown;
    }
    let (before, cut) = match text.find(['?', '#']) {
        Some(at) => (&text[..at], true),
        None => (text, false),
    };
    let mut shown = match before.split_once("//") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let host = match rest[..authority_end].rsplit_once('@') {
                Some((_, host)) => host,
                None => &rest[..authority_end],
            };
            format!("{scheme}//{host}{}", &rest[authority_end..])
        }
        None => match before.rsplit_once('@') {
            Some((_, after)) => after.to_owned(),
            None => before.to_owned(),
        },
    };
    if cut {
        shown.push_str("?…");
    }
    shown
}

fn request_id_suffix(request_id: &Option<String>) -> String {
    request_id
        .as_ref()
        .map(|id| format!(", request id {id}"))
        .unwrap_or_default()
}

fn retry_after_words(retry_after: &Option<Duration>) -> String {
    retry_after
        .map(|after| format!(", retry after {} s", after.as_secs()))
        .unwrap_or_default()
}

/// `error.code` read leniently: a number or a non-empty string, else none.
pub fn lenient_code(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) if text.trim().is_empty() => None,
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// `(code, message)` of a gateway error body `{"error": {"code", "message", …}}`.
pub fn error_body(body: &Value) -> (Option<String>, Option<String>) {
    let error = body.get("error");
    let code = lenient_code(error.and_then(|error| error.get("code")))
        .or_else(|| lenient_code(error.and_then(|error| error.get("type"))));
    let message = error
        .and_then(|error| error.get("message"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    (code, message)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_empty_string_code_falls_back_to_the_type() {
        let body =
            json!({"error": {"code": "", "message": "invalid API key", "type": "apimart_error"}});
        assert_eq!(
            error_body(&body),
            (Some("apimart_error".into()), Some("invalid API key".into()))
        );
    }

    #[test]
    fn an_integer_code_reads_as_text() {
        assert_eq!(lenient_code(Some(&json!(429))), Some("429".into()));
    }

    const OPERATIONS: [Operation; 7] = [
        Operation::Submit,
        Operation::Poll,
        Operation::Wait,
        Operation::Upload,
        Operation::Download,
        Operation::Preflight,
        Operation::Balance,
    ];

    /// A reqwest error to stand as a network source (a request that cannot
    /// be built: no network is touched).
    fn network_source() -> reqwest::Error {
        match reqwest::Client::new().get("not a url").build() {
            Err(error) => error,
            Ok(request) => panic!("{request:?} was built"),
        }
    }

    /// One error of each variant a call makes, produced by `operation`,
    /// with its name.
    fn errors_of(operation: Operation) -> Vec<(&'static str, Error)> {
        vec![
            (
                "unauthorized",
                Error::Unauthorized {
                    operation,
                    request_id: None,
                },
            ),
            (
                "payment required",
                Error::PaymentRequired {
                    operation,
                    request_id: None,
                },
            ),
            (
                "rate limited",
                Error::RateLimited {
                    operation,
                    retry_after: None,
                    request_id: None,
                },
            ),
            (
                "rejected 400",
                Error::Rejected {
                    operation,
                    status: 400,
                    code: None,
                    message: "bad size".into(),
                    request_id: None,
                },
            ),
            (
                "task not found",
                Error::TaskNotFound {
                    operation,
                    task_id: "t1".into(),
                    request_id: None,
                },
            ),
            (
                "server error",
                Error::Server {
                    operation,
                    status: 500,
                    message: "x".into(),
                    request_id: None,
                },
            ),
            (
                "connect",
                Error::Connect {
                    operation,
                    source: network_source(),
                },
            ),
            (
                "no answer",
                Error::NoAnswer {
                    operation,
                    source: network_source(),
                },
            ),
            (
                "undecodable",
                Error::Undecodable {
                    operation,
                    status: 200,
                    reason: "not JSON".into(),
                    excerpt: "<html>".into(),
                    request_id: None,
                },
            ),
            (
                "io",
                Error::Io {
                    operation,
                    path: PathBuf::from("/tmp/x"),
                    problem: "cannot write".into(),
                    source: Some(std::io::Error::other("disk full")),
                },
            ),
        ]
    }

    fn running_snapshot() -> TaskSnapshot {
        TaskSnapshot {
            id: "t1".into(),
            status: crate::read::Status::Running,
            raw_status: "processing".into(),
            progress: None,
            cost: None,
            estimated_time_s: None,
            actual_time_s: None,
            videos: Vec::new(),
            error: None,
            request_id: None,
            extras: Default::default(),
        }
    }

    #[test]
    fn errors_that_no_retry_can_mend_are_never_retryable() {
        let errors = [
            Error::from(ConfigError::ShutDown),
            Error::TaskFailed {
                task_id: "t1".into(),
                code: None,
                message: "moderation".into(),
                snapshot: Box::new(running_snapshot()),
            },
            Error::DeadlinePassed {
                last: Box::new(running_snapshot()),
            },
            Error::Download {
                url: "https://cdn.example/v.mp4".into(),
                problem: "the server answered HTTP 403".into(),
                source: None,
            },
            Error::OverLimit {
                task_id: "t1".into(),
                limit: DownloadLimit::BytesPerTask { cap: 10 },
            },
            Error::TargetTaken {
                path: PathBuf::from("v.mp4"),
                found: Occupant::ExistingFile,
            },
            Error::LocalImage {
                path: PathBuf::from("a.png"),
                source: LocalImageError::TooLarge,
            },
        ];
        for error in &errors {
            assert!(!error.is_retryable(), "{error:?}");
            assert!(!error.may_have_created_a_task(), "{error:?}");
        }
    }

    #[test]
    fn the_errors_can_cross_threads_and_become_anyhow_or_boxed_errors() {
        fn sendable<T: std::error::Error + Send + Sync + 'static>() {}
        sendable::<Error>();
        sendable::<ConfigError>();
        sendable::<KeyError>();
        sendable::<BaseUrlError>();
        sendable::<LocalImageError>();
    }

    #[test]
    fn a_500_on_a_submit_is_not_retryable() {
        let server = Error::Server {
            operation: Operation::Submit,
            status: 500,
            message: "Internal server error".into(),
            request_id: None,
        };
        assert!(!server.is_retryable());
        assert!(!server.is_safe_to_resubmit());
        assert!(server.may_have_created_a_task());
    }

    #[test]
    fn a_500_on_a_poll_is_retryable() {
        let server = Error::Server {
            operation: Operation::Poll,
            status: 500,
            message: "Internal server error".into(),
            request_id: None,
        };
        assert!(server.is_retryable());
        assert!(!server.may_have_created_a_task());
    }

    #[test]
    fn a_500_on_a_balance_check_is_retryable_and_created_no_task() {
        let server = Error::Server {
            operation: Operation::Balance,
            status: 502,
            message: "bad gateway".into(),
            request_id: None,
        };
        assert!(server.is_retryable());
        assert!(!server.may_have_created_a_task());
    }

    #[test]
    fn a_connect_failure_on_a_submit_is_retryable() {
        let connect = Error::Connect {
            operation: Operation::Submit,
            source: network_source(),
        };
        assert!(connect.is_retryable());
        assert!(connect.is_safe_to_resubmit());
        assert!(!connect.may_have_created_a_task());
    }

    #[test]
    fn a_lost_answer_to_a_submit_is_not_retryable_and_may_have_created_a_task() {
        let lost = Error::NoAnswer {
            operation: Operation::Submit,
            source: network_source(),
        };
        assert!(!lost.is_retryable());
        assert!(!lost.is_safe_to_resubmit());
        assert!(lost.may_have_created_a_task());
    }

    #[test]
    fn each_variant_is_retryable_for_each_operation_exactly_as_the_table_says() {
        // (variant, retryable after a submit, retryable after any other call)
        let table = [
            ("unauthorized", false, false),
            ("payment required", false, false),
            ("rate limited", true, true),
            ("rejected 400", false, false),
            ("task not found", false, false),
            ("server error", false, true),
            ("connect", true, true),
            ("no answer", false, true),
            ("undecodable", false, true),
            ("io", false, false),
        ];
        for operation in OPERATIONS {
            let errors = errors_of(operation);
            assert_eq!(errors.len(), table.len());
            for ((name, error), (row, on_submit, elsewhere)) in errors.iter().zip(table) {
                assert_eq!(*name, row);
                let expected = if operation == Operation::Submit {
                    on_submit
                } else {
                    elsewhere
                };
                assert_eq!(error.is_retryable(), expected, "{name} on a {operation}");
            }
        }
    }

    #[test]
    fn nothing_that_may_have_created_a_task_is_retryable() {
        for operation in OPERATIONS {
            for (name, error) in errors_of(operation) {
                assert!(
                    !(error.may_have_created_a_task() && error.is_retryable()),
                    "{name} on a {operation}"
                );
            }
        }
    }

    #[test]
    fn a_submit_is_retryable_exactly_when_it_is_safe_to_resubmit() {
        for (name, error) in errors_of(Operation::Submit) {
            assert_eq!(error.is_retryable(), error.is_safe_to_resubmit(), "{name}");
        }
    }

    #[test]
    fn only_a_submit_may_have_created_a_task() {
        for operation in OPERATIONS {
            for (name, error) in errors_of(operation) {
                if operation != Operation::Submit {
                    assert!(!error.may_have_created_a_task(), "{name} on a {operation}");
                }
            }
        }
        let created: Vec<&str> = errors_of(Operation::Submit)
            .into_iter()
            .filter(|(_, error)| error.may_have_created_a_task())
            .map(|(name, _)| name)
            .collect();
        assert_eq!(created, ["server error", "no answer", "undecodable"]);
    }

    #[test]
    fn a_500_build_request_failed_on_a_submit_may_have_created_a_task_but_a_400_did_not() {
        let rejected = |status| Error::Rejected {
            operation: Operation::Submit,
            status,
            code: Some("build_request_failed".into()),
            message: "invalid size".into(),
            request_id: None,
        };
        assert!(rejected(500).may_have_created_a_task());
        assert!(!rejected(400).may_have_created_a_task());
        assert!(!rejected(500).is_retryable());
    }

    #[test]
    fn every_error_says_the_operation_that_produced_it() {
        for operation in OPERATIONS {
            for (name, error) in errors_of(operation) {
                assert_eq!(error.operation(), Some(operation), "{name}");
            }
        }
        let config = Error::from(ConfigError::ShutDown);
        assert_eq!(config.operation(), None);
        let taken = Error::TargetTaken {
            path: PathBuf::from("v.mp4"),
            found: Occupant::ExistingFile,
        };
        assert_eq!(taken.operation(), Some(Operation::Download));
    }

    #[test]
    fn network_and_file_errors_keep_their_source() {
        use std::error::Error as _;
        for operation in OPERATIONS {
            for (name, error) in errors_of(operation) {
                let keeps = matches!(name, "connect" | "no answer" | "io");
                assert_eq!(error.source().is_some(), keeps, "{name}");
            }
        }
        let io = Error::Io {
            operation: Operation::Download,
            path: PathBuf::from("/tmp/v.mp4"),
            problem: "cannot write the download".into(),
            source: Some(std::io::Error::other("disk full")),
        };
        assert_eq!(
            with_causes(&io),
            "/tmp/v.mp4: cannot write the download: disk full"
        );
    }

    #[test]
    fn no_message_names_a_command_a_flag_or_an_environment_variable() {
        let mut errors: Vec<Error> = OPERATIONS
            .into_iter()
            .flat_map(errors_of)
            .map(|(_, error)| error)
            .collect();
        for found in [
            Occupant::SymbolicLink,
            Occupant::Directory,
            Occupant::NotARegularFile,
            Occupant::ExistingFile,
        ] {
            errors.push(Error::TargetTaken {
                path: PathBuf::from("v.mp4"),
                found,
            });
        }
        for limit in [
            DownloadLimit::Videos { listed: 9, cap: 4 },
            DownloadLimit::BytesPerVideo { cap: 10 },
            DownloadLimit::BytesPerTask { cap: 10 },
        ] {
            errors.push(Error::OverLimit {
                task_id: "t1".into(),
                limit,
            });
        }
        errors.push(Error::DeadlinePassed {
            last: Box::new(running_snapshot()),
        });
        for error in &errors {
            let message = with_causes(error);
            for word in ["vidspec ", "--", "APIMART"] {
                assert!(!message.contains(word), "{message}");
            }
        }
    }
}
