//! Helpers shared by the simulator's integration tests: a fast configuration,
//! a proxy-free client, authorised requests and a poll-until-finished loop.

use std::time::Duration;

use reqwest::{Client, Response};
use serde_json::Value;
use vidspec_sim::{Sim, SimConfig};

/// The default API key of the simulator.
pub const KEY: &str = "sim-key";

/// Tasks of 2 simulated seconds at speed 1000: 2 ms of real time.
pub fn fast() -> SimConfig {
    SimConfig {
        speed: 1000.0,
        task_seconds: 2.0,
        ..SimConfig::default()
    }
}

/// A simulator on a free loopback port.
pub async fn start(config: SimConfig) -> Sim {
    let addr = "127.0.0.1:0".parse().expect("a socket address");
    Sim::start(addr, config)
        .await
        .expect("the simulator starts")
}

/// A client that never goes through a proxy (loopback only).
pub fn client() -> Client {
    Client::builder()
        .no_proxy()
        .build()
        .expect("a reqwest client")
}

/// `POST {base}{path}` with the key and a JSON body.
pub async fn post(sim: &Sim, path: &str, body: &Value) -> Response {
    client()
        .post(format!("{}{path}", sim.base_url()))
        .bearer_auth(KEY)
        .json(body)
        .send()
        .await
        .expect("the simulator answers")
}

/// `GET {url}` with the key.
pub async fn get(url: &str) -> Response {
    client()
        .get(url)
        .bearer_auth(KEY)
        .send()
        .await
        .expect("the simulator answers")
}

/// Status and JSON body of an answer.
pub async fn status_and_json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.expect("a JSON body");
    (status, body)
}

/// Reads a task id from either submit shape.
pub fn task_id_of(submit: &Value) -> String {
    submit["data"][0]["task_id"]
        .as_str()
        .or_else(|| submit["data"]["id"].as_str())
        .expect("a task id in the submit answer")
        .to_owned()
}

/// Submits `body` to `path` and returns the task id.
pub async fn submit(sim: &Sim, path: &str, body: &Value) -> String {
    let (status, answer) = status_and_json(post(sim, path, body).await).await;
    assert_eq!(status, 200, "{answer}");
    task_id_of(&answer)
}

/// A valid Omni-Flash-Ext request.
pub fn omni(prompt: &str) -> Value {
    serde_json::json!({"model": "Omni-Flash-Ext", "prompt": prompt, "duration": 6})
}

/// The status of a poll body, standard or Midjourney shape.
pub fn status_of(body: &Value) -> String {
    body["data"]["status"]
        .as_str()
        .or_else(|| body["status"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// Polls task `id` every few milliseconds until it finishes (10 s at most)
/// and returns the final body.
pub async fn poll_until_finished(sim: &Sim, id: &str) -> Value {
    let url = format!("{}/v1/tasks/{id}", sim.base_url());
    for _ in 0..2000 {
        let (status, body) = status_and_json(get(&url).await).await;
        assert_eq!(status, 200, "{body}");
        if matches!(
            status_of(&body).as_str(),
            "completed" | "failed" | "SUCCESS" | "FAILURE"
        ) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("task {id} did not finish within 10 s");
}
