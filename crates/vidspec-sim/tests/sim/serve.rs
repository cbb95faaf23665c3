//! The command-line entry point: `serve_until` runs on a bound listener until
//! its shutdown future completes and returns the final counters.

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::common::{client, fast};
use vidspec_sim::{SimConfig, serve_until};

#[tokio::test]
async fn serve_until_answers_then_returns_the_final_stats() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let base_url = format!("http://{}", listener.local_addr().expect("an address"));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve_until(listener, fast(), async {
        let _ = stopped.await;
    }));
    let answer = client()
        .post(format!("{base_url}/v1/videos/generations"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("an answer");
    assert_eq!(answer.status().as_u16(), 401);
    drop(answer);
    let _ = stop.send(());
    let stats = server
        .await
        .expect("the server task ends")
        .expect("the server ran");
    assert_eq!(stats.unauthorized, 1);
}

#[tokio::test]
async fn a_bad_configuration_is_refused_before_serving() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let config = SimConfig {
        speed: 0.0,
        ..SimConfig::default()
    };
    let error = serve_until(listener, config, async {})
        .await
        .expect_err("speed 0 is refused");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(error.to_string(), "speed must be a positive number, got 0");
}
