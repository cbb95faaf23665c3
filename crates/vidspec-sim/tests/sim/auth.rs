//! The API key gate: 401 in the real gateway's shape, the request id in the
//! message and the header, and `/__sim/*` open without a key.

use serde_json::json;

use crate::common::{client, fast, start};

#[tokio::test]
async fn a_missing_or_wrong_key_gets_the_gateways_401() {
    let sim = start(fast()).await;
    let url = format!("{}/v1/videos/generations", sim.base_url());
    let body = json!({"model": "Omni-Flash-Ext", "prompt": "a fox"});
    for request in [
        client().post(&url).json(&body),
        client().post(&url).bearer_auth("wrong").json(&body),
    ] {
        let response = request.send().await.expect("an answer");
        assert_eq!(response.status().as_u16(), 401);
        let request_id = response
            .headers()
            .get("x-oneapi-request-id")
            .and_then(|value| value.to_str().ok())
            .expect("a request id header")
            .to_owned();
        let answer: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(answer["error"]["code"], "");
        assert_eq!(answer["error"]["param"], "");
        assert_eq!(answer["error"]["type"], "apimart_error");
        assert_eq!(
            answer["error"]["message"],
            format!("invalid API key (request id: {request_id})")
        );
    }
    let stats = sim.stats();
    assert_eq!(stats.unauthorized, 2);
    assert_eq!(stats.submit_attempts, 2);
    assert_eq!(stats.submits, 0);
}

#[tokio::test]
async fn polls_and_uploads_need_the_key_too() {
    let sim = start(fast()).await;
    let poll = client()
        .get(format!("{}/v1/tasks/task_X", sim.base_url()))
        .send()
        .await
        .expect("an answer");
    assert_eq!(poll.status().as_u16(), 401);
    let upload = client()
        .post(format!("{}/v1/uploads/images", sim.base_url()))
        .send()
        .await
        .expect("an answer");
    assert_eq!(upload.status().as_u16(), 401);
    assert_eq!(sim.stats().unauthorized, 2);
}

#[tokio::test]
async fn every_answer_has_a_unique_request_id() {
    let sim = start(fast()).await;
    let mut ids = Vec::new();
    for path in [
        "/__sim/stats",
        "/no/such/route",
        "/v1/tasks/task_X",
        "/__sim/stats",
    ] {
        let response = client()
            .get(format!("{}{path}", sim.base_url()))
            .send()
            .await
            .expect("an answer");
        let id = response
            .headers()
            .get("x-oneapi-request-id")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_else(|| panic!("no request id on {path}"))
            .to_owned();
        ids.push(id);
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
}
