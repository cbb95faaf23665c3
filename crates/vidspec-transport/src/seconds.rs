//! Durations made from numbers that nobody checked: flags, environment
//! variables and gateway answers (`estimated_time`, `Retry-After`, a rate).
//!
//! Owns the one rule for turning such a number into a `Duration` or an
//! `Instant`: saturate, never panic. NaN, negative numbers and -0 become zero;
//! anything past [`LONGEST`] (infinity, 1e300, `u64::MAX` seconds) becomes
//! `LONGEST`. `Duration::from_secs_f64`, `Duration::mul_f64` and `Instant +
//! Duration` panic on such input, so transport code makes durations from
//! numbers only through here. It must not decide whether a number is a usable
//! setting: callers that take user input refuse out-of-range values with a
//! message (see `POLL_SCALE_RANGE`, `LONGEST_DEADLINE`), and use these
//! functions as the last line of defence.

use std::time::Duration;

use tokio::time::Instant;

/// The longest duration made from a number: ten years. Far beyond any wait a
/// person means, and far inside what `Instant` arithmetic can hold.
pub const LONGEST: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

/// `value` seconds, saturated into `[0, LONGEST]` (NaN is zero).
pub fn seconds(value: f64) -> Duration {
    if value.is_nan() || value <= 0.0 {
        Duration::ZERO
    } else if value >= LONGEST.as_secs_f64() {
        LONGEST
    } else {
        Duration::try_from_secs_f64(value).unwrap_or(LONGEST)
    }
}

/// `duration × factor`, saturated like [`seconds`].
pub fn scaled(duration: Duration, factor: f64) -> Duration {
    seconds(duration.as_secs_f64() * factor)
}

/// `start + duration`, or `start + LONGEST` when that would overflow (and
/// never more than `LONGEST` after `start`).
pub fn later(start: Instant, duration: Duration) -> Instant {
    let duration = duration.min(LONGEST);
    start
        .checked_add(duration)
        .or_else(|| start.checked_add(LONGEST))
        .unwrap_or(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_that_are_not_lengths_of_time_become_zero() {
        for value in [f64::NAN, -0.0, 0.0, -1.0, f64::NEG_INFINITY, -1e300] {
            assert_eq!(seconds(value), Duration::ZERO, "{value}");
        }
    }

    #[test]
    fn numbers_too_large_for_a_duration_saturate_at_the_longest() {
        for value in [1e10, 1e19, 1e30, 1e300, f64::INFINITY, u64::MAX as f64] {
            assert_eq!(seconds(value), LONGEST, "{value}");
        }
        assert_eq!(scaled(Duration::MAX, 1e300), LONGEST);
        assert_eq!(scaled(Duration::from_secs(2), f64::NAN), Duration::ZERO);
    }

    #[test]
    fn ordinary_numbers_are_exact() {
        assert_eq!(seconds(1.5), Duration::from_millis(1500));
        assert_eq!(seconds(1e-300), Duration::ZERO);
        assert_eq!(
            scaled(Duration::from_secs(10), 0.25),
            Duration::from_millis(2500)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn adding_any_duration_to_now_never_overflows() {
        let now = Instant::now();
        assert_eq!(later(now, Duration::MAX), now + LONGEST);
        assert_eq!(
            later(now, Duration::from_secs(3)),
            now + Duration::from_secs(3)
        );
    }
}
