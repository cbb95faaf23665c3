//! Idempotency keys as spec data: `endpoint: {idempotency: {header: …}}` is
//! linted, inherited from a gateway file, carried by every plan of the family
//! (a mode's own endpoint keeps it) and exported under
//! `x-vidspec.endpoint.idempotency` only where a spec declares it.

use std::path::Path;

use serde_json::{Value, json};
use vidspec_core::Registry;
use vidspec_tests::{GATEWAY, INHERITING, TINY, load, only_problem};

/// The made-up family that declares the header.
fn idempotent_family() -> Registry {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/idempotent");
    Registry::load_dir(&folder).unwrap_or_else(|errors| panic!("{errors}"))
}

/// [`TINY`] whose endpoint declares `header` (on line 3).
fn tiny_declaring(header: &str) -> String {
    TINY.replace(
        "endpoint: {path: /v1/videos/generations}",
        &format!("endpoint: {{path: /v1/videos/generations, idempotency: {{header: {header}}}}}"),
    )
}

#[test]
fn a_plan_of_a_family_declaring_the_header_carries_it() {
    let registry = idempotent_family();
    let model = registry.model("idempotent-1").expect("the family loads");
    let plan = model
        .prepare(json!({"model": "idempotent-1", "prompt": "a boat"}))
        .expect("a valid request");
    assert_eq!(plan.idempotency_header(), Some("Idempotency-Key"));
    assert_eq!(
        plan.idempotency()
            .map(|idempotency| idempotency.header.as_str()),
        Some("Idempotency-Key")
    );
}

#[test]
fn a_plan_of_a_family_declaring_nothing_carries_no_header() {
    let registry = load(&[("specs/tiny.yaml", TINY)]).unwrap_or_else(|errors| panic!("{errors}"));
    let plan = registry
        .model("tiny-1")
        .expect("tiny loads")
        .prepare(json!({"model": "tiny-1", "prompt": "a boat"}))
        .expect("a valid request");
    assert_eq!(plan.idempotency_header(), None);
}

#[test]
fn no_seed_model_declares_idempotency() {
    for model in Registry::embedded().models() {
        assert_eq!(
            model.endpoint().idempotency,
            None,
            "{} declares idempotency, which the gateway has not confirmed for video endpoints",
            model.id()
        );
    }
}

#[test]
fn the_exported_schema_says_the_header_only_where_it_is_declared() {
    let registry = idempotent_family();
    let schema = registry
        .model("idempotent-1")
        .expect("the family loads")
        .json_schema();
    assert_eq!(
        schema["x-vidspec"]["endpoint"]["idempotency"],
        json!({"header": "Idempotency-Key"})
    );
    let tiny = load(&[("specs/tiny.yaml", TINY)]).unwrap_or_else(|errors| panic!("{errors}"));
    let schema = tiny.model("tiny-1").expect("tiny loads").json_schema();
    assert_eq!(
        schema["x-vidspec"]["endpoint"].get("idempotency"),
        None::<&Value>
    );
}

#[test]
fn a_header_name_that_is_not_a_token_is_reported_where_it_is_written() {
    let text = tiny_declaring("\"Idempotency Key\"");
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(found.starts_with("specs/tiny.yaml:3:"), "{found:?}");
    assert!(
        found.contains("endpoint.idempotency.header \"Idempotency Key\" holds U+0020"),
        "{found:?}"
    );
}

#[test]
fn a_header_the_client_sets_itself_is_refused() {
    let text = tiny_declaring("Authorization");
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(
        found.contains("is a header the client sets itself"),
        "{found:?}"
    );
}

#[test]
fn an_unknown_key_under_idempotency_is_refused() {
    let text = TINY.replace(
        "endpoint: {path: /v1/videos/generations}",
        "endpoint: {path: /v1/videos/generations, idempotency: {header: Idempotency-Key, scope: x}}",
    );
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(found.contains("unknown field `scope`"), "{found:?}");
}

#[test]
fn a_gateway_file_s_declaration_is_inherited_and_a_family_s_own_replaces_it() {
    let gateway = GATEWAY.replace(
        "endpoint: {path: /v1/videos/generations}",
        "endpoint: {path: /v1/videos/generations, idempotency: {header: Idempotency-Key}}",
    );
    let files = [
        ("specs/gateways/madeup.yaml", gateway.as_str()),
        ("specs/tiny.yaml", INHERITING),
    ];
    let registry = load(&files).unwrap_or_else(|errors| panic!("{errors}"));
    let header = |registry: &Registry| {
        registry
            .model("tiny-1")
            .expect("tiny loads")
            .endpoint()
            .idempotency
            .clone()
            .map(|idempotency| idempotency.header)
    };
    assert_eq!(header(&registry).as_deref(), Some("Idempotency-Key"));
    let own = INHERITING.to_owned() + "endpoint: {idempotency: {header: X-Request-Key}}\n";
    let files = [
        ("specs/gateways/madeup.yaml", gateway.as_str()),
        ("specs/tiny.yaml", own.as_str()),
    ];
    let registry = load(&files).unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(header(&registry).as_deref(), Some("X-Request-Key"));
}

#[test]
fn a_mode_with_its_own_endpoint_keeps_the_family_s_declaration() {
    let text = tiny_declaring("Idempotency-Key").replace(
        "  - {name: text_to_video}",
        "  - {name: text_to_video, endpoint: {path: /v1/videos/text2video}}",
    );
    let registry = load(&[("specs/tiny.yaml", &text)]).unwrap_or_else(|errors| panic!("{errors}"));
    let plan = registry
        .model("tiny-1")
        .expect("tiny loads")
        .prepare(json!({"model": "tiny-1", "prompt": "a boat"}))
        .expect("a valid request");
    assert_eq!(plan.endpoint().path, "/v1/videos/text2video");
    assert_eq!(plan.idempotency_header(), Some("Idempotency-Key"));
}
