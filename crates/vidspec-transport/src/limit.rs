//! A cap on requests per second across everything one `Client` does.
//!
//! Owns request spacing: each request takes the next free slot, so a hundred
//! tasks waited on together never exceed the cap. Any rate gives a limiter
//! (the interval saturates; no rate panics). It knows nothing of HTTP.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::seconds::{later, seconds};

/// Spaces requests at least `1 / rate` apart.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter allowing `per_second` requests per second (0, a negative
    /// number, NaN or infinity = unlimited; a rate so small that its interval
    /// is beyond ten years waits ten years).
    pub fn new(per_second: f64) -> Self {
        let interval = if per_second > 0.0 {
            seconds(1.0 / per_second)
        } else {
            Duration::ZERO
        };
        RateLimiter {
            interval,
            next: Mutex::new(None),
        }
    }

    /// Waits for the next free slot.
    pub async fn acquire(&self) {
        if self.interval.is_zero() {
            return;
        }
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = match *next {
                Some(at) if at > now => at,
                _ => now,
            };
            *next = Some(later(slot, self.interval));
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_are_spaced_by_the_rate() {
        let limiter = RateLimiter::new(10.0);
        let started = Instant::now();
        for _ in 0..11 {
            limiter.acquire().await;
        }
        assert_eq!(started.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_too_small_for_a_duration_waits_at_most_ten_years_and_never_panics() {
        let limiter = RateLimiter::new(1e-300);
        assert_eq!(limiter.interval, crate::seconds::LONGEST);
        let started = Instant::now();
        limiter.acquire().await;
        limiter.acquire().await;
        assert_eq!(started.elapsed(), crate::seconds::LONGEST);
        for rate in [f64::NAN, f64::INFINITY, -1.0, -0.0, f64::NEG_INFINITY] {
            assert_eq!(RateLimiter::new(rate).interval, Duration::ZERO, "{rate}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn zero_means_unlimited() {
        let limiter = RateLimiter::new(0.0);
        let started = Instant::now();
        for _ in 0..100 {
            limiter.acquire().await;
        }
        assert_eq!(started.elapsed(), Duration::ZERO);
    }
}
