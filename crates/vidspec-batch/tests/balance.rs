//! The balance check before a run, against the simulated gateway on
//! loopback (a configured balance, an unlimited quota) and against a
//! loopback server without a balance endpoint. Nothing leaves 127.0.0.1.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vidspec_batch::{BalanceVerdict, check_balance};
use vidspec_sim::{Sim, SimConfig};
use vidspec_transport::{ApiKey, Backoff, Client, ClientOptions};

async fn sim(balance: Option<f64>) -> Sim {
    Sim::start(
        "127.0.0.1:0".parse().expect("loopback"),
        SimConfig {
            balance,
            ..SimConfig::default()
        },
    )
    .await
    .expect("the simulator starts")
}

fn client(base_url: String, key: &str) -> Client {
    Client::new(
        ApiKey::new(key),
        ClientOptions {
            base_url,
            timeout: Duration::from_secs(5),
            poll_backoff: Backoff::fast(),
            ..ClientOptions::default()
        },
    )
    .expect("client")
}

/// A loopback server that answers every request 404 (a gateway without a
/// balance endpoint).
async fn without_balance_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buffer = [0u8; 1024];
                while !seen.windows(4).any(|window| window == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => seen.extend_from_slice(&buffer[..read]),
                    }
                }
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    )
                    .await;
            });
        }
    });
    base
}

#[tokio::test]
async fn a_balance_that_covers_the_estimate_is_enough() {
    let sim = sim(Some(10.0)).await;
    let verdict = check_balance(&client(sim.base_url(), "sim-key"), Some(4.8))
        .await
        .expect("a verdict");
    assert_eq!(
        verdict,
        BalanceVerdict::Enough {
            remaining: 10.0,
            needed: Some(4.8)
        }
    );
    assert!(verdict.allows_start());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_balance_equal_to_the_estimate_is_enough() {
    let sim = sim(Some(4.8)).await;
    let verdict = check_balance(&client(sim.base_url(), "sim-key"), Some(4.8))
        .await
        .expect("a verdict");
    assert!(verdict.allows_start(), "{verdict}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_balance_below_the_estimate_is_not_enough_and_the_run_may_not_start() {
    let sim = sim(Some(1.0)).await;
    let verdict = check_balance(&client(sim.base_url(), "sim-key"), Some(4.8))
        .await
        .expect("a verdict");
    assert_eq!(
        verdict,
        BalanceVerdict::NotEnough {
            remaining: 1.0,
            needed: Some(4.8)
        }
    );
    assert!(!verdict.allows_start());
    assert_eq!(
        verdict.to_string(),
        "the balance of $1.00 does not cover the estimate of $4.80: top up the account, or run fewer jobs"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_empty_balance_is_not_enough_even_without_an_estimate() {
    let sim = sim(Some(0.0)).await;
    let verdict = check_balance(&client(sim.base_url(), "sim-key"), None)
        .await
        .expect("a verdict");
    assert!(!verdict.allows_start(), "{verdict}");
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unlimited_quota_is_unlimited_whatever_the_estimate() {
    let sim = sim(None).await;
    let verdict = check_balance(&client(sim.base_url(), "sim-key"), Some(1e9))
        .await
        .expect("a verdict");
    assert_eq!(verdict, BalanceVerdict::Unlimited);
    assert!(verdict.allows_start());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_gateway_without_a_balance_endpoint_is_not_offered_and_the_run_may_start() {
    let base = without_balance_endpoint().await;
    let verdict = check_balance(&client(base, "sim-key"), Some(4.8))
        .await
        .expect("a verdict, not an error");
    assert_eq!(verdict, BalanceVerdict::NotOffered);
    assert!(verdict.allows_start());
}

#[tokio::test]
async fn a_refused_key_is_an_error_that_says_the_balance_could_not_be_checked() {
    let sim = sim(Some(10.0)).await;
    let error = check_balance(&client(sim.base_url(), "wrong-key"), Some(1.0))
        .await
        .expect_err("the key is refused");
    let message = error.to_string();
    assert!(
        message.starts_with("cannot check the account balance: the gateway refused the API key"),
        "{message}"
    );
    sim.shutdown().await;
}
