//! `POST /v1/uploads/images`: accepted images come back by URL; a missing
//! field and a non-image get the gateway's 400 messages.

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::common::{KEY, client, fast, get, start, status_and_json};
use vidspec_sim::Sim;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

async fn upload(sim: &Sim, form: Form) -> (u16, Value) {
    let response = client()
        .post(format!("{}/v1/uploads/images", sim.base_url()))
        .bearer_auth(KEY)
        .multipart(form)
        .send()
        .await
        .expect("an answer");
    status_and_json(response).await
}

#[tokio::test]
async fn an_uploaded_png_is_served_back_by_its_url() {
    let sim = start(fast()).await;
    let part = Part::bytes(PNG.to_vec()).file_name("my photo.png");
    let (status, body) = upload(&sim, Form::new().part("file", part)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["filename"], "my_photo.png");
    assert_eq!(body["content_type"], "image/png");
    assert_eq!(body["bytes"], PNG.len());
    assert!(body["created_at"].is_u64());
    let url = body["url"].as_str().expect("a URL");
    assert!(
        url.starts_with(&format!("{}/__sim/uploads/", sim.base_url())),
        "{url}"
    );
    let served = get(url).await;
    assert_eq!(
        served.headers().get("content-type").map(|v| v.as_bytes()),
        Some(&b"image/png"[..])
    );
    assert_eq!(served.bytes().await.expect("the image").as_ref(), PNG);
    assert_eq!(sim.stats().uploads, 1);
}

#[tokio::test]
async fn an_upload_without_a_file_field_is_refused() {
    let sim = start(fast()).await;
    let (status, body) = upload(&sim, Form::new().text("image", "nope")).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        serde_json::json!({"error": {"message": "missing or invalid file field: http: no such file", "type": "invalid_request_error"}})
    );
    assert_eq!(sim.stats().uploads, 0);
    assert_eq!(sim.stats().rejected, 1);
}

#[tokio::test]
async fn a_pdf_is_an_unsupported_image_type() {
    let sim = start(fast()).await;
    let part = Part::bytes(b"%PDF-1.7 not an image".to_vec())
        .file_name("doc.png")
        .mime_str("image/png")
        .expect("a MIME type");
    let (status, body) = upload(&sim, Form::new().part("file", part)).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "unsupported image type: application/pdf, allowed: jpeg, png, gif, webp"
    );
}

#[tokio::test]
async fn a_file_over_20_mb_is_too_large() {
    let sim = start(fast()).await;
    let mut big = PNG.to_vec();
    big.resize(20 * 1024 * 1024 + 1, 0);
    let part = Part::bytes(big).file_name("big.png");
    let (status, body) = upload(&sim, Form::new().part("file", part)).await;
    assert_eq!(status, 413);
    assert_eq!(
        body["error"]["message"],
        "file size 20971521 exceeds maximum 20971520 bytes"
    );
    assert_eq!(sim.stats().uploads, 0);
}
