//! Idempotency keys as the gateway documents them (`Idempotency-Key`,
//! gateway-facts §3.4), for any submit endpoint whose request carries the
//! header: the table of keys per API key and path, each with the body it came
//! with and the answer it got, and the decision for a request that brings a
//! key again.
//!
//! - a new key: the request runs, and its answer is kept under the key;
//! - the same key and body, finished: the kept answer again, marked
//!   `Idempotency-Replayed: true` (no new task, no new charge);
//! - the same key and body, still running: `409 idempotency_in_progress`
//!   with `Retry-After`;
//! - the same key, another body: `409 idempotency_key_reused`;
//! - a key whose outcome was made unknown (an injected fault): `409
//!   idempotency_result_indeterminate`, again and again.
//!
//! Bodies are compared byte for byte. This module keeps and decides; it must
//! not speak HTTP or pick faults (routes do), or judge request bodies.

use std::collections::HashMap;

use crate::replies::Reply;

/// The request header a key is read from.
pub(crate) const KEY_HEADER: &str = "idempotency-key";

/// The header on a replayed answer.
pub(crate) const REPLAYED_HEADER: &str = "idempotency-replayed";

/// The longest key the gateway accepts.
const MAX_KEY_LENGTH: usize = 191;

/// Seconds a `409 idempotency_in_progress` asks the client to wait.
pub(crate) const IN_PROGRESS_RETRY_AFTER: u64 = 1;

/// Where a key counts: the gateway's scope is the API key and the endpoint.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(crate) struct Scope {
    /// The bearer token of the request.
    pub(crate) api_key: String,
    /// The request path.
    pub(crate) path: String,
    /// The idempotency key.
    pub(crate) key: String,
}

/// What became of the request a key first came with.
#[derive(Clone, Debug)]
enum Outcome {
    /// Still being handled.
    Running,
    /// Answered; replayed to the same key and body.
    Finished(Reply),
    /// Made unknown by an injected fault.
    Indeterminate,
}

#[derive(Clone, Debug)]
struct Entry {
    body: Vec<u8>,
    outcome: Outcome,
}

/// What to do with a request that carries a key.
#[derive(Debug)]
pub(crate) enum Begin {
    /// A new key: handle the request, then [`Keys::finish`] (or
    /// [`Keys::forget`] if it was not executed).
    Fresh,
    /// Answer this kept answer again, marked as replayed.
    Replay(Reply),
    /// Answer this 409 instead of handling the request.
    Refuse(Reply),
}

/// The keys seen, by scope.
#[derive(Debug, Default)]
pub(crate) struct Keys {
    entries: HashMap<Scope, Entry>,
}

impl Keys {
    /// The decision for a request with `scope` and `body`; a fresh key is
    /// marked running under `body`.
    pub(crate) fn begin(&mut self, scope: &Scope, body: &[u8]) -> Begin {
        match self.entries.get(scope) {
            None => {
                self.entries.insert(
                    scope.clone(),
                    Entry {
                        body: body.to_vec(),
                        outcome: Outcome::Running,
                    },
                );
                Begin::Fresh
            }
            Some(entry) if entry.body != body => Begin::Refuse(Reply::idempotency_key_reused()),
            Some(entry) => match &entry.outcome {
                Outcome::Running => {
                    Begin::Refuse(Reply::idempotency_in_progress(IN_PROGRESS_RETRY_AFTER))
                }
                Outcome::Indeterminate => Begin::Refuse(Reply::idempotency_result_indeterminate()),
                Outcome::Finished(reply) => Begin::Replay(reply.clone().replayed()),
            },
        }
    }

    /// Keeps the answer the request under `scope` got.
    pub(crate) fn finish(&mut self, scope: &Scope, reply: &Reply) {
        if let Some(entry) = self.entries.get_mut(scope) {
            entry.outcome = Outcome::Finished(reply.clone());
        }
    }

    /// Marks the outcome under `scope` unknown for good.
    pub(crate) fn make_indeterminate(&mut self, scope: &Scope) {
        if let Some(entry) = self.entries.get_mut(scope) {
            entry.outcome = Outcome::Indeterminate;
        }
    }

    /// Drops `scope`: its request was not executed, so the key is free again.
    pub(crate) fn forget(&mut self, scope: &Scope) {
        self.entries.remove(scope);
    }
}

/// What keeps `key` from being an idempotency key, if anything: 1 to 191
/// visible ASCII characters.
pub(crate) fn key_problem(key: &[u8]) -> Option<String> {
    if key.is_empty() || key.len() > MAX_KEY_LENGTH {
        return Some(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters, not {}",
            key.len()
        ));
    }
    if !key.iter().all(u8::is_ascii_graphic) {
        return Some("Idempotency-Key must hold only visible ASCII characters".to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope(key: &str) -> Scope {
        Scope {
            api_key: "sim-key".to_owned(),
            path: "/v1/videos/generations".to_owned(),
            key: key.to_owned(),
        }
    }

    #[test]
    fn a_finished_key_with_the_same_body_is_replayed() {
        let mut keys = Keys::default();
        assert!(matches!(keys.begin(&scope("k"), b"{}"), Begin::Fresh));
        keys.finish(&scope("k"), &Reply::ok(json!({"id": "t"})));
        match keys.begin(&scope("k"), b"{}") {
            Begin::Replay(reply) => assert!(reply.replayed),
            other => panic!("expected a replay, got {other:?}"),
        }
    }

    #[test]
    fn a_running_key_is_refused_as_in_progress_and_another_body_as_reused() {
        let mut keys = Keys::default();
        assert!(matches!(keys.begin(&scope("k"), b"{}"), Begin::Fresh));
        let code = |begin: Begin| match begin {
            Begin::Refuse(reply) => reply.body["error"]["code"].clone(),
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(
            code(keys.begin(&scope("k"), b"{}")),
            "idempotency_in_progress"
        );
        assert_eq!(
            code(keys.begin(&scope("k"), b"{ }")),
            "idempotency_key_reused"
        );
    }

    #[test]
    fn a_forgotten_key_runs_again_and_an_indeterminate_one_never_does() {
        let mut keys = Keys::default();
        keys.begin(&scope("a"), b"{}");
        keys.forget(&scope("a"));
        assert!(matches!(keys.begin(&scope("a"), b"{}"), Begin::Fresh));
        keys.begin(&scope("b"), b"{}");
        keys.make_indeterminate(&scope("b"));
        assert!(matches!(keys.begin(&scope("b"), b"{}"), Begin::Refuse(_)));
    }

    #[test]
    fn keys_count_per_path() {
        let mut keys = Keys::default();
        keys.begin(&scope("k"), b"{}");
        let other = Scope {
            path: "/v1/other".to_owned(),
            ..scope("k")
        };
        assert!(matches!(keys.begin(&other, b"{}"), Begin::Fresh));
    }

    #[test]
    fn keys_are_one_to_191_visible_ascii_characters() {
        assert_eq!(key_problem(b"a"), None);
        assert_eq!(key_problem(&[b'x'; 191]), None);
        assert!(key_problem(b"").is_some());
        assert!(key_problem(&[b'x'; 192]).is_some());
        assert!(key_problem(b"a b").is_some());
    }
}
