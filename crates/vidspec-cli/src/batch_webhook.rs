//! `batch run --webhook-listen ADDR --webhook-url URL`: the callback
//! receiver of vidspec-webhook served on ADDR (axum on a tokio listener),
//! its public URL (URL plus a secret token) handed to the runner for every
//! submit, and its wait plugged in as the runner's `Waiter`.
//!
//! It must not read callbacks or trust them (the receiver re-reads each
//! task from the API) and must never print the token: only the URL the
//! user gave is shown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures_util::future::BoxFuture;
use url::Url;
use vidspec_batch::{Job, Waiter};
use vidspec_core::{Registry, Webhook};
use vidspec_transport::{Client, Error, Outcome, TaskHandle};
use vidspec_webhook::{DEFAULT_FALLBACK, Receiver, ReceiverOptions};

use crate::output::terminal;

/// The runner's waits through the receiver, with a sparse fallback poll.
struct ReceiverWaiter {
    receiver: Receiver,
    fallback: Duration,
}

impl Waiter for ReceiverWaiter {
    fn wait(&self, handle: &TaskHandle) -> BoxFuture<'_, Result<Outcome, Error>> {
        let handle = handle.clone();
        Box::pin(async move { self.receiver.wait(&handle, self.fallback).await })
    }
}

/// A receiver serving on its address: what the runner needs.
pub struct Listening {
    /// The callback URL for submits (the token in it: never print it).
    pub public_url: Url,
    /// Waits for the runner.
    pub waiter: Arc<dyn Waiter>,
}

/// The callback declaration the manifest's models share: the receiver
/// listens on one callback segment. Jobs whose model takes no callback URL
/// are counted (the runner refuses them before sending).
fn declaration(registry: &Registry, jobs: &[Job]) -> anyhow::Result<(Webhook, usize)> {
    let mut found: Option<Webhook> = None;
    let mut without = 0;
    for job in jobs {
        let webhook = registry
            .model(&job.model)
            .and_then(|model| model.prepare(job.request.clone()).ok())
            .and_then(|plan| plan.webhook().cloned());
        match (webhook, &found) {
            (None, _) => without += 1,
            (Some(webhook), None) => found = Some(webhook),
            (Some(webhook), Some(first)) => anyhow::ensure!(
                webhook.callback == first.callback,
                "the manifest's models want callbacks on different paths ({:?} and {:?}); \
                 one receiver listens on one: run them as separate manifests",
                first.callback,
                webhook.callback
            ),
        }
    }
    let Some(found) = found else {
        anyhow::bail!(
            "no job of the manifest is for a model whose endpoint takes a callback URL \
             (the spec's endpoint.webhook): run without --webhook-listen and --webhook-url"
        );
    };
    Ok((found, without))
}

/// Binds `listen`, serves the receiver there, and returns its public URL
/// (under `public`) and its waiter.
pub fn serve(
    runtime: &tokio::runtime::Runtime,
    registry: &Registry,
    client: &Client,
    jobs: &[Job],
    listen: SocketAddr,
    public: &str,
) -> anyhow::Result<Listening> {
    let base = Url::parse(public).with_context(|| {
        terminal(&format!(
            "--webhook-url {public} is not a URL: give the public address that reaches \
             --webhook-listen, such as https://hooks.example.com/vidspec"
        ))
        .into_owned()
    })?;
    anyhow::ensure!(
        matches!(base.scheme(), "http" | "https") && base.host().is_some(),
        "{}",
        terminal(&format!(
            "--webhook-url {public} must be an http:// or https:// URL with a host (the gateway \
             refuses other schemes, private addresses and ports other than 80 and 443)"
        ))
    );
    let (declaration, without) = declaration(registry, jobs)?;
    if without > 0 {
        eprintln!(
            "warning: {without} job(s) are for models that take no callback URL: they are \
             refused before sending (not_sent); run them without --webhook-url"
        );
    }
    let receiver = Receiver::new(client.clone(), ReceiverOptions::new(&declaration))
        .context("cannot make the webhook receiver")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(listen))
        .with_context(|| format!("cannot listen on {listen} (--webhook-listen)"))?;
    let bound = listener.local_addr().unwrap_or(listen);
    let router = receiver.router();
    runtime.spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            eprintln!("warning: the webhook receiver stopped ({error}); polling goes on");
        }
    });
    eprintln!(
        "{}",
        terminal(&format!(
            "note: receiving callbacks on {bound}; the gateway is given {} with a secret \
             token added (not shown); tasks are polled every {} s in case a callback is lost",
            base,
            DEFAULT_FALLBACK.as_secs()
        ))
    );
    Ok(Listening {
        public_url: receiver.public_url(&base),
        waiter: Arc::new(ReceiverWaiter {
            receiver,
            fallback: DEFAULT_FALLBACK,
        }),
    })
}
