//! `Client::balance` against the simulated gateway on loopback, and against
//! a loopback server that has no balance endpoint. Nothing here leaves
//! 127.0.0.1.

use std::time::Duration;

use vidspec_sim::{Sim, SimConfig};
use vidspec_transport::{ApiKey, Backoff, Client, ClientOptions, Error, Operation};

async fn start(balance: Option<f64>) -> Sim {
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

#[tokio::test]
async fn a_configured_balance_is_read_as_the_remaining_usd() {
    let sim = start(Some(7.5)).await;
    let balance = client(sim.base_url(), "sim-key")
        .balance()
        .await
        .expect("an answer")
        .expect("the simulator offers a balance");
    assert_eq!(balance.remaining, Some(7.5));
    assert_eq!(balance.used, Some(0.0));
    assert!(!balance.unlimited);
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unlimited_quota_is_read_as_unlimited() {
    let sim = start(None).await;
    let balance = client(sim.base_url(), "sim-key")
        .balance()
        .await
        .expect("an answer")
        .expect("the simulator offers a balance");
    assert!(balance.unlimited);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_gateway_without_a_balance_endpoint_answers_none_not_an_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    // Every path is 404, as on a gateway that has no balance endpoint.
    let server = tokio::spawn(async move {
        axum::serve(listener, axum::Router::new())
            .await
            .expect("serve")
    });
    let balance = client(base, "sim-key").balance().await.expect("an answer");
    assert_eq!(balance, None);
    server.abort();
}

#[tokio::test]
async fn a_refused_key_is_an_unauthorized_balance_check() {
    let sim = start(Some(1.0)).await;
    let error = client(sim.base_url(), "wrong-key")
        .balance()
        .await
        .expect_err("the key is refused");
    assert!(
        matches!(
            error,
            Error::Unauthorized {
                operation: Operation::Balance,
                ..
            }
        ),
        "{error:?}"
    );
    sim.shutdown().await;
}
