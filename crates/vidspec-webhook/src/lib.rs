//! vidspec-webhook: receives the gateway's task callbacks.
//!
//! The gateway POSTs a task object to `<webhook>/<callback>` when a task
//! ends (the spec's `endpoint.webhook`), unsigned, retried and sometimes
//! twice. A callback is only a hint: the receiver re-reads the task from
//! the API, with the key, before anything acts on it, and passes each task
//! on once. A sparse fallback poll catches callbacks that never come.
//!
//! - [`Receiver::new`] makes a receiver with an unguessable token (192 bits
//!   from the operating system); [`Receiver::router`] is an `axum::Router`
//!   to mount in your own server (`POST /<token>/<callback>`; a wrong token
//!   is a bare 404, a body over [`ReceiverOptions::body_limit`] a 413).
//! - [`Receiver::public_url`] is the URL to send with requests
//!   (`Plan::with_webhook`, or the workflow's `SubmitOptions::webhook`).
//! - [`Receiver::wait`] resolves with the same `Outcome` and errors as
//!   `Client::wait`, as soon as a callback's task is confirmed by the API
//!   or a fallback poll finds it finished.
//! - [`Receiver::counters`]: callbacks received, duplicates, rejected,
//!   re-reads and fallback polls.
//!
//! ```no_run
//! # async fn example(client: vidspec_transport::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use serde_json::json;
//! use vidspec_core::Registry;
//! use vidspec_webhook::{DEFAULT_FALLBACK, Receiver, ReceiverOptions};
//!
//! let model = Registry::embedded().model("Omni-Flash-Ext").ok_or("no such model")?;
//! let declaration = model.endpoint().webhook.clone().ok_or("the model does not call back")?;
//! let receiver = Receiver::new(client.clone(), ReceiverOptions::new(&declaration))?;
//! // Mount it in your own server, where https://example.com/hooks points.
//! let app = axum::Router::new().nest("/hooks", receiver.router());
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! tokio::spawn(async move { axum::serve(listener, app).await });
//!
//! let base = url::Url::parse("https://example.com/hooks")?;
//! let plan = model
//!     .prepare(json!({"model": model.id(), "prompt": "a red kite over the sea"}))?
//!     .with_webhook(&receiver.public_url(&base))?;
//! let handle = client.submit(&plan).await?;
//! let outcome = receiver.wait(&handle, DEFAULT_FALLBACK).await?;
//! println!("{} video(s)", outcome.videos().len());
//! # Ok(())
//! # }
//! ```
//!
//! It must not trust a callback's status, cost or URLs, act on a task the
//! API has not confirmed, or hold any model-specific field name: where the
//! task id is read from is [`ReceiverOptions::task_id_pointers`].

#![warn(missing_docs)]

mod receiver;
mod token;
mod wait;

pub use receiver::{
    Counters, DEFAULT_BODY_LIMIT, DEFAULT_FALLBACK, Receiver, ReceiverError, ReceiverOptions,
};
