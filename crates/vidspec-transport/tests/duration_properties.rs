//! Property test: extreme numbers through every path that makes a duration
//! from a number — the saturating helpers, the poll schedule (scale, deadline,
//! jitter, progress, estimate, elapsed), backoff, `Retry-After`, snapshots read
//! from gateway JSON and the rate limiter. None may panic, and every duration
//! they make stays within `LONGEST` (ten years).
//!
//! The inputs are a fixed list of hostile numbers (0, -0, tiny, 1e-300, 1e19,
//! 1e30, 1e300, ±inf, NaN, `u64::MAX`, negatives) and seeded random bit
//! patterns: `VIDSPEC_PROPTEST_CASES=N` sets how many, `VIDSPEC_PROPTEST_SEED=N`
//! the seed; a failure names the inputs.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::json;
use vidspec_core::Registry;
use vidspec_transport::{
    Backoff, LONGEST, PollClock, PollSchedule, RateLimiter, Status, TaskHandle, TaskSnapshot,
    WaitOptions, expiry_warning, later, parse_retry_after, scaled, seconds, snapshot,
};

const HOSTILE: &[f64] = &[
    0.0,
    -0.0,
    f64::MIN_POSITIVE,
    5e-324,
    1e-300,
    1e-9,
    0.5,
    1.0,
    1e9,
    1e19,
    1.8446744073709552e19,
    1e30,
    1e300,
    f64::MAX,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    -1.0,
    -1e300,
    u64::MAX as f64,
    i64::MIN as f64,
];

const DURATIONS: &[Duration] = &[
    Duration::ZERO,
    Duration::from_nanos(1),
    Duration::from_secs(1),
    LONGEST,
    Duration::from_secs(u64::MAX),
    Duration::MAX,
];

/// Any f64 at all, NaNs and infinities included.
fn any_float(rng: &mut fastrand::Rng) -> f64 {
    f64::from_bits(rng.u64(..))
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

/// The hostile list, then `cases` random floats.
fn numbers() -> Vec<f64> {
    let cases = env_number("VIDSPEC_PROPTEST_CASES", 100);
    let mut rng = fastrand::Rng::with_seed(env_number("VIDSPEC_PROPTEST_SEED", 0x5eed_d0a7_1011));
    let mut numbers = HOSTILE.to_vec();
    numbers.extend((0..cases).map(|_| any_float(&mut rng)));
    numbers
}

fn bounded(duration: Duration, what: &str) {
    assert!(duration <= LONGEST, "{what}: {duration:?} is past LONGEST");
}

fn handle() -> TaskHandle {
    let registry = Registry::embedded();
    let model = registry.model("Omni-Flash-Ext").expect("model");
    TaskHandle {
        id: "task_1".into(),
        model: model.id().into(),
        task: Arc::clone(model.task()),
        request_id: None,
    }
}

#[test]
fn seconds_saturates_every_number_into_zero_to_longest() {
    for value in numbers() {
        let made = seconds(value);
        bounded(made, &format!("seconds({value})"));
        if value.is_nan() || value <= 0.0 {
            assert_eq!(made, Duration::ZERO, "seconds({value})");
        }
        for &duration in DURATIONS {
            bounded(
                scaled(duration, value),
                &format!("scaled({duration:?}, {value})"),
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn later_never_overflows_an_instant() {
    let now = tokio::time::Instant::now();
    for &duration in DURATIONS {
        let then = later(now, duration);
        assert!(then >= now && then <= now + LONGEST, "{duration:?}");
    }
}

#[test]
fn poll_schedules_from_any_options_and_any_answer_stay_bounded() {
    let handle = handle();
    let estimates = [0, 1, 600, u64::MAX / 2, u64::MAX];
    let progresses = [None, Some(0), Some(1), Some(50), Some(99), Some(u64::MAX)];
    for value in numbers() {
        for &duration in DURATIONS {
            let options = WaitOptions {
                first_poll: Some(duration),
                interval: Some(duration),
                deadline: Some(duration),
                jitter: value,
                adaptive: true,
            };
            let from_spec = WaitOptions {
                jitter: value,
                ..WaitOptions::default()
            };
            for options in [options, from_spec] {
                let clock = PollClock::simulated(value);
                let what = format!("{options:?} {clock:?}");
                let schedule = PollSchedule::on_clock(&handle, &options, clock);
                bounded(schedule.first(), &what);
                bounded(schedule.deadline(), &what);
                for estimate in estimates {
                    for progress in progresses {
                        let last = TaskSnapshot {
                            id: "task_1".into(),
                            status: Status::Running,
                            raw_status: "processing".into(),
                            progress,
                            cost: None,
                            estimated_time_s: Some(estimate),
                            actual_time_s: None,
                            videos: vec![],
                            error: None,
                            request_id: None,
                            extras: Default::default(),
                        };
                        for &elapsed in DURATIONS {
                            bounded(
                                schedule.next_delay(Some(&last), elapsed),
                                &format!(
                                    "{what} estimate {estimate} progress {progress:?} elapsed {elapsed:?}"
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn backoff_from_any_settings_and_any_retry_after_stays_bounded() {
    for &base in DURATIONS {
        for &cap in DURATIONS {
            for &max_retry_after in DURATIONS {
                let backoff = Backoff {
                    base,
                    cap,
                    max_attempts: u32::MAX,
                    max_retry_after,
                };
                for attempt in [0, 1, 31, 64, u32::MAX] {
                    for retry_after in [None, Some(Duration::ZERO), Some(Duration::MAX)] {
                        bounded(
                            backoff.delay(attempt, retry_after),
                            &format!("{backoff:?} attempt {attempt} retry-after {retry_after:?}"),
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn retry_after_headers_of_any_number_or_date_stay_bounded() {
    let now = SystemTime::now();
    let mut headers: Vec<String> = numbers().iter().map(|value| value.to_string()).collect();
    headers.extend(
        [
            "18446744073709551616",
            "99999999999999999999999999999999999999",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Mon, 32 Foo 2024 99:99:99 GMT",
            "",
            "   ",
            "1e",
            "+5",
        ]
        .map(str::to_owned),
    );
    for header in headers {
        if let Some(wait) = parse_retry_after(&header, now) {
            bounded(wait, &format!("Retry-After: {header}"));
        }
    }
}

#[test]
fn snapshots_read_from_extreme_gateway_numbers_feed_a_bounded_schedule() {
    let handle = handle();
    let schedule =
        PollSchedule::on_clock(&handle, &WaitOptions::default(), PollClock::simulated(0.5));
    let mut values: Vec<serde_json::Value> = numbers()
        .into_iter()
        .filter(|value| value.is_finite())
        .map(|value| json!(value))
        .collect();
    values.extend([
        json!(u64::MAX),
        json!(i64::MIN),
        json!("NaN"),
        json!("inf"),
        json!("-inf"),
        json!("-0"),
        json!("1e300"),
        json!(null),
        json!([1]),
    ]);
    for value in values {
        let body = json!({"code": 200, "data": {
            "status": "processing",
            "progress": value,
            "estimated_time": value,
            "actual_time": value,
            "result": {"videos": [{"url": "https://cdn.example/v.mp4", "expires_at": value}]},
        }});
        let read = snapshot(&handle.task, "task_1", &body, None);
        assert!(
            read.progress.is_none_or(|progress| progress <= 100),
            "{value}"
        );
        bounded(
            schedule.next_delay(Some(&read), Duration::from_secs(10)),
            &format!("{value}"),
        );
        for video in &read.videos {
            for now in [0, i64::MIN, i64::MAX] {
                let _ = expiry_warning(video.expires_at, now);
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn rate_limiters_of_any_rate_are_built_and_wait_at_most_longest() {
    for rate in numbers() {
        let limiter = RateLimiter::new(rate);
        let started = tokio::time::Instant::now();
        limiter.acquire().await;
        limiter.acquire().await;
        bounded(started.elapsed(), &format!("rate {rate}"));
    }
}
