//! Waiting as streams: `Client::watch` yields a task's events as they happen
//! (each new snapshot, each retry, then how it ended), and
//! `Client::wait_each` yields the results of many tasks as each completes.
//!
//! Owns the event types and the streams. It must not decide when to poll or
//! give up (`wait` does, with the deadline bounding everything) nor retry on
//! its own (`retry` does, and reports each retry here). The streams own what
//! they need (a client clone, the handles, the options), so they can be
//! stored, moved to another task, or dropped: dropping one stops its polls at
//! once, and no request is left behind.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, Stream};

use crate::client::Client;
use crate::error::Error;
use crate::handle::TaskHandle;
use crate::read::TaskSnapshot;
use crate::wait::{Outcome, WaitOptions};

/// Something that happened while waiting for a task.
#[derive(Debug)]
#[non_exhaustive]
pub enum WaitEvent {
    /// The task's state changed (status, progress, estimate, result …): the
    /// first snapshot, then each that differs from the one before.
    Snapshot(TaskSnapshot),
    /// A poll failed and is tried again after `Retry::delay`.
    Retrying(Retry),
    /// The wait ended: the task's result, `Error::TaskFailed`,
    /// `Error::DeadlinePassed`, or an error no retry helps. Always the last
    /// event.
    Finished(Result<Outcome, Error>),
}

/// A failed attempt that is tried again.
#[derive(Debug)]
#[non_exhaustive]
pub struct Retry {
    /// Which attempt failed, from 1: within one poll's retries, or (with
    /// `next_poll`) how many polls in a row failed after all their retries.
    pub attempt: u32,
    /// How long until the next attempt.
    pub delay: Duration,
    /// The server's `Retry-After`, when it sent one (`delay` honours it, up
    /// to `Backoff::max_retry_after`).
    pub retry_after: Option<Duration>,
    /// What failed (redacted, like every transport error).
    pub error: Error,
    /// `true` when the poll's own retries were spent and the wait tries
    /// again at its next poll; `false` for a retry within one poll.
    pub next_poll: bool,
}

/// The events a wait reported that the stream has not yielded yet.
type Queue = Arc<Mutex<VecDeque<WaitEvent>>>;

type Waiting = Pin<Box<dyn Future<Output = Result<Outcome, Error>> + Send>>;

/// The events of one task's wait, from `Client::watch`: snapshots and
/// retries as they happen, then one `WaitEvent::Finished`, then the end.
#[must_use = "a stream does nothing unless polled"]
pub struct WaitStream {
    queue: Queue,
    waiting: Option<Waiting>,
    finished: Option<Result<Outcome, Error>>,
}

impl std::fmt::Debug for WaitStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitStream")
            .field("waiting", &self.waiting.is_some())
            .finish_non_exhaustive()
    }
}

impl WaitStream {
    fn next_queued(&self) -> Option<WaitEvent> {
        // A poisoned lock means a push panicked half-way; the queue itself
        // is still a valid queue, so it is read on.
        let mut queue = match self.queue.lock() {
            Ok(queue) => queue,
            Err(poisoned) => poisoned.into_inner(),
        };
        queue.pop_front()
    }
}

impl Stream for WaitStream {
    type Item = WaitEvent;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<WaitEvent>> {
        if let Some(event) = self.next_queued() {
            return Poll::Ready(Some(event));
        }
        if let Some(waiting) = self.waiting.as_mut() {
            // Events are only ever queued while the wait is polled, so after
            // this poll the queue holds all there is to yield.
            if let Poll::Ready(result) = waiting.as_mut().poll(context) {
                self.waiting = None;
                self.finished = Some(result);
            }
            if let Some(event) = self.next_queued() {
                return Poll::Ready(Some(event));
            }
            if self.waiting.is_some() {
                return Poll::Pending;
            }
        }
        Poll::Ready(self.finished.take().map(WaitEvent::Finished))
    }
}

type Each = Pin<Box<dyn Future<Output = (TaskHandle, Result<Outcome, Error>)> + Send>>;

/// The results of many waits as each completes, from `Client::wait_each`.
#[must_use = "a stream does nothing unless polled"]
pub struct EachStream {
    waits: FuturesUnordered<Each>,
}

impl std::fmt::Debug for EachStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EachStream")
            .field("waiting", &self.waits.len())
            .finish()
    }
}

impl Stream for EachStream {
    type Item = (TaskHandle, Result<Outcome, Error>);

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.waits).poll_next(context)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.waits.len(), Some(self.waits.len()))
    }
}

impl Client {
    /// Waits for `handle` as `Client::wait` does (same schedule, retries and
    /// deadline), yielding each new snapshot and each retry as it happens,
    /// then `WaitEvent::Finished` with the result. Dropping the stream stops
    /// the wait.
    ///
    /// Against the in-process simulator, with paused tokio time (a 60-second
    /// task takes no real time):
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use vidspec_core::Registry;
    /// use vidspec_sim::{Sim, SimConfig};
    /// use vidspec_transport::{ApiKey, Client, ClientOptions, WaitEvent, WaitOptions};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sim = Sim::start("127.0.0.1:0".parse()?, SimConfig::default()).await?;
    /// let options = ClientOptions { base_url: sim.base_url(), ..ClientOptions::default() };
    /// let client = Client::new(ApiKey::new("sim-key"), options)?;
    /// let registry = Registry::embedded();
    /// let model = registry.model("Omni-Flash-Ext").ok_or("no such model")?;
    /// let plan = model
    ///     .prepare(serde_json::json!({"model": model.id(), "prompt": "a fox"}))
    ///     .map_err(|diagnostics| diagnostics.to_string())?;
    /// let handle = client.submit(&plan).await?;
    ///
    /// let mut events = client.watch(&handle, &WaitOptions::default());
    /// let mut outcome = None;
    /// while let Some(event) = events.next().await {
    ///     match event {
    ///         WaitEvent::Snapshot(snapshot) => println!("{:?} {:?}%", snapshot.status, snapshot.progress),
    ///         WaitEvent::Retrying(retry) => println!("retrying in {:?}: {}", retry.delay, retry.error),
    ///         WaitEvent::Finished(result) => outcome = Some(result?),
    ///         _ => {}
    ///     }
    /// }
    /// assert_eq!(outcome.ok_or("no end")?.videos().len(), 1);
    /// # sim.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn watch(&self, handle: &TaskHandle, options: &WaitOptions) -> WaitStream {
        let queue: Queue = Arc::default();
        let sink = Arc::clone(&queue);
        let client = self.clone();
        let handle = handle.clone();
        let options = options.clone();
        let waiting: Waiting = Box::pin(async move {
            let mut report = move |event: WaitEvent| {
                let mut queue = match sink.lock() {
                    Ok(queue) => queue,
                    Err(poisoned) => poisoned.into_inner(),
                };
                queue.push_back(event);
            };
            client.wait_reporting(&handle, &options, &mut report).await
        });
        WaitStream {
            queue,
            waiting: Some(waiting),
            finished: None,
        }
    }

    /// Waits for every handle at once (requests share the client's rate cap
    /// and in-flight limit), yielding each task's handle and result as soon
    /// as that task ends — not in the order given, and not only when all are
    /// done. Each wait has the schedule and deadline of `Client::wait`.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// use vidspec_transport::{Client, TaskHandle, WaitOptions};
    ///
    /// # async fn example(client: &Client, handles: Vec<TaskHandle>) {
    /// let mut results = client.wait_each(handles, &WaitOptions::default());
    /// while let Some((handle, result)) = results.next().await {
    ///     match result {
    ///         Ok(outcome) => println!("{}: {} videos", handle.id, outcome.videos().len()),
    ///         Err(error) => println!("{}: {error}", handle.id),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn wait_each(
        &self,
        handles: impl IntoIterator<Item = TaskHandle>,
        options: &WaitOptions,
    ) -> EachStream {
        let waits = handles
            .into_iter()
            .map(|handle| {
                let client = self.clone();
                let options = options.clone();
                Box::pin(async move {
                    let result = client.wait(&handle, &options).await;
                    (handle, result)
                }) as Each
            })
            .collect();
        EachStream { waits }
    }
}
