//! The receiver: its options, its router and what a callback does.
//!
//! Owns the callback route (`POST /<token>/<callback>`), the checks a
//! callback passes before it counts (the token, a small body, a task id
//! where the options say), the table of tasks (a callback before anyone
//! waits, a task waited for, a task whose end is confirmed) and the
//! counters. A callback is a hint only: what it says about status, cost or
//! URLs is never read; it makes the receiver read the task again from the
//! API (`Client::task`) and only that answer counts. It must not poll on a
//! schedule (`wait` does) nor act on a task itself: it passes a confirmed
//! end to whoever waits.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;
use tokio::sync::watch;
use url::Url;
use vidspec_core::Webhook;
use vidspec_transport::{Client, TaskHandle, TaskSnapshot};

use crate::token::Token;

/// How often the receiver polls a task whose callback has not come, unless
/// the caller says otherwise: sparse, since callbacks do the work.
pub const DEFAULT_FALLBACK: Duration = Duration::from_secs(60);

/// The largest callback body read by default: a task object is a few KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// The longest task id taken from a callback; longer ones are refused.
const MAX_TASK_ID_BYTES: usize = 256;

/// How to receive callbacks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiverOptions {
    /// The path segment the gateway appends to the callback URL: the
    /// spec's `endpoint.webhook.callback`.
    pub callback: String,
    /// Larger callback bodies are refused (413).
    pub body_limit: usize,
    /// JSON pointers to the task id in a callback body, tried in order:
    /// by default the bare task object's `id` or `task_id` and the same in
    /// a `{code, data}` envelope (gateway-facts 3.3: the payload is the
    /// task-status answer, seen both bare and enveloped).
    pub task_id_pointers: Vec<String>,
    /// At most this many task ids are remembered from callbacks that came
    /// before anyone waited for the task; more are answered and forgotten
    /// (the fallback poll still finds those tasks).
    pub max_unclaimed: usize,
}

impl ReceiverOptions {
    /// The defaults for an endpoint that declares `webhook`.
    pub fn new(declaration: &Webhook) -> ReceiverOptions {
        ReceiverOptions {
            callback: declaration.callback.clone(),
            body_limit: DEFAULT_BODY_LIMIT,
            task_id_pointers: ["/id", "/task_id", "/data/id", "/data/task_id"]
                .map(str::to_owned)
                .to_vec(),
            max_unclaimed: 10_000,
        }
    }
}

/// Why a receiver cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiverError {
    /// The callback segment is not one plain path segment.
    #[error("the callback segment {callback:?} {problem}")]
    Callback {
        /// The segment given.
        callback: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The operating system gave no random bytes for the token.
    #[error(
        "the operating system's random source gave no bytes for the callback token; \
         a guessable token would let anyone reach the receiver, so none is made"
    )]
    Random,
}

/// What the receiver has seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    /// POSTs to the callback route, rejected ones included.
    pub callbacks_received: u64,
    /// Callbacks for a task already confirmed, being re-read, or already
    /// announced before anyone waited: answered, nothing done.
    pub duplicates: u64,
    /// Callbacks with a wrong token (404), a body over the limit (413) or
    /// no task id where the options say (400).
    pub rejected: u64,
    /// Reads of a task from the API that a callback set off.
    pub rereads: u64,
    /// Reads of a task from the API on the fallback schedule.
    pub fallback_polls: u64,
}

#[derive(Default)]
struct AtomicCounters {
    callbacks_received: AtomicU64,
    duplicates: AtomicU64,
    rejected: AtomicU64,
    rereads: AtomicU64,
    fallback_polls: AtomicU64,
}

impl AtomicCounters {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// What the receiver knows of one task.
pub(crate) enum Tracked {
    /// A callback came before anyone waited: there is no handle (model,
    /// poll path) to read it with yet.
    Unclaimed,
    /// Someone waits for it.
    Waiting {
        handle: TaskHandle,
        confirmed: watch::Sender<Option<TaskSnapshot>>,
        rereading: bool,
    },
    /// Its end, as the API answered.
    Confirmed(TaskSnapshot),
}

pub(crate) struct Shared {
    pub(crate) client: Client,
    token: Token,
    options: ReceiverOptions,
    pub(crate) tasks: Mutex<HashMap<String, Tracked>>,
    unclaimed: AtomicU64,
    counters: AtomicCounters,
}

/// Receives the gateway's task callbacks: mount [`Receiver::router`] in a
/// server, send requests with [`Receiver::public_url`] as their callback
/// URL, and [`Receiver::wait`] for each task. Cheap to clone (one shared
/// state).
#[derive(Clone)]
pub struct Receiver {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Receiver")
            .field("callback", &self.shared.options.callback)
            .field("counters", &self.counters())
            .finish_non_exhaustive()
    }
}

pub(crate) fn lock(
    tasks: &Mutex<HashMap<String, Tracked>>,
) -> MutexGuard<'_, HashMap<String, Tracked>> {
    tasks
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Receiver {
    /// A receiver reading tasks with `client` (the API key goes only to the
    /// API, never to a callback sender), with a new random token.
    pub fn new(client: Client, options: ReceiverOptions) -> Result<Receiver, ReceiverError> {
        if let Some(problem) = vidspec_core::lint::webhook_callback_problem(&options.callback) {
            return Err(ReceiverError::Callback {
                callback: options.callback,
                problem,
            });
        }
        let token = Token::generate().ok_or(ReceiverError::Random)?;
        Ok(Receiver {
            shared: Arc::new(Shared {
                client,
                token,
                options,
                tasks: Mutex::new(HashMap::new()),
                unclaimed: AtomicU64::new(0),
                counters: AtomicCounters::default(),
            }),
        })
    }

    /// The routes to mount where `base` (given to [`Receiver::public_url`])
    /// points: `POST /<token>/<callback>`. Any other token is a bare 404.
    pub fn router(&self) -> Router {
        let path = format!("/{{token}}/{}", self.shared.options.callback);
        Router::new()
            .route(&path, post(callback))
            .with_state(Arc::clone(&self.shared))
    }

    /// The callback URL to send with requests (`Plan::with_webhook`,
    /// `SubmitOptions::webhook`): `base` with the token as one more path
    /// segment, its query and fragment dropped. `base` is the public URL
    /// at which [`Receiver::router`] is mounted; the gateway appends
    /// `/<callback>` itself.
    pub fn public_url(&self, base: &Url) -> Url {
        let mut url = base.clone();
        url.set_query(None);
        url.set_fragment(None);
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push(self.shared.token.as_str());
        }
        url
    }

    /// What the receiver has seen so far.
    pub fn counters(&self) -> Counters {
        let counters = &self.shared.counters;
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Counters {
            callbacks_received: read(&counters.callbacks_received),
            duplicates: read(&counters.duplicates),
            rejected: read(&counters.rejected),
            rereads: read(&counters.rereads),
            fallback_polls: read(&counters.fallback_polls),
        }
    }

    /// Forgets a task (once its outcome is handled), so a long-running
    /// receiver does not keep every task it saw. A callback for it later
    /// is then remembered as one no one waits for.
    pub fn forget(&self, task_id: &str) {
        if let Some(Tracked::Unclaimed) = lock(&self.shared.tasks).remove(task_id) {
            self.shared.unclaimed.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Shared {
    pub(crate) fn count_fallback_poll(&self) {
        AtomicCounters::bump(&self.counters.fallback_polls);
    }

    /// Records a confirmed end: wakes whoever waits and remembers it, so
    /// later callbacks for the task are duplicates.
    pub(crate) fn confirm(&self, snapshot: TaskSnapshot) {
        let mut tasks = lock(&self.tasks);
        if let Some(Tracked::Waiting { confirmed, .. }) = tasks.get(&snapshot.id) {
            confirmed.send_replace(Some(snapshot.clone()));
        }
        if let Some(Tracked::Unclaimed) =
            tasks.insert(snapshot.id.clone(), Tracked::Confirmed(snapshot))
        {
            self.unclaimed.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Reads the task again from the API (a callback said it may have
    /// ended); confirms it when the API says it has.
    pub(crate) async fn reread(self: Arc<Shared>, handle: TaskHandle) {
        AtomicCounters::bump(&self.counters.rereads);
        let answer = self.client.task(&handle).await;
        match answer {
            Ok(snapshot) if snapshot.status.is_terminal() && snapshot.id == handle.id => {
                self.confirm(snapshot);
            }
            // Still running, or the API could not answer: the callback is
            // ignored; a later one or the fallback poll finds the end.
            _ => {
                if let Some(Tracked::Waiting { rereading, .. }) =
                    lock(&self.tasks).get_mut(&handle.id)
                {
                    *rereading = false;
                }
            }
        }
    }

    /// What a callback for `task_id` does, decided under the lock: the
    /// handle to re-read with, if any.
    fn on_callback(&self, task_id: &str) -> Option<TaskHandle> {
        let mut tasks = lock(&self.tasks);
        match tasks.get_mut(task_id) {
            Some(Tracked::Waiting {
                handle, rereading, ..
            }) if !*rereading => {
                *rereading = true;
                return Some(handle.clone());
            }
            Some(_) => AtomicCounters::bump(&self.counters.duplicates),
            None => {
                let limit = u64::try_from(self.options.max_unclaimed).unwrap_or(u64::MAX);
                if self.unclaimed.load(Ordering::Relaxed) < limit {
                    self.unclaimed.fetch_add(1, Ordering::Relaxed);
                    tasks.insert(task_id.to_owned(), Tracked::Unclaimed);
                }
            }
        }
        None
    }

    /// A waiter takes a task over from the table: an `Unclaimed` entry
    /// means a callback came first, so the caller re-reads at once.
    pub(crate) fn claim_for_wait(&self, handle: &TaskHandle) -> Claimed {
        let mut tasks = lock(&self.tasks);
        match tasks.get_mut(&handle.id) {
            Some(Tracked::Confirmed(snapshot)) => Claimed::Confirmed(Box::new(snapshot.clone())),
            Some(Tracked::Waiting { confirmed, .. }) => Claimed::Waiting {
                confirmed: confirmed.subscribe(),
                reread_now: false,
            },
            unclaimed_or_new => {
                let reread_now = unclaimed_or_new.is_some();
                if reread_now {
                    self.unclaimed.fetch_sub(1, Ordering::Relaxed);
                }
                let (sender, receiver) = watch::channel(None);
                tasks.insert(
                    handle.id.clone(),
                    Tracked::Waiting {
                        handle: handle.clone(),
                        confirmed: sender,
                        rereading: reread_now,
                    },
                );
                Claimed::Waiting {
                    confirmed: receiver,
                    reread_now,
                }
            }
        }
    }
}

/// Where a wait starts.
pub(crate) enum Claimed {
    /// The end is already confirmed.
    Confirmed(Box<TaskSnapshot>),
    /// Wait for a confirmation (after a re-read now, when a callback came
    /// before the wait).
    Waiting {
        confirmed: watch::Receiver<Option<TaskSnapshot>>,
        reread_now: bool,
    },
}

/// `POST /<token>/<callback>`.
async fn callback(
    State(shared): State<Arc<Shared>>,
    token: Result<Path<String>, PathRejection>,
    body: Body,
) -> StatusCode {
    AtomicCounters::bump(&shared.counters.callbacks_received);
    let reject = |status: StatusCode| {
        AtomicCounters::bump(&shared.counters.rejected);
        status
    };
    // A segment that does not even decode is a wrong token too: a bare
    // 404, not the extractor's own message.
    let Ok(Path(token)) = token else {
        return reject(StatusCode::NOT_FOUND);
    };
    if !shared.token.matches(&token) {
        return reject(StatusCode::NOT_FOUND);
    }
    let Ok(bytes) = axum::body::to_bytes(body, shared.options.body_limit).await else {
        return reject(StatusCode::PAYLOAD_TOO_LARGE);
    };
    let Some(task_id) = task_id(&bytes, &shared.options.task_id_pointers) else {
        return reject(StatusCode::BAD_REQUEST);
    };
    if let Some(handle) = shared.on_callback(&task_id) {
        // Answered at once (the gateway waits about 10 s for a 2xx); the
        // re-read runs on its own and retries as polls do.
        tokio::spawn(Arc::clone(&shared).reread(handle));
    }
    StatusCode::OK
}

/// The task id of a callback body: the first pointer that holds a
/// non-empty string of at most `MAX_TASK_ID_BYTES`.
fn task_id(bytes: &[u8], pointers: &[String]) -> Option<String> {
    let body: Value = serde_json::from_slice(bytes).ok()?;
    pointers
        .iter()
        .filter_map(|pointer| body.pointer(pointer)?.as_str())
        .find(|id| !id.is_empty())
        .filter(|id| id.len() <= MAX_TASK_ID_BYTES)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::task_id;

    fn pointers() -> Vec<String> {
        ["/id", "/task_id", "/data/id", "/data/task_id"]
            .map(str::to_owned)
            .to_vec()
    }

    #[test]
    fn the_id_of_a_bare_task_object_is_read() {
        let body = br#"{"id": "task_1", "status": "completed"}"#;
        assert_eq!(task_id(body, &pointers()).as_deref(), Some("task_1"));
    }

    #[test]
    fn the_id_of_an_enveloped_task_is_read() {
        let body = br#"{"code": 200, "data": {"id": "task_2"}}"#;
        assert_eq!(task_id(body, &pointers()).as_deref(), Some("task_2"));
    }

    #[test]
    fn a_body_without_an_id_or_with_a_huge_one_yields_none() {
        assert_eq!(task_id(br#"{"status": "completed"}"#, &pointers()), None);
        assert_eq!(task_id(b"not json", &pointers()), None);
        let huge = format!(r#"{{"id": "{}"}}"#, "x".repeat(300));
        assert_eq!(task_id(huge.as_bytes(), &pointers()), None);
    }
}
