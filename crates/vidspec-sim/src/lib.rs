//! vidspec-sim: a fake APIMart-style video gateway on loopback, with stateful
//! tasks, fault injection and counters — for transport tests and for trying
//! the CLI without spending money.
//!
//! # Endpoints
//!
//! | route | what it does |
//! |---|---|
//! | `POST /v1/videos/generations` | checks the body (model, prompt, Omni-Flash-Ext's coded errors), creates a task, answers `{"code":200,"data":[{"status":"submitted","task_id"}]}` (or the object shape, see [`SubmitShape`]); a model id the simulator has no checks for (a model added as data) gets a generic task in the same shapes |
//! | `POST /v1/…` (any other path) | a submit to an endpoint a spec named (e.g. one per mode): a known model keeps its checks, any other gets a generic task |
//! | `POST /v1/midjourney/generations/video` | checks the Midjourney rules (exactly one of `image_urls` / `task_id`, prompt unless `task_id`, `batch_size` 1/2/4, …), creates a Midjourney task |
//! | `GET /v1/tasks/{id}` | the task now: `submitted` → `processing` (rising `progress`, pessimistic `estimated_time`) → `completed` with `result.videos[].url[]` / `failed` with `error`; Midjourney tasks answer a bare `{id, status: SUBMITTED…SUCCESS/FAILURE, action, mode, progress, video_url, video_urls}` |
//! | `GET /v1/balance`, `GET /v1/user/balance` | `{"code":200,"data":{remain_balance, remain_credits, used_balance, used_credits, unlimited_quota}}` (USD; 10 credits per USD): [`SimConfig::balance`] less 0.2 per created task (the `cost` a completed task reports), a failed task refunded when it fails; no balance configured = `unlimited_quota: true` |
//! | `POST /v1/uploads/images` | multipart `file`, JPEG/PNG/WebP/GIF by magic bytes, ≤ 20 MB |
//! | `GET /__sim/videos/{id}/{n}.mp4` | a tiny valid MP4 of a finished task (no key needed, like a CDN URL) |
//! | `GET /__sim/uploads/{name}` | an uploaded image back |
//! | `GET /__sim/stats` | [`Stats`] as JSON |
//! | `GET /__sim/tasks` | [`TaskList`]: every created task (id, status now, prompt), oldest first — charges counted from the gateway's side |
//!
//! The `/v1/*` routes need `Authorization: Bearer <api_key>` (else the real
//! gateway's 401 body). Every answer carries a unique `X-Oneapi-Request-Id`.
//! Submits and polls may get faults ([`Faults`], [`Scripted`]): 402, 429
//! (optionally with `Retry-After`), 500, slow answers, dropped connections and
//! truncated JSON.
//!
//! # Idempotency keys
//!
//! A submit to any endpoint that carries `Idempotency-Key` (1–191 visible
//! ASCII characters, else 400) is handled as the gateway documents
//! (gateway-facts §3.4), per API key and path: the first request runs and its
//! answer is kept; the same key and body again gets that answer replayed with
//! `Idempotency-Replayed: true` (no new task: [`Stats::submits`] counts
//! charges); while the first still runs (a slow fault), `409
//! idempotency_in_progress` with `Retry-After: 1`; another body, `409
//! idempotency_key_reused`. Two faults apply only to keyed submits: `503
//! idempotency_unavailable` (not executed, the key stays free) and `409
//! idempotency_result_indeterminate` (the task is created, the answer lost,
//! and the key answers 409 indeterminate from then on). A 402, 429 or 500
//! fault leaves the key free (the request was not executed); a dropped or
//! malformed answer keeps it (the task exists: a resend is replayed).
//!
//! # Balance
//!
//! With [`SimConfig::balance`] set, a valid submit the remaining balance
//! cannot pay for answers 402 `payment_required` (counted in
//! [`Stats::balance_refusals`], no task, an idempotency key left free).
//!
//! # Webhooks
//!
//! A submit body's top-level `webhook` (a base URL) gets the task object —
//! the poll answer's, bare, without `{code, data}` — POSTed to
//! `<webhook>/callback` (`https://x.com/api/` → `https://x.com/api/callback`)
//! when the task ends `completed` or `failed`, never while it runs. No 2xx
//! within 10 s (never less than 1 s of real time) or a 5xx is retried at
//! most 3 times, 10, 30 and 60 s later; a 4xx stops. All these are
//! simulated seconds, divided by `speed`. Seeded per task in submit order:
//! [`SimConfig::webhook_drop_rate`] never sends some callbacks and
//! [`SimConfig::webhook_duplicate_rate`] sends some twice. A `webhook` that
//! is not an `http` URL (the simulator has no TLS, so `https` too), or a
//! loopback/private address while [`SimConfig::webhook_allow_private`] is
//! off, is dropped silently as the gateway does. Counted in
//! [`Stats::callbacks_sent`] (every POST), `callback_retries`,
//! `callback_duplicates`, `callbacks_dropped`, `callbacks_failed`. Pending
//! callbacks are abandoned when the server stops.
//!
//! # Order of handling
//!
//! A submit or poll is counted (`submit_attempts` / `polls`), then the key is
//! checked (401), then a fault is chosen: a [`Scripted`] entry aimed at this
//! kind of request if one is queued, else one random draw against the
//! [`Faults`] rates. 402, 429 and 500 answer instead of the request; slow
//! sleeps and then handles it; drop and malformed handle it (a valid submit
//! creates its task and counts in `submits`) and then spoil the answer. Only
//! then do the request checks (400) and the task table run. Uploads and the
//! `/__sim/*` routes never get faults.
//!
//! # Time
//!
//! A task takes `task_seconds / speed` seconds of tokio time
//! (`tokio::time::Instant`, so tests with paused time work); the numbers in
//! bodies are simulated: `actual_time` = `task_seconds`, `estimated_time` =
//! 2 × `task_seconds`, `created` is the wall clock at submit, `completed` =
//! `created + actual_time`, `expires_at` = `completed + url_ttl_s`.
//! A failing task fails halfway through its time.
//!
//! # An independent judge
//!
//! The request checks are hand-written on `serde_json::Value` from the seed
//! pages and share nothing with vidspec-core: when the engine and the
//! simulator disagree, one of them is wrong and a test says so.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use vidspec_sim::{FaultTarget, Scripted, Sim, SimConfig};
//!
//! let config = SimConfig { speed: 1000.0, task_seconds: 1.0, ..SimConfig::default() };
//! let sim = Sim::start("127.0.0.1:0".parse().unwrap(), config).await?;
//! sim.script(vec![Scripted::RateLimited { retry_after: Some(1), on: FaultTarget::Submits }]);
//! // point a client at sim.base_url() with the key "sim-key" …
//! assert_eq!(sim.stats().faults_injected, 0);
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod checks;
mod config;
mod faults;
mod idempotency;
mod media;
mod replies;
mod rng;
mod routes;
mod server;
mod state;
mod stats;
mod task_list;
mod tasks;
mod uploads;
mod webhooks;

pub use config::{ConfigError, FaultSpecError, FaultTarget, Faults, SimConfig, SubmitShape};
pub use faults::Scripted;
pub use server::{Sim, serve, serve_until};
pub use stats::Stats;
pub use task_list::{SimTask, TaskList};
