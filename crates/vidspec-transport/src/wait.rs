//! Waiting for tasks: the poll schedule (the spec's first delay and interval,
//! stretched while the gateway's estimate says the end is far, with jitter, up
//! to a deadline) and waiting on many tasks at once from one client.
//!
//! Owns when to poll, and that the deadline bounds everything a wait does:
//! each poll (its HTTP attempts, their retries and backoff sleeps, a slowly
//! read answer) is cut off when the deadline comes, and no sleep reaches past
//! it. Every duration it makes from a number (scale, estimate, jitter) goes
//! through `seconds`, so no input panics. One poll is `Client::task`; reading
//! is `read`. The events a wait reports (snapshots, retries, its end) and the
//! streams that carry them are `watch`'s; this module only emits them.
//!
//! `PollClock` is the one way a wait reads the spec's and the gateway's
//! durations faster than real time (a simulator run with `--speed N`); it is
//! set on a `Client` (`Client::with_poll_clock`), never in `WaitOptions`,
//! so production options hold no test setting. Tests use paused tokio time.

use std::ops::RangeInclusive;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::client::Client;
use crate::error::{Error, Operation};
use crate::handle::TaskHandle;
use crate::read::{Status, TaskSnapshot, Video};
use crate::retry::random_unit;
use crate::seconds::{LONGEST, later, scaled, seconds};
use crate::watch::{Retry, WaitEvent};
use tracing::Instrument;

/// The speeds a `PollClock` may run at: a thousandth of real time to a
/// simulator a million times faster. Values outside are clamped there; a
/// command line refuses them.
pub const POLL_SCALE_RANGE: RangeInclusive<f64> = 0.001..=1_000_000.0;

/// The longest deadline a wait takes (ten years); longer ones are clamped
/// here, and a command line refuses them.
pub const LONGEST_DEADLINE: Duration = LONGEST;

/// How a wait reads the durations of the spec's poll hints and the gateway's
/// estimates: in real time (the default, and the only setting a production
/// caller needs), or sped up for a simulated gateway that runs `speed` times
/// faster (`vidspec sim --speed N` with the CLI's `--poll-scale N`).
///
/// A test/simulator hook, kept out of `WaitOptions` on purpose: set it with
/// `Client::with_poll_clock`. Tests of library code are better served by
/// paused tokio time, which needs no hook at all.
///
/// ```
/// use vidspec_transport::PollClock;
///
/// assert_eq!(PollClock::default(), PollClock::REAL);
/// assert_eq!(PollClock::simulated(50.0).speed(), 50.0);
/// // Out of range, NaN or not positive: clamped, or real time.
/// assert_eq!(PollClock::simulated(1e300).speed(), 1_000_000.0);
/// assert_eq!(PollClock::simulated(f64::NAN), PollClock::REAL);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollClock {
    speed: f64,
}

impl PollClock {
    /// Real time: spec and gateway seconds are seconds.
    pub const REAL: PollClock = PollClock { speed: 1.0 };

    /// A gateway simulated `speed` times faster than real time: every spec
    /// hint and gateway estimate is divided by `speed`. A positive speed
    /// outside `POLL_SCALE_RANGE` is clamped into it; zero, negative or NaN
    /// is real time.
    pub fn simulated(speed: f64) -> PollClock {
        if speed > 0.0 {
            PollClock {
                speed: speed.clamp(*POLL_SCALE_RANGE.start(), *POLL_SCALE_RANGE.end()),
            }
        } else {
            PollClock::REAL
        }
    }

    /// How many times faster than real time this clock runs.
    pub fn speed(&self) -> f64 {
        self.speed
    }
}

impl Default for PollClock {
    fn default() -> Self {
        PollClock::REAL
    }
}

/// How to wait. Unset fields come from the spec's poll hints.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitOptions {
    /// Delay before the first poll.
    pub first_poll: Option<Duration>,
    /// Base delay between polls.
    pub interval: Option<Duration>,
    /// Give up after this long.
    pub deadline: Option<Duration>,
    /// Random spread of each delay, as a fraction (0.1 = ±10%).
    pub jitter: f64,
    /// Adapt the interval to the task's progress and estimate (the default);
    /// `false` polls at the fixed interval, as the gateway's docs advise.
    pub adaptive: bool,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            first_poll: None,
            interval: None,
            deadline: None,
            jitter: 0.1,
            adaptive: true,
        }
    }
}

/// A task that finished with a result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// Task id.
    pub task_id: String,
    /// Model id.
    pub model: String,
    /// The final snapshot.
    pub snapshot: TaskSnapshot,
}

impl Outcome {
    /// The result videos.
    pub fn videos(&self) -> &[Video] {
        &self.snapshot.videos
    }
}

/// The share of the gateway's `estimated_time` a task is expected to take
/// (estimates run about twice the real time: 600 s for 265 s, 100 s for 51 s).
const ESTIMATE_SHARE: f64 = 0.5;

/// The share of the predicted remaining time the next poll waits: close
/// enough to need few polls, short enough that a slightly optimistic
/// prediction still lands before the finish.
const APPROACH_SHARE: f64 = 0.8;

/// The schedule of one wait: when to poll first, how long to wait after each
/// poll, and when to give up. Every number is saturated, so any options and
/// any gateway answer give a schedule (never a panic).
#[derive(Debug, Clone, PartialEq)]
pub struct PollSchedule {
    adaptive: bool,
    first: Duration,
    every: Duration,
    deadline: Duration,
    scale: f64,
    jitter: f64,
}

impl PollSchedule {
    /// The schedule for `handle`'s spec hints and `options`, in real time.
    /// A deadline is at most `LONGEST_DEADLINE`; jitter is within 0–0.9
    /// (NaN is none).
    pub fn new(handle: &TaskHandle, options: &WaitOptions) -> PollSchedule {
        PollSchedule::on_clock(handle, options, PollClock::REAL)
    }

    /// The schedule for `handle`'s spec hints and `options`, the hints and
    /// the gateway's estimates read on `clock`.
    pub fn on_clock(handle: &TaskHandle, options: &WaitOptions, clock: PollClock) -> PollSchedule {
        let hints = &handle.task.poll;
        // Clamped again: a clock is only made by `simulated`, but a schedule
        // must hold whatever it is given.
        let scale = PollClock::simulated(clock.speed).speed;
        let scaled_hint = |hint_s: u64| seconds(hint_s as f64 / scale);
        let jitter = if options.jitter.is_nan() {
            0.0
        } else {
            options.jitter.clamp(0.0, 0.9)
        };
        PollSchedule {
            adaptive: options.adaptive,
            first: options
                .first_poll
                .unwrap_or_else(|| scaled_hint(hints.first_after_s))
                .min(LONGEST),
            every: options
                .interval
                .unwrap_or_else(|| scaled_hint(hints.every_s))
                .min(LONGEST),
            deadline: options
                .deadline
                .unwrap_or_else(|| scaled_hint(hints.timeout_s))
                .min(LONGEST_DEADLINE),
            scale,
            jitter,
        }
    }

    /// The delay before the first poll.
    pub fn first(&self) -> Duration {
        self.first
    }

    /// How long the wait may take in all.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// The delay after a poll that saw `last`, `elapsed` into the wait (at
    /// most `LONGEST`; the wait also never sleeps past its deadline).
    ///
    /// Fixed mode (`adaptive: false`): the base interval. Adaptive mode: sparse
    /// early, dense near the likely finish. The finish is predicted from the
    /// progress so far (progress rises with time: `elapsed × (100 − p) / p`
    /// remain), else from the gateway's estimate, which runs pessimistic (about
    /// twice the real time, so half of it is taken). While the finish is more
    /// than two end-intervals away, the next poll covers 80% of what remains
    /// and re-predicts; near the end, polls come every half base interval.
    pub fn next_delay(&self, last: Option<&TaskSnapshot>, elapsed: Duration) -> Duration {
        let end = self.every / 2;
        let mut delay = self.every;
        if self.adaptive {
            let from_progress = last
                .and_then(|snapshot| snapshot.progress)
                .filter(|progress| (1..100).contains(progress))
                .map(|progress| scaled(elapsed, (100 - progress) as f64 / progress as f64));
            let from_estimate =
                last.and_then(|snapshot| snapshot.estimated_time_s)
                    .map(|estimate| {
                        seconds(estimate as f64 * ESTIMATE_SHARE / self.scale)
                            .saturating_sub(elapsed)
                    });
            delay = match from_progress.or(from_estimate) {
                Some(remaining) if remaining > end * 2 => scaled(remaining, APPROACH_SHARE),
                Some(_) => end,
                None => self.every,
            };
        }
        let spread = 1.0 + self.jitter * (2.0 * random_unit() - 1.0);
        scaled(delay, spread)
    }
}

/// What to do after a poll, given the next delay and the time left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Sleep this long, then poll.
    Sleep(Duration),
    /// The next poll would come after the deadline: sleep this long, then
    /// poll one last time before it.
    LastLook(Duration),
    /// No time is left.
    GiveUp,
}

/// The next step when `delay` is due and `left` remains before the deadline.
/// When the delay would reach past the deadline, one last poll is made
/// halfway through the time left (at most one interval before the deadline),
/// so that a short deadline is not given up at the first poll.
fn next_step(delay: Duration, left: Duration, every: Duration, looked_last: bool) -> Next {
    if left.is_zero() {
        Next::GiveUp
    } else if delay < left {
        Next::Sleep(delay)
    } else if looked_last {
        Next::GiveUp
    } else {
        Next::LastLook(left.saturating_sub((left / 2).min(every)))
    }
}

impl Client {
    /// Polls `handle` until it finishes or the deadline passes. A task that
    /// fails is `Error::TaskFailed`; transient poll errors are retried until
    /// the deadline. To see snapshots and retries as they happen, use
    /// `Client::watch`.
    pub async fn wait(&self, handle: &TaskHandle, options: &WaitOptions) -> Result<Outcome, Error> {
        self.wait_reporting(handle, options, &mut |_| {}).await
    }

    /// Waits for many tasks at once; requests share the client's rate cap.
    /// Results come back in the order of `handles`, when all are done; to
    /// have each as it completes, use `Client::wait_each`.
    pub async fn wait_all(
        &self,
        handles: &[TaskHandle],
        options: &WaitOptions,
    ) -> Vec<Result<Outcome, Error>> {
        let waits = handles.iter().map(|handle| self.wait(handle, options));
        futures_util::future::join_all(waits).await
    }

    /// The wait itself: polls until the end, passing each new snapshot and
    /// each retry to `report` (the end is the return value). Runs in a
    /// `task` span (task id, model).
    pub(crate) async fn wait_reporting(
        &self,
        handle: &TaskHandle,
        options: &WaitOptions,
        report: &mut (dyn FnMut(WaitEvent) + Send),
    ) -> Result<Outcome, Error> {
        let span = tracing::info_span!("task", task_id = %handle.id, model = %handle.model);
        let result = self
            .wait_in_span(handle, options, report)
            .instrument(span.clone())
            .await;
        let _entered = span.enter();
        match &result {
            Ok(outcome) => tracing::info!(status = %outcome.snapshot.raw_status, "task finished"),
            Err(error) => tracing::warn!(error = %error, "wait ended without a result"),
        }
        result
    }

    async fn wait_in_span(
        &self,
        handle: &TaskHandle,
        options: &WaitOptions,
        report: &mut (dyn FnMut(WaitEvent) + Send),
    ) -> Result<Outcome, Error> {
        let schedule = PollSchedule::on_clock(handle, options, self.poll_clock());
        let started = Instant::now();
        let deadline = later(started, schedule.deadline);
        let gave_up = |last: Option<TaskSnapshot>| {
            tracing::warn!(
                deadline_ms = u64::try_from(schedule.deadline.as_millis()).unwrap_or(u64::MAX),
                "the deadline passed"
            );
            Error::DeadlinePassed {
                last: Box::new(last.unwrap_or_else(|| not_yet_seen(&handle.id))),
            }
        };
        let mut last: Option<TaskSnapshot> = None;
        let mut reported: Option<TaskSnapshot> = None;
        let mut looked_last = false;
        let mut failed_polls: u32 = 0;
        // A first poll due after the deadline is made earlier; it is not the
        // last look, which still comes before the deadline.
        let first = match next_step(schedule.first, schedule.deadline, schedule.every, false) {
            Next::Sleep(delay) | Next::LastLook(delay) => delay,
            Next::GiveUp => Duration::ZERO,
        };
        tokio::time::sleep(first).await;
        loop {
            // Boxed: an idle wait stays small (the request's state exists only
            // while it is in flight), so thousands of waits fit in little memory.
            // Cut off at the deadline: every HTTP attempt, retry, backoff sleep
            // and slowly dribbled answer of this poll ends there.
            let polled = {
                let mut on_retry = |retry: Retry| report(WaitEvent::Retrying(retry));
                tokio::time::timeout_at(
                    deadline,
                    Box::pin(self.poll(handle, Operation::Poll, &mut on_retry)),
                )
                .await
            };
            let Ok(polled) = polled else {
                return Err(gave_up(last));
            };
            let mut failed: Option<Error> = None;
            match polled {
                Ok(snapshot) => {
                    failed_polls = 0;
                    if reported
                        .as_ref()
                        .is_none_or(|seen| !same_state(seen, &snapshot))
                    {
                        tracing::info!(
                            status = %snapshot.raw_status,
                            progress = snapshot.progress,
                            "new snapshot"
                        );
                        reported = Some(snapshot.clone());
                        report(WaitEvent::Snapshot(snapshot.clone()));
                    }
                    match snapshot.status {
                        Status::Succeeded | Status::Failed | Status::Cancelled => {
                            return conclude(handle, snapshot);
                        }
                        _ => last = Some(snapshot),
                    }
                }
                Err(error) if error.is_retryable() => {
                    failed_polls = failed_polls.saturating_add(1);
                    failed = Some(error);
                }
                Err(error) => return Err(error),
            }
            let delay = schedule.next_delay(last.as_ref(), started.elapsed());
            let left = deadline.saturating_duration_since(Instant::now());
            let step = next_step(delay, left, schedule.every, looked_last);
            if let (Some(error), Next::Sleep(delay) | Next::LastLook(delay)) = (failed, step) {
                tracing::warn!(
                    failed_polls,
                    delay_ms = millis(delay),
                    error = %error,
                    "a poll failed after its retries; trying again at the next poll"
                );
                report(WaitEvent::Retrying(Retry {
                    attempt: failed_polls,
                    delay,
                    retry_after: error.retry_after(),
                    error,
                    next_poll: true,
                }));
            }
            match step {
                Next::Sleep(delay) => tokio::time::sleep(delay).await,
                Next::LastLook(delay) => {
                    looked_last = true;
                    tokio::time::sleep(delay).await;
                }
                Next::GiveUp => return Err(gave_up(last)),
            }
        }
    }
}

/// Whether two snapshots of a task show the same state (the answer's request
/// id aside, which changes with every poll).
fn same_state(seen: &TaskSnapshot, new: &TaskSnapshot) -> bool {
    seen.status == new.status
        && seen.raw_status == new.raw_status
        && seen.progress == new.progress
        && seen.estimated_time_s == new.estimated_time_s
        && seen.actual_time_s == new.actual_time_s
        && seen.cost == new.cost
        && seen.videos == new.videos
        && seen.error == new.error
        && seen.extras == new.extras
}

/// A duration in whole milliseconds, for log fields.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// What a wait ends with, from a task's final snapshot: the outcome of a
/// task that succeeded, [`Error::TaskFailed`] for one that failed or was
/// cancelled (any other status is taken as an end too: call it with a final
/// snapshot). Every way of waiting (the poller, a webhook receiver) ends
/// through it, so they agree.
pub fn conclude(handle: &TaskHandle, snapshot: TaskSnapshot) -> Result<Outcome, Error> {
    match snapshot.status {
        Status::Failed | Status::Cancelled => {
            let (code, message) = match &snapshot.error {
                Some(error) => (error.code.clone(), error.message.clone()),
                None => (None, format!("the task ended {}", snapshot.raw_status)),
            };
            Err(Error::TaskFailed {
                task_id: handle.id.clone(),
                code,
                message,
                snapshot: Box::new(snapshot),
            })
        }
        _ => Ok(Outcome {
            task_id: handle.id.clone(),
            model: handle.model.clone(),
            snapshot,
        }),
    }
}

/// The snapshot a deadline reports when no poll answered.
pub fn not_yet_seen(id: &str) -> TaskSnapshot {
    TaskSnapshot {
        id: id.to_owned(),
        status: Status::Unknown("not seen yet".to_owned()),
        raw_status: "not seen yet".to_owned(),
        progress: None,
        cost: None,
        estimated_time_s: None,
        actual_time_s: None,
        videos: Vec::new(),
        error: None,
        request_id: None,
        extras: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use vidspec_core::spec::{PollHints, Task, TaskRead};

    use super::*;

    fn handle() -> TaskHandle {
        TaskHandle {
            id: "task_1".into(),
            model: "m".into(),
            task: Arc::new(Task {
                submit_task_id: vec![],
                poll_path: "/v1/tasks/{task_id}".into(),
                poll: PollHints {
                    first_after_s: 8,
                    every_s: 5,
                    typical_s: 60,
                    timeout_s: 600,
                    rule: None,
                },
                read: TaskRead {
                    status: vec![],
                    progress: vec![],
                    cost: vec![],
                    estimated_time: vec![],
                    actual_time: vec![],
                    videos: vec![],
                    error_code: vec![],
                    error_message: vec![],
                    extras: Default::default(),
                },
                statuses: Default::default(),
            }),
            request_id: None,
        }
    }

    fn running(estimate: Option<u64>) -> TaskSnapshot {
        TaskSnapshot {
            estimated_time_s: estimate,
            ..not_yet_seen("task_1")
        }
    }

    #[test]
    fn the_schedule_comes_from_the_spec_scaled() {
        let schedule = PollSchedule::on_clock(
            &handle(),
            &WaitOptions::default(),
            PollClock::simulated(10.0),
        );
        assert_eq!(schedule.first, Duration::from_millis(800));
        assert_eq!(schedule.every, Duration::from_millis(500));
        assert_eq!(schedule.deadline, Duration::from_secs(60));
    }

    #[test]
    fn a_far_estimate_spaces_polls_out() {
        let schedule = PollSchedule::new(
            &handle(),
            &WaitOptions {
                jitter: 0.0,
                ..WaitOptions::default()
            },
        );
        // Estimate 600 s: likely 300 s; 10 s in, 290 s remain: poll in 232 s.
        let delay = schedule.next_delay(Some(&running(Some(600))), Duration::from_secs(10));
        assert_eq!(delay, Duration::from_secs(232));
    }

    #[test]
    fn near_the_finish_polls_come_every_half_interval() {
        let schedule = PollSchedule::new(
            &handle(),
            &WaitOptions {
                jitter: 0.0,
                ..WaitOptions::default()
            },
        );
        assert_eq!(
            schedule.next_delay(Some(&running(Some(60))), Duration::from_secs(28)),
            Duration::from_millis(2500)
        );
        assert_eq!(
            schedule.next_delay(Some(&running(None)), Duration::from_secs(50)),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn progress_predicts_the_finish_better_than_a_pessimistic_estimate() {
        let schedule = PollSchedule::new(
            &handle(),
            &WaitOptions {
                jitter: 0.0,
                ..WaitOptions::default()
            },
        );
        let mut snapshot = running(Some(600));
        snapshot.progress = Some(80);
        // 80% after 100 s: 25 s to go, so poll again in 20 s, not 160 s.
        let delay = schedule.next_delay(Some(&snapshot), Duration::from_secs(100));
        assert_eq!(delay, Duration::from_secs(20));
    }

    #[test]
    fn fixed_mode_ignores_progress_and_estimates() {
        let options = WaitOptions {
            jitter: 0.0,
            adaptive: false,
            ..WaitOptions::default()
        };
        let schedule = PollSchedule::new(&handle(), &options);
        assert_eq!(
            schedule.next_delay(Some(&running(Some(600))), Duration::from_secs(10)),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn a_delay_past_the_deadline_becomes_one_last_look_before_it_then_giving_up() {
        let every = Duration::from_secs(5);
        let left = Duration::from_secs(3);
        assert_eq!(
            next_step(Duration::from_secs(2), left, every, false),
            Next::Sleep(Duration::from_secs(2))
        );
        assert_eq!(
            next_step(Duration::from_secs(60), left, every, false),
            Next::LastLook(Duration::from_millis(1500))
        );
        assert_eq!(
            next_step(
                Duration::from_secs(200),
                Duration::from_secs(100),
                every,
                false
            ),
            Next::LastLook(Duration::from_secs(95))
        );
        assert_eq!(
            next_step(Duration::from_secs(60), left, every, true),
            Next::GiveUp
        );
        assert_eq!(
            next_step(Duration::ZERO, Duration::ZERO, every, false),
            Next::GiveUp
        );
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let schedule = PollSchedule::new(&handle(), &WaitOptions::default());
        for _ in 0..200 {
            let delay = schedule.next_delay(None, Duration::ZERO);
            assert!(
                delay >= Duration::from_millis(4500) && delay <= Duration::from_millis(5500),
                "{delay:?}"
            );
        }
    }
}
