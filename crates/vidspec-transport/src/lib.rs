//! vidspec-transport: submit a `Plan`, poll and wait for its task, download
//! the result — over HTTP with reqwest (rustls) on tokio.
//!
//! Task answers are read through each spec's `task` section (JSON pointers,
//! status spellings), so both response shapes of the gateway (standard
//! `{code, data}` and Midjourney's bare object) and both submit shapes
//! (`data: [{task_id}]`, `data: {id}`) are data, not per-model code.
//!
//! # Retry policy
//!
//! - **Submits cost money and are never resent once they may have reached the
//!   server**: not after a read timeout, a connection reset after sending, a
//!   malformed answer or any 5xx. A submit is retried only when it provably did
//!   not arrive (the connection could not be made: refused, DNS, TLS) and when
//!   the gateway answered 429 (refused unprocessed), honouring `Retry-After`.
//! - **Submits with an idempotency key** (`Client::submit_idempotent`, for an
//!   endpoint whose spec declares `endpoint: {idempotency: {header: …}}`)
//!   are the one exception: the gateway answers the same key and body with
//!   the task it already created, so a submit whose answer was lost (a
//!   timeout, a reset, a 5xx, a 429, `409 idempotency_in_progress` after its
//!   `Retry-After`, `503 idempotency_unavailable`) is resent with the same
//!   key and the same body bytes, within `ClientOptions::idempotent_resend`.
//!   `409 idempotency_key_reused` and `409 idempotency_result_indeterminate`
//!   stop it (`Error::IdempotencyConflict`: a task may exist); it is never
//!   resent under a new key. Without the declaration it is a plain submit:
//!   no header, nothing resent once it may have arrived.
//! - **Polls and uploads** are retried on 429, 5xx, connection failures, lost
//!   and undecodable answers, with exponential backoff and full jitter, again
//!   honouring `Retry-After` (seconds or an HTTP date). While waiting, a poll
//!   that still fails after its retries is tried again at the next interval
//!   until the deadline.
//! - **A wait's deadline bounds everything it does**: a poll in flight (its
//!   HTTP attempts, retries, backoff sleeps, a slowly dribbled answer) is cut
//!   off at the deadline, and no sleep reaches past it. API requests have a
//!   total timeout each; downloads an idle timeout (no bytes for N seconds).
//! - **No number panics**: durations from flags and gateway answers saturate
//!   (`seconds`).
//! - Errors say which call produced them (`Error::operation`) and which case
//!   they are: `Error::is_retryable` is false for anything that may have
//!   created a paid task (a 5xx, a lost or undecodable answer to a submit),
//!   so a generic retry layer keyed on it never pays twice;
//!   `Error::is_safe_to_resubmit` and `Error::may_have_created_a_task` say
//!   the rest. The enums are `#[non_exhaustive]` and keep the errors of the
//!   network and the file system as sources.
//!
//! The API key is sent only to the base URL (never with downloads), and never
//! appears in `Debug` output, an error message or a log line.
//!
//! # Waiting as a stream
//!
//! `Client::watch` yields a task's events as they happen (`WaitEvent`: each
//! new snapshot, every retry with what failed and the delay, then
//! `Finished`); `Client::wait_each` yields each task's result as it
//! completes. `Client::wait` and `Client::wait_all` are the same waits
//! without the events. All have the same schedule and deadline.
//!
//! # Observability
//!
//! The crate emits `tracing` spans and events and installs no subscriber: a
//! `task` span (task id, model) around each wait, `submit`, `poll`, `upload`
//! and `download` spans per request, an event for each HTTP attempt's outcome
//! (status, bytes, time, request id) and one for every retry (attempt,
//! delay, `Retry-After`, the error). Fields never hold the API key, a request
//! body, or a result URL's user name, password or query (downloads are named
//! by host and path).
//!
//! # Handles and I/O
//!
//! `TaskHandle::new(id, &model)` builds a handle; `TaskRef` (serde) is what
//! to store, re-attached with `TaskHandle::from_ref`. Videos download into a
//! folder (`Client::download`) or any `AsyncWrite` (`Client::download_to`);
//! images upload from a path or from bytes (`Client::upload_image_bytes`).
//! `Client::with_http` takes the caller's own `reqwest::Client` (proxies,
//! root certificates). A simulator running faster than real time is read with
//! `Client::with_poll_clock(PollClock::simulated(speed))`, a test hook kept
//! out of `WaitOptions`; tests of library code use paused tokio time instead.

mod balance;
mod client;
mod download;
mod error;
mod handle;
mod idempotent;
mod image;
mod limit;
mod media;
mod media_check;
mod media_fetch;
mod media_local;
mod preflight;
mod read;
mod redact;
mod retry;
mod seconds;
mod wait;
mod watch;

pub use balance::{BALANCE_PATH, Balance};
pub use client::{
    ApiKey, BaseUrlError, Client, ClientOptions, DEFAULT_BASE_URL, KeyError, Upload, image_mime,
};
pub use download::{
    DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_TOTAL_BYTES, DEFAULT_MAX_VIDEOS, DownloadOptions, Downloaded,
    EXPIRY_WARNING_S, expiry_warning, safe_name,
};
pub use error::{
    ConfigError, DownloadLimit, Error, Occupant, Operation, error_body, lenient_code, with_causes,
};
pub use handle::{HandleError, TaskHandle, TaskRef};
pub use idempotent::{IdempotencyKey, IdempotencyKeyError, IdempotencyRefusal, MAX_KEY_LENGTH};
pub use image::{
    ImageFormat, ImageInfo, LocalImageError, MAX_UPLOAD_BYTES, ProbeError, check as check_image,
    probe, read_local_image,
};
pub use limit::RateLimiter;
pub use media::{
    AudioInfo, BoxHeader, MAX_MOVIE_BYTES, MediaError, Movie, VideoInfo, audio_format, box_header,
    flac_seconds, read_movie, sniff_audio, sniff_video, video_format, wav_seconds,
};
pub use media_check::{Judgement, check_audio, check_video};
pub use media_fetch::{MAX_STREAMED_BYTES, MAX_TOP_LEVEL_BOXES};
pub use media_local::{check_local_audio, check_local_video};
pub use preflight::{Finding, LOCAL_READ_BYTES, REMOTE_READ_BYTES, Severity, check_local_image};
pub use read::{Status, TaskError, TaskSnapshot, Video, normalise, snapshot, submitted_task_id};
pub use retry::{Backoff, parse_retry_after};
pub use seconds::{LONGEST, later, scaled, seconds};
pub use wait::{
    LONGEST_DEADLINE, Outcome, POLL_SCALE_RANGE, PollClock, PollSchedule, WaitOptions, conclude,
    not_yet_seen,
};
pub use watch::{EachStream, Retry, WaitEvent, WaitStream};
