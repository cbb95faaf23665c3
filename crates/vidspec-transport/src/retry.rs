//! Backoff: exponential growth with full jitter, capped, honouring `Retry-After`.
//!
//! Owns the delay schedule, the reading of a `Retry-After` header (seconds or
//! an HTTP date; any number saturates, never panics) and the small random
//! source it needs. It does not decide *whether* to retry: errors say that
//! (`Error::is_retryable`, `Error::is_safe_to_resubmit`). Deadlines are the
//! caller's: a wait cuts off a whole retry loop when its deadline comes.
//! Every retry is reported: a `tracing` event, and a `Retry` to the caller
//! that asked (`Client::watch` turns them into events).

use std::time::{Duration, SystemTime};

use crate::error::Error;
use crate::seconds::{LONGEST, scaled, seconds};
use crate::wait::millis;
use crate::watch::Retry;

/// How long to wait between attempts, and how many attempts to make.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    /// The first delay's upper bound.
    pub base: Duration,
    /// No delay is longer than this (Retry-After excepted, up to `max_retry_after`).
    pub cap: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The longest `Retry-After` honoured as given.
    pub max_retry_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            max_attempts: 8,
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl Backoff {
    /// A schedule for tests and the simulator: millisecond delays.
    pub fn fast() -> Self {
        Backoff {
            base: Duration::from_millis(5),
            cap: Duration::from_millis(50),
            max_attempts: 8,
            max_retry_after: Duration::from_secs(2),
        }
    }

    /// The delay before attempt `attempt + 1` (attempt counts from 0): a
    /// server's `Retry-After` when given (capped at `max_retry_after`), else a
    /// uniformly random duration in `[0, min(cap, base · 2^attempt)]` ("full
    /// jitter"), so many clients that failed together do not retry together.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(after) = retry_after {
            return after.min(self.max_retry_after).min(LONGEST);
        }
        let ceiling = self
            .base
            .saturating_mul(2u32.saturating_pow(attempt.min(20)))
            .min(self.cap)
            .min(LONGEST);
        scaled(ceiling, random_unit())
    }
}

/// The wait a `Retry-After` header asks for, read at `now`: whole seconds
/// (`120`; a number too large for any clock saturates at ten years; a
/// fractional or exponent form is read leniently), or an HTTP date (`Wed, 21
/// Oct 2015 07:28:00 GMT`; a date already past means now). Anything else
/// counts as no header.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Some(match value.parse::<u64>() {
            Ok(whole) => Duration::from_secs(whole).min(LONGEST),
            Err(_) => LONGEST,
        });
    }
    if let Ok(number) = value.parse::<f64>() {
        return (number >= 0.0).then(|| seconds(number));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(LONGEST),
    )
}

/// Runs `operation` until it succeeds, fails in a way `may_retry` refuses, or
/// `backoff.max_attempts` attempts are spent, sleeping `backoff.delay` between.
pub async fn with_retries<T, Operation, Attempt>(
    backoff: &Backoff,
    may_retry: impl Fn(&Error) -> bool,
    operation: Operation,
) -> Result<T, Error>
where
    Operation: FnMut() -> Attempt,
    Attempt: Future<Output = Result<T, Error>>,
{
    with_retries_reporting(backoff, may_retry, &mut |_| {}, operation).await
}

/// `with_retries`, telling `on_retry` of each retry before its sleep (what
/// failed, the attempt number, the delay, the server's `Retry-After`). Each
/// retry and the last failure are also `tracing` events in the caller's span.
pub(crate) async fn with_retries_reporting<T, Operation, Attempt>(
    backoff: &Backoff,
    may_retry: impl Fn(&Error) -> bool,
    on_retry: &mut (dyn FnMut(Retry) + Send),
    mut operation: Operation,
) -> Result<T, Error>
where
    Operation: FnMut() -> Attempt,
    Attempt: Future<Output = Result<T, Error>>,
{
    let mut attempt = 0;
    loop {
        match operation().await {
            Ok(value) => return Ok(value),
            Err(error) if may_retry(&error) && attempt + 1 < backoff.max_attempts => {
                let retry_after = error.retry_after();
                let delay = backoff.delay(attempt, retry_after);
                attempt += 1;
                tracing::warn!(
                    attempt,
                    delay_ms = millis(delay),
                    retry_after_ms = retry_after.map(millis),
                    error = %error,
                    "attempt failed; retrying"
                );
                on_retry(Retry {
                    attempt,
                    delay,
                    retry_after,
                    error,
                    next_poll: false,
                });
                tokio::time::sleep(delay).await;
            }
            Err(error) => {
                tracing::warn!(
                    attempts = attempt + 1,
                    retryable = may_retry(&error),
                    error = %error,
                    "attempt failed; this request gives up"
                );
                return Err(error);
            }
        }
    }
}

/// A random number in `[0, 1)` for jitter, from fastrand's per-thread
/// generator (seeded from the OS; jitter needs spread, not cryptography).
pub fn random_unit() -> f64 {
    fastrand::f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_under_the_exponential_ceiling() {
        let backoff = Backoff::default();
        for attempt in 0..10 {
            let ceiling = backoff.base.saturating_mul(1 << attempt).min(backoff.cap);
            for _ in 0..50 {
                assert!(backoff.delay(attempt, None) <= ceiling);
            }
        }
    }

    #[test]
    fn delays_are_spread_not_constant() {
        let backoff = Backoff::default();
        let delays: std::collections::BTreeSet<Duration> =
            (0..20).map(|_| backoff.delay(5, None)).collect();
        assert!(
            delays.len() > 10,
            "full jitter should spread delays: {delays:?}"
        );
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let backoff = Backoff::default();
        assert_eq!(
            backoff.delay(0, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert_eq!(
            backoff.delay(0, Some(Duration::from_secs(7200))),
            backoff.max_retry_after
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured_between_attempts() {
        let calls = std::cell::Cell::new(0);
        let started = tokio::time::Instant::now();
        let result = with_retries(&Backoff::default(), Error::is_retryable, || {
            calls.set(calls.get() + 1);
            let done = calls.get() > 3;
            async move {
                if done {
                    Ok("done")
                } else {
                    Err(Error::RateLimited {
                        operation: crate::error::Operation::Poll,
                        retry_after: Some(Duration::from_secs(2)),
                        request_id: None,
                    })
                }
            }
        })
        .await;
        assert_eq!(result.ok(), Some("done"));
        assert_eq!(calls.get(), 4);
        assert_eq!(started.elapsed(), Duration::from_secs(6));
    }

    #[tokio::test(start_paused = true)]
    async fn a_submit_that_may_have_arrived_is_never_retried() {
        let calls = std::cell::Cell::new(0);
        let result: Result<(), Error> =
            with_retries(&Backoff::default(), Error::is_retryable, || {
                calls.set(calls.get() + 1);
                async {
                    Err(Error::Server {
                        operation: crate::error::Operation::Submit,
                        status: 502,
                        message: "bad gateway".into(),
                        request_id: None,
                    })
                }
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_after_the_attempt_budget_within_the_backoff_ceiling() {
        let backoff = Backoff::default();
        let calls = std::cell::Cell::new(0);
        let started = tokio::time::Instant::now();
        let result: Result<(), Error> = with_retries(&backoff, Error::is_retryable, || {
            calls.set(calls.get() + 1);
            async {
                Err(Error::Server {
                    operation: crate::error::Operation::Poll,
                    status: 503,
                    message: "unavailable".into(),
                    request_id: None,
                })
            }
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.get(), backoff.max_attempts);
        let ceiling: Duration = (0..backoff.max_attempts - 1)
            .map(|attempt| backoff.base.saturating_mul(1 << attempt).min(backoff.cap))
            .sum();
        assert!(
            started.elapsed() <= ceiling,
            "{:?} > {ceiling:?}",
            started.elapsed()
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_saturates_numbers_too_large_for_a_clock() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999999", now),
            Some(LONGEST)
        );
        assert_eq!(parse_retry_after("1e300", now), Some(LONGEST));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        for nonsense in ["", "-5", "NaN", "soon", "-1e300"] {
            assert_eq!(parse_retry_after(nonsense, now), None, "{nonsense:?}");
        }
    }

    #[test]
    fn retry_after_as_an_http_date_is_the_time_until_then_and_zero_once_past() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").expect("date");
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now),
            Some(LONGEST)
        );
    }

    #[test]
    fn random_units_are_in_range() {
        for _ in 0..1000 {
            let unit = random_unit();
            assert!((0.0..1.0).contains(&unit));
        }
    }
}
