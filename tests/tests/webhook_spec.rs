//! Callbacks as spec data: `endpoint: {webhook: {field: …, callback: …}}`
//! is linted, inherited from a gateway file, carried by every plan of the
//! family and exported under `x-vidspec.endpoint.webhook`; the field is set
//! on a plan after validation (`Plan::with_webhook`), so the exported
//! schemas judge requests without it.

use serde_json::{Value, json};
use url::Url;
use vidspec_core::{Registry, Webhook, WebhookError};
use vidspec_tests::{GATEWAY, INHERITING, TINY, load, only_problem};

/// [`TINY`] whose endpoint (line 3) declares `webhook` as written.
fn tiny_declaring(webhook: &str) -> String {
    TINY.replace(
        "endpoint: {path: /v1/videos/generations}",
        &format!("endpoint: {{path: /v1/videos/generations, webhook: {webhook}}}"),
    )
}

fn url(text: &str) -> Url {
    Url::parse(text).expect("a URL")
}

fn gateway_declaration() -> Webhook {
    Webhook {
        field: "webhook".to_owned(),
        callback: "callback".to_owned(),
    }
}

#[test]
fn every_seed_model_declares_the_gateway_s_webhook_field_and_callback_segment() {
    for model in Registry::embedded().models() {
        assert_eq!(
            model.endpoint().webhook,
            Some(gateway_declaration()),
            "{}: gateway-facts 3.3 says every async submit takes `webhook`",
            model.id()
        );
    }
}

#[test]
fn with_webhook_sets_the_declared_top_level_field() {
    let registry = load(&[(
        "specs/tiny.yaml",
        &tiny_declaring("{field: notify_url, callback: done}"),
    )])
    .unwrap_or_else(|errors| panic!("{errors}"));
    let plan = registry
        .model("tiny-1")
        .expect("tiny loads")
        .prepare(json!({"model": "tiny-1", "prompt": "a boat"}))
        .expect("a valid request")
        .with_webhook(&url("https://example.com/hooks/abc"))
        .expect("an https URL");
    assert_eq!(plan.body()["notify_url"], "https://example.com/hooks/abc");
    assert_eq!(plan.body()["prompt"], "a boat");
}

#[test]
fn the_exported_schemas_accept_requests_without_the_field() {
    for model in Registry::embedded().models() {
        let schema = model.json_schema();
        let properties = schema["properties"].as_object();
        assert!(
            properties.is_none_or(|properties| !properties.contains_key("webhook")),
            "{}: the field is set after validation, not part of the request",
            model.id()
        );
    }
    // The seed cases (valid without the field) are checked against the
    // exported schemas by tests/cases.rs; here one request for certain.
    let model = Registry::embedded()
        .model("Omni-Flash-Ext")
        .expect("a seed model");
    let validator = jsonschema::draft202012::new(model.json_schema()).expect("a valid schema");
    assert!(validator.is_valid(&json!({"model": "Omni-Flash-Ext", "prompt": "a fox"})));
}

#[test]
fn a_request_cannot_carry_the_field_itself() {
    let model = Registry::embedded()
        .model("Omni-Flash-Ext")
        .expect("a seed model");
    let refused = model.prepare(json!({
        "model": "Omni-Flash-Ext",
        "prompt": "a fox",
        "webhook": "https://attacker.invalid/"
    }));
    assert!(
        refused.is_err(),
        "the callback URL is the caller's, set by with_webhook"
    );
}

#[test]
fn with_webhook_refuses_a_model_that_declares_none() {
    let registry = load(&[("specs/tiny.yaml", TINY)]).unwrap_or_else(|errors| panic!("{errors}"));
    let refused = registry
        .model("tiny-1")
        .expect("tiny loads")
        .prepare(json!({"model": "tiny-1", "prompt": "a boat"}))
        .expect("a valid request")
        .with_webhook(&url("https://example.com/hooks"))
        .map(|_| ());
    assert!(
        matches!(refused, Err(WebhookError::NotDeclared { ref model }) if model == "tiny-1"),
        "{refused:?}"
    );
}

#[test]
fn with_webhook_refuses_urls_that_are_not_http_or_https() {
    let model = Registry::embedded()
        .model("Omni-Flash-Ext")
        .expect("a seed model");
    let plan = model
        .prepare(json!({"model": "Omni-Flash-Ext", "prompt": "a fox"}))
        .expect("a valid request");
    for text in [
        "ftp://example.com/hooks",
        "file:///tmp/hooks",
        "data:text/plain,x",
    ] {
        let refused = plan.clone().with_webhook(&url(text)).map(|_| ());
        assert!(
            matches!(refused, Err(WebhookError::Scheme { .. })),
            "{text}: {refused:?}"
        );
    }
    assert!(
        plan.clone()
            .with_webhook(&url("http://example.com/hooks"))
            .is_ok()
    );
}

#[test]
fn with_webhook_refuses_a_url_with_a_query_the_segment_would_follow() {
    let model = Registry::embedded()
        .model("Omni-Flash-Ext")
        .expect("a seed model");
    let refused = model
        .prepare(json!({"model": "Omni-Flash-Ext", "prompt": "a fox"}))
        .expect("a valid request")
        .with_webhook(&url("https://example.com/hooks?token=1"))
        .map(|_| ());
    let message = refused.expect_err("a query").to_string();
    assert!(message.contains("appends /callback"), "{message}");
}

#[test]
fn a_field_that_clashes_with_a_declared_field_is_reported_where_it_is_written() {
    let text = tiny_declaring("{field: prompt, callback: callback}");
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(found.starts_with("specs/tiny.yaml:3:"), "{found:?}");
    assert!(
        found.contains("endpoint.webhook.field \"prompt\" is also a field the spec declares"),
        "{found:?}"
    );
}

#[test]
fn the_model_field_is_refused_as_the_callback_field() {
    let text = tiny_declaring("{field: model, callback: callback}");
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(
        found.contains("endpoint.webhook.field \"model\""),
        "{found:?}"
    );
}

#[test]
fn a_callback_that_is_not_one_plain_segment_is_refused() {
    let text = tiny_declaring("{field: webhook, callback: hooks/done}");
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(
        found.contains("endpoint.webhook.callback \"hooks/done\" holds U+002F"),
        "{found:?}"
    );
}

#[test]
fn an_unknown_key_under_webhook_is_refused() {
    let text = tiny_declaring("{field: webhook, callback: callback, secret: x}");
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(found.contains("unknown field `secret`"), "{found:?}");
}

#[test]
fn the_exported_schema_says_the_declaration_only_where_it_is_declared() {
    let model = Registry::embedded()
        .model("Omni-Flash-Ext")
        .expect("a seed model");
    assert_eq!(
        model.json_schema()["x-vidspec"]["endpoint"]["webhook"],
        json!({"field": "webhook", "callback": "callback"})
    );
    let tiny = load(&[("specs/tiny.yaml", TINY)]).unwrap_or_else(|errors| panic!("{errors}"));
    let schema = tiny.model("tiny-1").expect("tiny loads").json_schema();
    assert_eq!(
        schema["x-vidspec"]["endpoint"].get("webhook"),
        None::<&Value>
    );
}

#[test]
fn a_gateway_file_s_declaration_is_inherited_and_a_mode_endpoint_keeps_it() {
    let gateway = GATEWAY.replace(
        "endpoint: {path: /v1/videos/generations}",
        "endpoint: {path: /v1/videos/generations, webhook: {field: webhook, callback: callback}}",
    );
    let own = INHERITING.replace(
        "  - {name: text_to_video}",
        "  - {name: text_to_video, endpoint: {path: /v1/videos/text2video}}",
    );
    let files = [
        ("specs/gateways/madeup.yaml", gateway.as_str()),
        ("specs/tiny.yaml", own.as_str()),
    ];
    let registry = load(&files).unwrap_or_else(|errors| panic!("{errors}"));
    let plan = registry
        .model("tiny-1")
        .expect("tiny loads")
        .prepare(json!({"model": "tiny-1", "prompt": "a boat"}))
        .expect("a valid request");
    assert_eq!(plan.endpoint().path, "/v1/videos/text2video");
    assert_eq!(plan.webhook(), Some(&gateway_declaration()));
}

#[test]
fn a_gateway_file_s_clashing_field_is_reported_at_the_family_naming_it() {
    let gateway = GATEWAY.replace(
        "endpoint: {path: /v1/videos/generations}",
        "endpoint: {path: /v1/videos/generations, webhook: {field: prompt, callback: callback}}",
    );
    let files = [
        ("specs/gateways/madeup.yaml", gateway.as_str()),
        ("specs/tiny.yaml", INHERITING),
    ];
    let found = only_problem(&files);
    assert!(found.starts_with("specs/tiny.yaml:1:"), "{found:?}");
    assert!(
        found.contains("endpoint.webhook.field \"prompt\" (from the spec's gateway file)"),
        "{found:?}"
    );
}
