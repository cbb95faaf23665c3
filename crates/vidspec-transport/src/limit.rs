//! A cap on requests per second across everything one `Client` does.
//!
//! Owns request spacing: each request takes the next free slot, so a hundred
//! tasks waited on together never exceed the cap. It knows nothing of HTTP.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Spaces requests at least `1 / rate` apart.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter allowing `per_second` requests per second (0 = unlimited).
    pub fn new(per_second: f64) -> Self {
        let interval = if per_second > 0.0 {
            Duration::from_secs_f64(1.0 / per_second)
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
            *next = Some(slot + self.interval);
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
    async fn zero_means_unlimited() {
        let limiter = RateLimiter::new(0.0);
        let started = Instant::now();
        for _ in 0..100 {
            limiter.acquire().await;
        }
        assert_eq!(started.elapsed(), Duration::ZERO);
    }
}
