//! Transport errors, sorted by what the caller should do next.
//!
//! Owns the error enum, `is_retryable`, the lenient reading of the gateway's
//! error bodies (`error.code` may be an integer, a string or `""`), and the
//! `Redactor` that takes the API key and any bearer token out of gateway text
//! before it reaches an error, a snapshot or an excerpt. Messages never
//! contain the API key or a request body.

use std::time::Duration;

use serde_json::Value;
use vidspec_core::Diagnostics;

use crate::idempotent::IdempotencyRefusal;
use crate::read::TaskSnapshot;

/// What went wrong talking to the gateway, and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request broke the spec; it was never sent.
    #[error("invalid request, not sent:\n{0}")]
    InvalidRequest(Diagnostics),
    /// No usable configuration (no API key, a bad base URL).
    #[error("{0}")]
    Config(String),
    /// 401: the key is wrong or missing.
    #[error("the gateway refused the API key (401){}: check APIMART_API_KEY", request_id_suffix(.request_id))]
    Unauthorized {
        /// `X-Oneapi-Request-Id` of the answer.
        request_id: Option<String>,
    },
    /// 402: the balance is too low.
    #[error("the account balance is too low (402){}: top up, then submit again", request_id_suffix(.request_id))]
    PaymentRequired {
        /// `X-Oneapi-Request-Id` of the answer.
        request_id: Option<String>,
    },
    /// 429: too many requests.
    #[error("rate limited (429){}{}: wait and retry, or lower the request rate", retry_after_words(.retry_after), request_id_suffix(.request_id))]
    RateLimited {
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
        /// `X-Oneapi-Request-Id` of the answer.
        request_id: Option<String>,
    },
    /// 400 (or 500 `build_request_failed`): the gateway rejected the parameters.
    #[error("the gateway rejected the request ({status}{}): {message}{}; fix the request (the spec may be out of date: report it)", code.as_ref().map(|code| format!(", {code}")).unwrap_or_default(), request_id_suffix(.request_id))]
    Rejected {
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
        /// The task id.
        task_id: String,
        /// `X-Oneapi-Request-Id` of the answer.
        request_id: Option<String>,
    },
    /// 5xx.
    #[error("gateway error ({status}){}: {message}", request_id_suffix(.request_id))]
    Server {
        /// HTTP status.
        status: u16,
        /// Upstream message.
        message: String,
        /// `X-Oneapi-Request-Id` of the answer.
        request_id: Option<String>,
    },
    /// The connection could not be made: the request provably never arrived.
    #[error("cannot reach the gateway: {message} (check the base URL and the network)")]
    Connect {
        /// What the network layer said.
        message: String,
    },
    /// The request may have arrived, but no answer came back (timeout, reset).
    #[error("no complete answer from the gateway: {message}{}", if *.submitted { " — a submit may have been charged: check `vidspec tasks`/the console before submitting again" } else { "" })]
    NoAnswer {
        /// What the network layer said.
        message: String,
        /// True when this was a submit (which is never resent).
        submitted: bool,
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
    #[error("undecodable answer from the gateway (HTTP {status}){}: {reason}; starts with: {excerpt}", request_id_suffix(.request_id))]
    Undecodable {
        /// HTTP status.
        status: u16,
        /// Why it could not be read.
        reason: String,
        /// The first bytes of the body (capped).
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
    #[error("gave up waiting for task {} after the deadline (last status {}); it may still finish: run `vidspec wait {}` later", .last.id, .last.raw_status, .last.id)]
    DeadlinePassed {
        /// The last snapshot seen.
        last: Box<TaskSnapshot>,
    },
    /// A download failed.
    #[error("cannot download {url}: {message}")]
    Download {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A local file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The path.
        path: String,
        /// What went wrong.
        message: String,
    },
}

impl Error {
    /// Whether the same request may be tried again as it is: rate limits, server
    /// errors, connection failures, lost answers and undecodable answers. Submits
    /// use the stricter `is_safe_to_resubmit`.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. }
                | Error::Server { .. }
                | Error::Connect { .. }
                | Error::NoAnswer { .. }
                | Error::Undecodable { .. }
        )
    }

    /// Whether a submit may be sent again: only when it provably did not arrive
    /// (connection failed) or was refused unprocessed (429). Never after a 5xx, a
    /// timeout or a reset: the task may exist and be charged.
    pub fn is_safe_to_resubmit(&self) -> bool {
        matches!(self, Error::RateLimited { .. } | Error::Connect { .. })
    }

    /// The server's `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
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

/// What replaces a key or a bearer token in gateway text.
pub(crate) const REDACTED: &str = "<redacted>";

/// Takes the API key (as sent, JSON-escaped and URL-encoded) and any
/// `Bearer <token>` out of text that came from the gateway. Its `Debug` never
/// shows the key.
#[derive(Clone)]
pub(crate) struct Redactor {
    /// The key's spellings, longest first.
    needles: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor(<redacted>)")
    }
}

impl Redactor {
    /// A redactor for `key`.
    pub(crate) fn new(key: &str) -> Redactor {
        let mut needles = Vec::new();
        if !key.is_empty() {
            needles.push(key.to_owned());
            let json = serde_json::to_string(key).unwrap_or_default();
            needles.push(json.trim_matches('"').to_owned());
            needles.push(url::form_urlencoded::byte_serialize(key.as_bytes()).collect());
        }
        needles.retain(|needle| !needle.is_empty());
        needles.sort_by_key(|needle| std::cmp::Reverse(needle.len()));
        needles.dedup();
        Redactor { needles }
    }

    /// `text` without the key and without the token of any `Bearer <token>`.
    pub(crate) fn text(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for needle in &self.needles {
            if text.contains(needle.as_str()) {
                text = text.replace(needle.as_str(), REDACTED);
            }
        }
        redact_bearer_tokens(&text)
    }

    /// Every string of `value` (object keys included) redacted in place.
    pub(crate) fn value(&self, value: &mut Value) {
        match value {
            Value::String(text) => {
                let redacted = self.text(text);
                if redacted != *text {
                    *text = redacted;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.value(item)),
            Value::Object(map) => {
                if map.keys().any(|key| self.text(key) != *key) {
                    for (key, mut item) in std::mem::take(map) {
                        self.value(&mut item);
                        map.insert(self.text(&key), item);
                    }
                } else {
                    map.values_mut().for_each(|item| self.value(item));
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// The first bytes of a body, for messages: redacted whole before it is
    /// cut, so a key across the cut shows no prefix.
    pub(crate) fn excerpt(&self, bytes: &[u8]) -> String {
        const LIMIT: usize = 200;
        let text = self.text(&String::from_utf8_lossy(bytes));
        if text.len() <= LIMIT {
            return text;
        }
        let mut end = LIMIT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &text[..end])
    }
}

/// `text` with the token after each `Bearer` (any case, then whitespace)
/// replaced by `REDACTED`; the token ends at whitespace or a quote, bracket,
/// comma or semicolon.
fn redact_bearer_tokens(text: &str) -> String {
    const WORD: &str = "bearer";
    let lowered = text.to_ascii_lowercase();
    if !lowered.contains(WORD) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = lowered[from..].find(WORD) {
        let after_word = from + found + WORD.len();
        let spaces = text[after_word..]
            .find(|character: char| !matches!(character, ' ' | '\t'))
            .unwrap_or(text.len() - after_word);
        let token_start = after_word + spaces;
        let token_len = text[token_start..]
            .find(|character: char| {
                character.is_whitespace() || "\"'<>,;()[]{}".contains(character)
            })
            .unwrap_or(text.len() - token_start);
        if spaces > 0 && token_len > 0 {
            out.push_str(&text[copied..token_start]);
            out.push_str(REDACTED);
            copied = token_start + token_len;
        }
        from = (token_start + token_len).max(after_word);
    }
    out.push_str(&text[copied..]);
    out
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
    fn the_key_is_redacted_as_sent_json_escaped_and_url_encoded() {
        let redactor = Redactor::new("sk-a/b+c\"d");
        for spelling in ["sk-a/b+c\"d", "sk-a/b+c\\\"d", "sk-a%2Fb%2Bc%22d"] {
            let text = format!("key [{spelling}] refused");
            assert_eq!(
                redactor.text(&text),
                "key [<redacted>] refused",
                "{spelling}"
            );
        }
    }

    #[test]
    fn any_bearer_token_is_redacted_whatever_its_case_and_surroundings() {
        let redactor = Redactor::new("sk-mine");
        assert_eq!(
            redactor.text("header 'Authorization: BEARER  tok.en-1' and bearer\ttok2, bearer"),
            "header 'Authorization: BEARER  <redacted>' and bearer\t<redacted>, bearer"
        );
        assert_eq!(
            redactor.text("a bearer of news"),
            "a bearer <redacted> news"
        );
        assert_eq!(redactor.text("bearerless text"), "bearerless text");
    }

    #[test]
    fn object_keys_holding_the_key_are_redacted_too() {
        let mut value = json!({"sk-mine": ["Bearer sk-other", {"k": "sk-mine"}]});
        Redactor::new("sk-mine").value(&mut value);
        assert_eq!(
            value,
            json!({"<redacted>": ["Bearer <redacted>", {"k": "<redacted>"}]})
        );
    }

    #[test]
    fn a_redactor_never_shows_the_key_in_debug() {
        assert!(!format!("{:?}", Redactor::new("sk-mine")).contains("sk-mine"));
    }

    #[test]
    fn an_integer_code_reads_as_text() {
        assert_eq!(lenient_code(Some(&json!(429))), Some("429".into()));
    }

    #[test]
    fn only_unsent_or_unprocessed_submits_are_resubmitted() {
        let server = Error::Server {
            status: 500,
            message: "x".into(),
            request_id: None,
        };
        assert!(server.is_retryable());
        assert!(!server.is_safe_to_resubmit());
        let limited = Error::RateLimited {
            retry_after: None,
            request_id: None,
        };
        assert!(limited.is_safe_to_resubmit());
        let lost = Error::NoAnswer {
            message: "timeout".into(),
            submitted: true,
        };
        assert!(!lost.is_safe_to_resubmit());
    }
}
