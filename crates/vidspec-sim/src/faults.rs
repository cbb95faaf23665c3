//! Choosing the fault for one request: scripted answers first ([`Scripted`],
//! first in, first out), then one random draw against the [`Faults`] rates.
//!
//! This module decides only; it must not build responses or touch tasks
//! (the routes apply the decision).

use std::collections::VecDeque;

use crate::config::{FaultTarget, Faults};
use crate::rng::Rng;

/// A forced answer for a coming request, queued with [`crate::Sim::script`].
///
/// Scripted answers are used before random faults: a submit (or poll) takes
/// the oldest queued entry whose `on` covers it, leaving entries aimed at the
/// other kind of request in place. When no entry matches, the random rates
/// apply as usual.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scripted {
    /// 402 `payment_required`.
    PaymentRequired {
        /// Which requests it may hit.
        on: FaultTarget,
    },
    /// 429 `rate_limit_error`.
    RateLimited {
        /// `Retry-After` header value in seconds; `None` sends no header.
        retry_after: Option<u64>,
        /// Which requests it may hit.
        on: FaultTarget,
    },
    /// 500 `server_error`.
    ServerError {
        /// Which requests it may hit.
        on: FaultTarget,
    },
    /// Sleep `ms` real milliseconds, then answer normally.
    Slow {
        /// Milliseconds to sleep.
        ms: u64,
        /// Which requests it may hit.
        on: FaultTarget,
    },
    /// Abort the connection mid-answer: the client sees the connection close
    /// before a complete answer (hyper reports an incomplete message). A
    /// submit still creates its task and counts in [`crate::Stats::submits`].
    Drop {
        /// Which requests it may hit.
        on: FaultTarget,
    },
    /// 200 with the normal body cut in half (a submit still creates its task).
    Malformed {
        /// Which requests it may hit.
        on: FaultTarget,
    },
    /// 503 `idempotency_unavailable` to a submit carrying an idempotency key:
    /// the request is not executed. A request without a key is handled as if
    /// no fault were drawn.
    IdempotencyUnavailable {
        /// Which requests it may hit.
        on: FaultTarget,
    },
    /// 409 `idempotency_result_indeterminate` to a submit carrying an
    /// idempotency key: the task is created (and charged), the answer says
    /// the outcome is unknown, and every later request with the key gets the
    /// same 409. A request without a key is handled as if no fault were drawn.
    IdempotencyIndeterminate {
        /// Which requests it may hit.
        on: FaultTarget,
    },
}

impl Scripted {
    /// The requests this entry may hit.
    pub fn target(&self) -> FaultTarget {
        match *self {
            Scripted::PaymentRequired { on }
            | Scripted::RateLimited { on, .. }
            | Scripted::ServerError { on }
            | Scripted::Slow { on, .. }
            | Scripted::Drop { on }
            | Scripted::Malformed { on }
            | Scripted::IdempotencyUnavailable { on }
            | Scripted::IdempotencyIndeterminate { on } => on,
        }
    }

    fn injected(&self) -> Injected {
        match *self {
            Scripted::PaymentRequired { .. } => Injected::PaymentRequired,
            Scripted::RateLimited { retry_after, .. } => Injected::RateLimited(retry_after),
            Scripted::ServerError { .. } => Injected::ServerError,
            Scripted::Slow { ms, .. } => Injected::Slow(ms),
            Scripted::Drop { .. } => Injected::Drop,
            Scripted::Malformed { .. } => Injected::Malformed,
            Scripted::IdempotencyUnavailable { .. } => Injected::IdempotencyUnavailable,
            Scripted::IdempotencyIndeterminate { .. } => Injected::IdempotencyIndeterminate,
        }
    }
}

/// The fault chosen for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Injected {
    /// Answer 402 instead of handling the request.
    PaymentRequired,
    /// Answer 429 (with this `Retry-After`) instead of handling the request.
    RateLimited(Option<u64>),
    /// Answer 500 instead of handling the request.
    ServerError,
    /// Sleep this many milliseconds, then handle the request.
    Slow(u64),
    /// Handle the request, then abort the connection.
    Drop,
    /// Handle the request, then send its body cut in half.
    Malformed,
    /// To a keyed submit: answer 503 `idempotency_unavailable` unexecuted.
    IdempotencyUnavailable,
    /// To a keyed submit: handle it, then answer 409
    /// `idempotency_result_indeterminate` (and keep doing so for the key).
    IdempotencyIndeterminate,
}

/// Picks the fault for a request of kind `request` (`Submits` or `Polls`).
///
/// A random draw is made for every request the rates target (even when the
/// draw injects nothing), so that the same seed and request order give the
/// same faults.
pub(crate) fn pick(
    script: &mut VecDeque<Scripted>,
    faults: &Faults,
    rng: &mut Rng,
    request: FaultTarget,
) -> Option<Injected> {
    if let Some(position) = script
        .iter()
        .position(|entry| entry.target().covers(request))
    {
        return script.remove(position).map(|entry| entry.injected());
    }
    if !faults.apply_to.covers(request) {
        return None;
    }
    let draw = rng.next_f64();
    let table = [
        (faults.payment_required, Injected::PaymentRequired),
        (
            faults.rate_limited,
            Injected::RateLimited(faults.rate_limited_retry_after),
        ),
        (faults.server_error, Injected::ServerError),
        (faults.drop_connection, Injected::Drop),
        (faults.malformed_json, Injected::Malformed),
        (faults.slow, Injected::Slow(faults.slow_ms)),
        (
            faults.idempotency_unavailable,
            Injected::IdempotencyUnavailable,
        ),
        (
            faults.idempotency_indeterminate,
            Injected::IdempotencyIndeterminate,
        ),
    ];
    let mut threshold = 0.0;
    for (rate, injected) in table {
        if rate.is_finite() && rate > 0.0 {
            threshold += rate;
            if draw < threshold {
                return Some(injected);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_entries_go_first_and_only_to_their_target() {
        let mut script = VecDeque::from([
            Scripted::ServerError {
                on: FaultTarget::Polls,
            },
            Scripted::RateLimited {
                retry_after: Some(1),
                on: FaultTarget::Submits,
            },
        ]);
        let faults = Faults::default();
        let mut rng = Rng::new(1, 0);
        assert_eq!(
            pick(&mut script, &faults, &mut rng, FaultTarget::Submits),
            Some(Injected::RateLimited(Some(1)))
        );
        assert_eq!(
            pick(&mut script, &faults, &mut rng, FaultTarget::Submits),
            None
        );
        assert_eq!(
            pick(&mut script, &faults, &mut rng, FaultTarget::Polls),
            Some(Injected::ServerError)
        );
        assert!(script.is_empty());
    }

    #[test]
    fn random_faults_follow_their_rates_and_target() {
        let faults = Faults {
            rate_limited: 0.25,
            server_error: 0.25,
            apply_to: FaultTarget::Polls,
            ..Faults::default()
        };
        let mut rng = Rng::new(3, 0);
        let mut script = VecDeque::new();
        let picks: Vec<_> = (0..4000)
            .map(|_| pick(&mut script, &faults, &mut rng, FaultTarget::Polls))
            .collect();
        let limited = picks
            .iter()
            .filter(|p| **p == Some(Injected::RateLimited(None)))
            .count();
        let none = picks.iter().filter(|p| p.is_none()).count();
        assert!((800..1200).contains(&limited), "{limited}");
        assert!((1800..2200).contains(&none), "{none}");
        assert_eq!(
            pick(&mut script, &faults, &mut rng, FaultTarget::Submits),
            None
        );
    }
}
