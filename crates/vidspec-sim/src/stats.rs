//! Request and task counters: the live atomic [`Counters`] the handlers bump
//! and the [`Stats`] snapshot that callers and `GET /__sim/stats` see.
//!
//! This module only counts; it must not decide anything about a request.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// A snapshot of the simulator's counters.
///
/// "Attempt" counters count every request to a route, whatever its fate
/// (unauthorised, faulted, rejected); outcome counters count outcomes.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Submits that passed the checks and created a task: the charges. A
    /// replay for an idempotency key creates none. A submit answered
    /// with a dropped connection or a malformed body still counts: the task
    /// was created before the answer was spoiled, as the gateway would have
    /// charged for it.
    pub submits: u64,
    /// Every `POST` to a submit endpoint, including unauthorised, faulted and
    /// rejected ones.
    pub submit_attempts: u64,
    /// Every `GET /v1/tasks/{id}`, including unauthorised, faulted and
    /// unknown ids.
    pub polls: u64,
    /// Result videos served (`GET /__sim/videos/...` answered 200).
    pub downloads: u64,
    /// Images accepted by `POST /v1/uploads/images`.
    pub uploads: u64,
    /// Faults injected, random or scripted (slow answers included).
    pub faults_injected: u64,
    /// 400 answers from the simulator's own request checks (submits and uploads).
    pub rejected: u64,
    /// 401 answers (missing or wrong API key).
    pub unauthorized: u64,
    /// Submits carrying an idempotency key answered with the kept answer
    /// (`Idempotency-Replayed: true`): no task created, nothing charged.
    #[serde(default)]
    pub idempotent_replays: u64,
    /// Submits carrying an idempotency key refused for it: 409
    /// `idempotency_in_progress`, `idempotency_key_reused`,
    /// `idempotency_result_indeterminate`, 503 `idempotency_unavailable`.
    #[serde(default)]
    pub idempotency_refusals: u64,
    /// Submits refused with 402 `payment_required` because the configured
    /// balance could not pay for the task (injected 402 faults are counted
    /// in `faults_injected` instead).
    #[serde(default)]
    pub balance_refusals: u64,
    /// Webhook POSTs sent: first attempts, retries and duplicates alike.
    #[serde(default)]
    pub callbacks_sent: u64,
    /// Webhook callbacks never sent: dropped on purpose
    /// (`webhook_drop_rate`), or a target the gateway would refuse (not an
    /// `http`/`https` URL, a private address while `webhook_allow_private`
    /// is off) or the simulator cannot reach (`https`: it has no TLS).
    #[serde(default)]
    pub callbacks_dropped: u64,
    /// Webhook POSTs after the first for the same callback (no 2xx in time,
    /// or a 5xx), at most 3 per callback.
    #[serde(default)]
    pub callback_retries: u64,
    /// Extra copies of a delivered callback (`webhook_duplicate_rate`).
    #[serde(default)]
    pub callback_duplicates: u64,
    /// Callbacks given up: a 4xx answer, or no 2xx after the last retry.
    #[serde(default)]
    pub callbacks_failed: u64,
    /// Tasks that have reached `completed` / `SUCCESS` by now.
    pub tasks_completed: u64,
    /// Tasks that have reached `failed` / `FAILURE` by now.
    pub tasks_failed: u64,
}

/// The live counters behind [`Stats`] (task outcomes are counted from the
/// task table when a snapshot is taken, since tasks finish by the clock).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) submits: AtomicU64,
    pub(crate) submit_attempts: AtomicU64,
    pub(crate) polls: AtomicU64,
    pub(crate) downloads: AtomicU64,
    pub(crate) uploads: AtomicU64,
    pub(crate) faults_injected: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) unauthorized: AtomicU64,
    pub(crate) idempotent_replays: AtomicU64,
    pub(crate) idempotency_refusals: AtomicU64,
    pub(crate) balance_refusals: AtomicU64,
    pub(crate) callbacks_sent: AtomicU64,
    pub(crate) callbacks_dropped: AtomicU64,
    pub(crate) callback_retries: AtomicU64,
    pub(crate) callback_duplicates: AtomicU64,
    pub(crate) callbacks_failed: AtomicU64,
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// The request counters as a [`Stats`] with zero task outcomes.
    pub(crate) fn snapshot(&self) -> Stats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Stats {
            submits: read(&self.submits),
            submit_attempts: read(&self.submit_attempts),
            polls: read(&self.polls),
            downloads: read(&self.downloads),
            uploads: read(&self.uploads),
            faults_injected: read(&self.faults_injected),
            rejected: read(&self.rejected),
            unauthorized: read(&self.unauthorized),
            idempotent_replays: read(&self.idempotent_replays),
            idempotency_refusals: read(&self.idempotency_refusals),
            balance_refusals: read(&self.balance_refusals),
            callbacks_sent: read(&self.callbacks_sent),
            callbacks_dropped: read(&self.callbacks_dropped),
            callback_retries: read(&self.callback_retries),
            callback_duplicates: read(&self.callback_duplicates),
            callbacks_failed: read(&self.callbacks_failed),
            tasks_completed: 0,
            tasks_failed: 0,
        }
    }
}
