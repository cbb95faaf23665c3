//! Webhook callbacks, as the gateway documents them (gateway-facts §3.3): a
//! submit's top-level `webhook` base URL gets the bare task object POSTed to
//! `<webhook>/callback` once the task is `completed` or `failed`, never while
//! it runs; no 2xx within about 10 s or a 5xx is retried at most 3 times,
//! about 10, 30 and 60 s apart; a 4xx stops. Every wait is simulated time
//! (divided by `speed`), except that the wait for an answer is never shorter
//! than one real second (a loopback receiver on a busy machine is not slow).
//!
//! This module owns the URL joining, the private-address rule, the retry
//! schedule and the HTTP/1.1 POST (hyper's client over a tokio `TcpStream`;
//! the simulator has no TLS, so an `https` target is counted as dropped). It
//! must not render task bodies (tasks does) nor decide what is dropped or
//! duplicated (the seeded plan comes from state).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper::header::{CONTENT_TYPE, HOST, USER_AGENT};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;
use url::{Host, Position, Url};

use crate::state::{CallbackPlan, SimState};
use crate::stats::bump;

/// The path segment the gateway appends to a webhook base URL.
pub(crate) const CALLBACK_SUFFIX: &str = "callback";

/// Simulated seconds between a failed attempt and the next one.
const RETRY_DELAYS_S: [f64; 3] = [10.0, 30.0, 60.0];

/// Simulated seconds the gateway waits for a 2xx.
const ANSWER_WAIT_S: f64 = 10.0;

/// The shortest real wait for an answer, whatever the speed.
const MIN_ANSWER_WAIT: Duration = Duration::from_secs(1);

/// How one POST ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// A 2xx.
    Delivered,
    /// A 4xx: no more retries.
    Refused,
    /// A 5xx, another status, no answer in time or no connection.
    Retry,
}

/// `<webhook>/callback` as the gateway joins it (`https://x.com` →
/// `https://x.com/callback`, `https://x.com/api/` →
/// `https://x.com/api/callback`), or `None` for anything that is not an
/// absolute `http`/`https` URL with a host.
pub(crate) fn callback_url(webhook: &str) -> Option<Url> {
    let mut url = Url::parse(webhook.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    let path = format!("{}/{CALLBACK_SUFFIX}", url.path().trim_end_matches('/'));
    url.set_path(&path);
    url.set_fragment(None);
    Some(url)
}

/// Whether the gateway would refuse `url` as a private address: loopback,
/// private, link-local, unspecified or broadcast IPs, and `localhost`.
/// Host names are not resolved.
pub(crate) fn is_private(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => private_v4(ip),
        Some(Host::Ipv6(ip)) => private_v6(ip),
        None => true,
    }
}

fn private_v4(ip: Ipv4Addr) -> bool {
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
}

fn private_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return private_v4(v4);
    }
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || first & 0xfe00 == 0xfc00 // unique local fc00::/7
        || first & 0xffc0 == 0xfe80 // link local fe80::/10
}

/// Simulated seconds as real time at `speed` (positive, checked at start).
fn scaled(seconds: f64, speed: f64) -> Duration {
    Duration::try_from_secs_f64(seconds / speed).unwrap_or(Duration::MAX)
}

/// Schedules the callback of task `task_id` for a submit that carried
/// `webhook` (any JSON value: one that is not a usable URL is dropped when
/// the task ends, silently, as the gateway does). Draws the drop and
/// duplicate decisions now, in request order. Must run on a tokio runtime.
/// A callback still pending when the server stops is abandoned.
pub(crate) fn schedule(state: &Arc<SimState>, task_id: String, webhook: &Value) {
    let target = webhook.as_str().and_then(callback_url);
    let plan = state.callback_plan();
    let state = Arc::clone(state);
    tokio::spawn(async move {
        tokio::select! {
            () = deliver(&state, task_id, target, plan) => {}
            () = state.background_stopped() => {}
        }
    });
}

/// Waits for the task to end, then sends its callback with the retries.
async fn deliver(state: &SimState, task_id: String, target: Option<Url>, plan: CallbackPlan) {
    let Some(end) = state.task_end(&task_id) else {
        return;
    };
    tokio::time::sleep_until(end).await;
    let Some(body) = state.callback_body(&task_id) else {
        return;
    };
    let allowed = |url: &Url| {
        url.scheme() == "http" && (state.config.webhook_allow_private || !is_private(url))
    };
    let url = match target {
        Some(url) if allowed(&url) && !plan.drop => url,
        _ => {
            bump(&state.counters.callbacks_dropped);
            return;
        }
    };
    let payload = match serde_json::to_vec(&body) {
        Ok(payload) => payload,
        Err(_) => {
            bump(&state.counters.callbacks_dropped);
            return;
        }
    };
    let speed = state.config.speed;
    let wait = scaled(ANSWER_WAIT_S, speed).max(MIN_ANSWER_WAIT);
    let mut delays = RETRY_DELAYS_S.iter();
    loop {
        // Counted once the POST is over, so a receiver has seen every
        // callback the counters report.
        let outcome = post(&url, payload.clone(), wait).await;
        bump(&state.counters.callbacks_sent);
        match outcome {
            Outcome::Delivered => {
                if plan.duplicate {
                    let _ = post(&url, payload, wait).await;
                    bump(&state.counters.callbacks_sent);
                    bump(&state.counters.callback_duplicates);
                }
                return;
            }
            Outcome::Refused => {
                bump(&state.counters.callbacks_failed);
                return;
            }
            Outcome::Retry => {}
        }
        let Some(&delay) = delays.next() else {
            bump(&state.counters.callbacks_failed);
            return;
        };
        tokio::time::sleep(scaled(delay, speed)).await;
        bump(&state.counters.callback_retries);
    }
}

/// One POST, waiting at most `wait` for the status line.
async fn post(url: &Url, payload: Vec<u8>, wait: Duration) -> Outcome {
    match tokio::time::timeout(wait, send(url, payload)).await {
        Ok(Some(status)) if status.is_success() => Outcome::Delivered,
        Ok(Some(status)) if status.is_client_error() => Outcome::Refused,
        _ => Outcome::Retry,
    }
}

/// POSTs `payload` as JSON over HTTP/1.1; `None` when no answer came.
async fn send(url: &Url, payload: Vec<u8>) -> Option<StatusCode> {
    let port = url.port_or_known_default()?;
    let stream = match url.host()? {
        Host::Ipv4(ip) => TcpStream::connect((IpAddr::V4(ip), port)).await,
        Host::Ipv6(ip) => TcpStream::connect((IpAddr::V6(ip), port)).await,
        Host::Domain(name) => TcpStream::connect((name, port)).await,
    }
    .ok()?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    let driver = tokio::spawn(connection);
    let request = Request::post(&url[Position::BeforePath..Position::AfterQuery])
        .header(HOST, &url[Position::BeforeHost..Position::AfterPort])
        .header(CONTENT_TYPE, "application/json")
        .header(USER_AGENT, "vidspec-sim-webhook")
        .body(Body::from(payload))
        .ok()?;
    let status = sender.send_request(request).await.ok().map(|r| r.status());
    driver.abort();
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(webhook: &str) -> Option<String> {
        callback_url(webhook).map(String::from)
    }

    #[test]
    fn the_callback_suffix_is_joined_like_the_gateway_docs() {
        assert_eq!(
            joined("https://x.com").as_deref(),
            Some("https://x.com/callback")
        );
        assert_eq!(
            joined("https://x.com/api/").as_deref(),
            Some("https://x.com/api/callback")
        );
        assert_eq!(
            joined("http://127.0.0.1:9/hook/t0k3n").as_deref(),
            Some("http://127.0.0.1:9/hook/t0k3n/callback")
        );
    }

    #[test]
    fn a_webhook_that_is_not_an_http_url_has_no_callback() {
        assert_eq!(joined("ftp://x.com"), None);
        assert_eq!(joined("not a url"), None);
        assert_eq!(joined("/relative/path"), None);
    }

    #[test]
    fn loopback_and_private_addresses_are_private_and_public_ones_not() {
        let private = |url: &str| callback_url(url).is_some_and(|url| is_private(&url));
        for url in [
            "http://127.0.0.1:8080",
            "http://10.1.2.3",
            "http://192.168.0.1",
            "http://172.16.0.1",
            "http://localhost:3000",
            "http://[::1]:80",
            "http://[fd00::1]",
            "http://[::ffff:10.0.0.1]",
            "http://0.0.0.0",
        ] {
            assert!(private(url), "{url}");
        }
        assert!(!private("https://example.com/hooks"));
        assert!(!private("http://93.184.216.34"));
    }
}
