//! Waiting for a task through the receiver: a confirmed callback ends the
//! wait at once; a fallback poll every `fallback` (divided by the client's
//! `PollClock` speed, so a simulator sped up N times is polled N times as
//! often) catches callbacks that never come; the spec's deadline ends it
//! as `Client::wait`'s does.
//!
//! Owns the wait; a confirmed snapshot ends as an `Outcome` or an error
//! through the transport's `conclude`, the same as `Client::wait`. It must not read callbacks (the
//! receiver does) nor trust anything but the API's answer.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use vidspec_transport::{
    Error, Outcome, PollSchedule, TaskHandle, TaskSnapshot, WaitOptions, conclude, later,
    not_yet_seen, scaled,
};

use crate::receiver::{Claimed, Receiver};

/// The shortest fallback interval, whatever the caller or the clock says,
/// so a zero never turns the fallback into a busy loop.
const SHORTEST_FALLBACK: Duration = Duration::from_millis(10);

impl Receiver {
    /// Waits for `handle`'s task to end: resolves as soon as a callback's
    /// task is read again from the API and found finished, or when a
    /// fallback poll every `fallback` (`DEFAULT_FALLBACK` is sparse: 60 s)
    /// finds it finished, whichever comes first. A task that failed is
    /// `Error::TaskFailed`; the spec's deadline (its `poll.timeout_s`)
    /// ends the wait with `Error::DeadlinePassed`, as `Client::wait`.
    /// Transient poll errors are retried at the next fallback poll.
    ///
    /// The end stays known: a second wait for the task returns at once,
    /// and later callbacks for it are duplicates (`Receiver::forget`
    /// drops it).
    pub async fn wait(&self, handle: &TaskHandle, fallback: Duration) -> Result<Outcome, Error> {
        let shared = &self.shared;
        let clock = shared.client.poll_clock();
        let schedule = PollSchedule::on_clock(handle, &WaitOptions::default(), clock);
        let deadline = later(Instant::now(), schedule.deadline());
        let every = scaled(fallback, 1.0 / clock.speed()).max(SHORTEST_FALLBACK);
        let mut confirmed = match shared.claim_for_wait(handle) {
            Claimed::Confirmed(snapshot) => return conclude(handle, *snapshot),
            Claimed::Waiting {
                confirmed,
                reread_now,
            } => {
                if reread_now {
                    tokio::spawn(Arc::clone(shared).reread(handle.clone()));
                }
                confirmed
            }
        };
        let mut last: Option<TaskSnapshot> = None;
        let mut callbacks_open = true;
        loop {
            let next_poll = later(Instant::now(), every).min(deadline);
            tokio::select! {
                // The snapshot is cloned out at once: the channel's guard
                // must not live across an await (the wait stays `Send`).
                changed = async {
                    confirmed.wait_for(Option::is_some).await.map(|seen| seen.clone())
                }, if callbacks_open => {
                    match changed {
                        Ok(Some(snapshot)) => return conclude(handle, snapshot),
                        // The table forgot the task: polls alone from now.
                        _ => callbacks_open = false,
                    }
                }
                () = tokio::time::sleep_until(next_poll) => {
                    shared.count_fallback_poll();
                    let left = deadline.saturating_duration_since(Instant::now()).max(every);
                    match tokio::time::timeout(left, shared.client.task(handle)).await {
                        Ok(Ok(snapshot)) if snapshot.status.is_terminal() => {
                            shared.confirm(snapshot.clone());
                            return conclude(handle, snapshot);
                        }
                        Ok(Ok(snapshot)) => last = Some(snapshot),
                        Ok(Err(error)) if !error.is_retryable() => return Err(error),
                        Ok(Err(_)) | Err(_) => {}
                    }
                    if Instant::now() >= deadline {
                        return Err(Error::DeadlinePassed {
                            last: Box::new(last.unwrap_or_else(|| not_yet_seen(&handle.id))),
                        });
                    }
                }
            }
        }
    }
}
