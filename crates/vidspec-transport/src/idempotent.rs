//! Submits that carry an idempotency key, for endpoints whose spec declares
//! one (`endpoint: {idempotency: {header: Idempotency-Key}}`).
//!
//! Owns the key type (`IdempotencyKey`: 128 random bits from the operating
//! system, written as a UUID), the reading of the gateway's idempotency
//! answers (gateway-facts §3.4) and the resend loop: a submit whose answer
//! was lost is sent again with the same key and the same body bytes, so the
//! gateway replays the task it created instead of charging a second one. It
//! must not store keys (the caller's ledger does, before sending) and must
//! not change what a submit without a declaration does.

use std::fmt;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use serde_json::Value;
use vidspec_core::Plan;
use vidspec_core::lint::idempotency_header_problem;

use crate::client::{Answer, Client, classify};
use crate::error::{ConfigError, Error, Operation};
use crate::handle::TaskHandle;
use crate::read::submitted_task_id;

/// The longest key the gateway accepts.
pub const MAX_KEY_LENGTH: usize = 191;

/// One key per logical submission: sent with every attempt of that
/// submission, and with nothing else.
///
/// [`IdempotencyKey::new`] makes a random one (a UUID version 4: 122 random
/// bits from the operating system's source, as the gateway asks for "a unique
/// UUID per logical generation"); [`IdempotencyKey::parse`] reads one back
/// from a ledger. Its text is 1 to 191 visible ASCII characters.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A new random key, a UUID version 4 such as
    /// `0f8e6c1a-3b2d-4e5f-8a9b-1c2d3e4f5a6b`.
    ///
    /// The bits come from the operating system (`getrandom`), not a seeded
    /// generator: processes and machines sharing an API key must never pick
    /// the same key, or one submission would be answered with another's task.
    /// Should the system source fail (it does not on supported systems), the
    /// bits come from the clock, the process id and a counter, which still
    /// differ between calls.
    pub fn new() -> IdempotencyKey {
        let mut bytes = [0u8; 16];
        if getrandom::fill(&mut bytes).is_err() {
            bytes = fallback_bits();
        }
        // Version 4 and the RFC 9562 variant.
        bytes[6] = (bytes[6] & 0x0F) | 0x40;
        bytes[8] = (bytes[8] & 0x3F) | 0x80;
        let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        IdempotencyKey(format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        ))
    }

    /// A key as stored (a ledger's copy): 1 to 191 visible ASCII characters.
    pub fn parse(text: &str) -> Result<IdempotencyKey, IdempotencyKeyError> {
        if text.is_empty() {
            return Err(IdempotencyKeyError::Empty);
        }
        if text.len() > MAX_KEY_LENGTH {
            return Err(IdempotencyKeyError::TooLong {
                length: text.chars().count(),
            });
        }
        if let Some((position, _)) = text
            .chars()
            .enumerate()
            .find(|(_, character)| !character.is_ascii_graphic())
        {
            return Err(IdempotencyKeyError::NotVisibleAscii {
                position: position + 1,
            });
        }
        Ok(IdempotencyKey(text.to_owned()))
    }

    /// The key's text, as sent in the header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for IdempotencyKey {
    /// A new random key ([`IdempotencyKey::new`]).
    fn default() -> Self {
        IdempotencyKey::new()
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::str::FromStr for IdempotencyKey {
    type Err = IdempotencyKeyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        IdempotencyKey::parse(text)
    }
}

/// Bits that differ between calls when the system's random source fails.
fn fallback_bits() -> [u8; 16] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos() as u64)
        .unwrap_or(0);
    let high = nanos ^ u64::from(std::process::id()).rotate_left(32);
    let low = COUNTER.fetch_add(1, Ordering::Relaxed) ^ nanos.rotate_left(17);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&high.to_be_bytes());
    bytes[8..].copy_from_slice(&low.to_be_bytes());
    bytes
}

/// Why a stored text is not an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyKeyError {
    /// Nothing.
    #[error("the idempotency key is empty: a key has 1 to 191 visible ASCII characters")]
    Empty,
    /// More than 191 characters.
    #[error(
        "the idempotency key has {length} characters: the gateway takes at most 191 visible ASCII characters"
    )]
    TooLong {
        /// Its length in characters.
        length: usize,
    },
    /// A space, control or non-ASCII character.
    #[error(
        "the idempotency key holds a space, control or non-ASCII character at character {position}: a key has only visible ASCII characters"
    )]
    NotVisibleAscii {
        /// Where, counting from 1.
        position: usize,
    },
}

/// How the gateway refused a key, with what that means for the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdempotencyRefusal {
    /// `409 idempotency_in_progress` still, after every resend allowed.
    InProgress,
    /// `409 idempotency_key_reused`: the key came earlier with another body.
    KeyReused,
    /// `409 idempotency_result_indeterminate`: the outcome is unknown.
    Indeterminate,
}

impl IdempotencyRefusal {
    /// The gateway's code for it.
    pub fn code(self) -> &'static str {
        match self {
            IdempotencyRefusal::InProgress => "idempotency_in_progress",
            IdempotencyRefusal::KeyReused => "idempotency_key_reused",
            IdempotencyRefusal::Indeterminate => "idempotency_result_indeterminate",
        }
    }
}

impl fmt::Display for IdempotencyRefusal {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            IdempotencyRefusal::InProgress => {
                "the submission with this idempotency key was still in progress after every resend: its task may exist; submit again later with the same key and body, and the gateway replays its answer"
            }
            IdempotencyRefusal::KeyReused => {
                "this idempotency key was already used with a different body: a task may exist under it; look the key up before submitting again, and give each logical submission its own key"
            }
            IdempotencyRefusal::Indeterminate => {
                "the gateway cannot tell whether the submission with this idempotency key created a task: it may exist and be charged; stop resending, keep the key, and check the account before submitting again"
            }
        })
    }
}

/// The gateway's idempotency code in an error answer, if it holds one (in
/// `error.code`, `error.type` or the message).
fn idempotency_code(body: &[u8]) -> Option<&'static str> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error")?;
    let texts: Vec<&str> = ["code", "type", "message"]
        .iter()
        .filter_map(|key| error.get(*key).and_then(Value::as_str))
        .collect();
    [
        "idempotency_in_progress",
        "idempotency_key_reused",
        "idempotency_result_indeterminate",
        "idempotency_unavailable",
    ]
    .into_iter()
    .find(|code| texts.iter().any(|text| text.contains(code)))
}

/// What one attempt of a keyed submit came to.
enum Attempt {
    /// The task id: created now, or replayed.
    Done(TaskHandle),
    /// Send again with the same key and body, after `retry_after` if given.
    Resend {
        error: Error,
        retry_after: Option<Duration>,
        in_progress: bool,
    },
    /// Stop with this error.
    Stop(Error),
}

impl Client {
    /// Sends a plan's body with `key` in the header the spec declares
    /// (`endpoint.idempotency.header`), resending it with the same key and
    /// the same body bytes while its answer is lost: after a timeout, a
    /// reset, a 5xx, a 429, an answer cut short or not JSON, a `409
    /// idempotency_in_progress` (after its `Retry-After`) or a `503
    /// idempotency_unavailable` (not executed), within
    /// `ClientOptions::idempotent_resend` (attempts, delays). The
    /// gateway answers a resend of a submission it finished with the same
    /// task, so each logical submission is charged once.
    ///
    /// `409 idempotency_key_reused` and `409 idempotency_result_indeterminate`
    /// end it with [`Error::IdempotencyConflict`]: a task may exist; it is
    /// never resent under a new key.
    ///
    /// For a plan whose spec declares no idempotency this is exactly
    /// [`Client::submit`]: no header, and never resent once it may have
    /// arrived. The caller stores the key before calling (so a crash can be
    /// followed by the same call with the same key and plan).
    ///
    /// ```no_run
    /// # async fn example(client: &vidspec_transport::Client, plan: &vidspec_core::Plan)
    /// #     -> Result<(), vidspec_transport::Error> {
    /// use vidspec_transport::IdempotencyKey;
    ///
    /// let key = IdempotencyKey::new(); // one per logical submission
    /// // … store key.as_str() with the submission before sending …
    /// let handle = client.submit_idempotent(plan, &key).await?;
    /// // after a crash: IdempotencyKey::parse(stored)? and the same plan again
    /// println!("task {}", handle.id);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn submit_idempotent(
        &self,
        plan: &Plan,
        key: &IdempotencyKey,
    ) -> Result<TaskHandle, Error> {
        let Some(header) = plan.idempotency_header() else {
            return self.submit(plan).await;
        };
        if let Some(problem) = idempotency_header_problem(header) {
            return Err(ConfigError::Idempotency {
                problem: format!(
                    "the spec's idempotency header {header:?} {problem} (fix the spec)"
                ),
            }
            .into());
        }
        let name =
            HeaderName::from_bytes(header.as_bytes()).map_err(|_| ConfigError::Idempotency {
                problem: format!(
                    "the spec's idempotency header {header:?} is not a header name (fix the spec)"
                ),
            })?;
        let value = HeaderValue::from_str(key.as_str()).map_err(|_| ConfigError::Idempotency {
            problem: "the idempotency key is not a header value".to_owned(),
        })?;
        let method =
            reqwest::Method::from_bytes(plan.endpoint().method.as_bytes()).map_err(|_| {
                ConfigError::Method {
                    method: plan.endpoint().method.clone(),
                }
            })?;
        // Serialised once: every attempt sends these very bytes, as the
        // gateway compares bodies for a key.
        let body = serde_json::to_vec(plan.body()).map_err(ConfigError::Body)?;
        let backoff = &self.options().idempotent_resend;
        let mut attempt = 0;
        loop {
            let request = self
                .keyed_request(method.clone(), &plan.endpoint().path, None)?
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .header(name.clone(), value.clone())
                .body(body.clone());
            let outcome = match self.exchange(request, Operation::Submit).await {
                Ok(answer) => self.read_keyed_answer(answer, plan, key),
                Err(
                    error @ (Error::Connect { .. }
                    | Error::NoAnswer { .. }
                    | Error::Undecodable { .. }),
                ) => Attempt::Resend {
                    error,
                    retry_after: None,
                    in_progress: false,
                },
                Err(error) => Attempt::Stop(error),
            };
            match outcome {
                Attempt::Done(handle) => return Ok(handle),
                Attempt::Stop(error) => return Err(error),
                Attempt::Resend {
                    error,
                    retry_after,
                    in_progress,
                } => {
                    if attempt + 1 >= backoff.max_attempts {
                        return Err(if in_progress {
                            Error::IdempotencyConflict {
                                refusal: IdempotencyRefusal::InProgress,
                                key: key.to_string(),
                                request_id: None,
                            }
                        } else {
                            error
                        });
                    }
                    tokio::time::sleep(backoff.delay(attempt, retry_after)).await;
                    attempt += 1;
                }
            }
        }
    }

    /// Reads the answer to one keyed attempt.
    fn read_keyed_answer(&self, answer: Answer, plan: &Plan, key: &IdempotencyKey) -> Attempt {
        let status = answer.status;
        let retry_after = answer.retry_after;
        let code = match status {
            409 | 503 => idempotency_code(&answer.body),
            _ => None,
        };
        let conflict = |refusal| {
            Attempt::Stop(Error::IdempotencyConflict {
                refusal,
                key: key.to_string(),
                request_id: answer.request_id.clone(),
            })
        };
        match (status, code) {
            (409, Some("idempotency_key_reused")) => {
                return conflict(IdempotencyRefusal::KeyReused);
            }
            (409, Some("idempotency_result_indeterminate")) => {
                return conflict(IdempotencyRefusal::Indeterminate);
            }
            _ => {}
        }
        let in_progress = status == 409 && code == Some("idempotency_in_progress");
        let unavailable = status == 503 && code == Some("idempotency_unavailable");
        match classify(answer, None, self.redactor()) {
            Ok((body, request_id)) => match submitted_task_id(plan.task(), &body) {
                Some(id) => Attempt::Done(TaskHandle {
                    id,
                    model: plan.model().to_owned(),
                    task: std::sync::Arc::clone(plan.task()),
                    request_id,
                }),
                None => Attempt::Stop(Error::Undecodable {
                    operation: Operation::Submit,
                    status,
                    reason: "the submit answer holds no task id where the spec says".to_owned(),
                    excerpt: self.redactor().excerpt(body.to_string().as_bytes()),
                    request_id,
                }),
            },
            Err(error) => {
                let resend = in_progress
                    || unavailable
                    || matches!(
                        error,
                        Error::RateLimited { .. }
                            | Error::Server { .. }
                            | Error::Undecodable { .. }
                    );
                if resend {
                    Attempt::Resend {
                        error,
                        retry_after,
                        in_progress,
                    }
                } else {
                    Attempt::Stop(error)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_is_a_version_4_uuid() {
        let key = IdempotencyKey::new();
        let text = key.as_str();
        assert_eq!(text.len(), 36, "{text}");
        let groups: Vec<usize> = text.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{text}");
        assert_eq!(&text[14..15], "4", "{text}");
        assert!("89ab".contains(&text[19..20]), "{text}");
        assert_eq!(IdempotencyKey::parse(text), Ok(key));
    }

    #[test]
    fn the_default_resends_end_within_four_minutes_even_when_every_answer_asks_to_wait() {
        let resend = crate::ClientOptions::default().idempotent_resend;
        let longest_wait: Duration = (0..resend.max_attempts.saturating_sub(1))
            .map(|attempt| resend.delay(attempt, Some(Duration::from_secs(3600))))
            .sum();
        assert!(longest_wait <= Duration::from_secs(240), "{longest_wait:?}");
        assert!(
            resend.max_attempts >= 4,
            "a lost answer gets several resends"
        );
    }

    #[test]
    fn two_new_keys_differ() {
        assert_ne!(IdempotencyKey::new(), IdempotencyKey::new());
    }

    #[test]
    fn a_stored_key_is_one_to_191_visible_ascii_characters() {
        assert_eq!(IdempotencyKey::parse(""), Err(IdempotencyKeyError::Empty));
        assert_eq!(
            IdempotencyKey::parse(&"k".repeat(192)),
            Err(IdempotencyKeyError::TooLong { length: 192 })
        );
        assert_eq!(
            IdempotencyKey::parse("ab c"),
            Err(IdempotencyKeyError::NotVisibleAscii { position: 3 })
        );
        assert!(IdempotencyKey::parse(&"k".repeat(191)).is_ok());
    }

    #[test]
    fn the_gateway_codes_are_found_in_code_type_or_message() {
        let body = br#"{"error":{"code":409,"type":"idempotency_in_progress","message":"wait"}}"#;
        assert_eq!(idempotency_code(body), Some("idempotency_in_progress"));
        let body = br#"{"error":{"code":"idempotency_key_reused"}}"#;
        assert_eq!(idempotency_code(body), Some("idempotency_key_reused"));
        assert_eq!(idempotency_code(br#"{"error":{"code":409}}"#), None);
        assert_eq!(idempotency_code(b"not json"), None);
    }
}
