//! Billing placeholders that can be empty: lint refuses a `{field}` of a key
//! template whose field may have no effective value (so the key would read
//! `-`, as `sora-2@-s` did) unless the placeholder has a fallback
//! (`{duration|4}`) or the field always has a value in the modes and cases
//! that use the template. The made-up family `tests/specs/billing-fallback`
//! shows the fallback rendered.

use vidspec_core::{Registry, SpecErrors};
use vidspec_tests::tiny_with_field;

/// [`TINY`](vidspec_tests::TINY) with an optional `duration` (no default) and
/// an `image_url`, billed under `{model}@{duration}s` on line 12.
fn sora_like() -> String {
    tiny_with_field(
        "duration: {type: integer, enum: [4, 8, 12]}\n  image_url: {type: url, schemes: [https]}",
    )
    .replace(
        r#"billing: {key: "{model}"}"#,
        r#"billing: {key: "{model}@{duration}s"}"#,
    )
}

fn load(text: &str) -> Result<Registry, SpecErrors> {
    vidspec_tests::load(&[("specs/tiny.yaml", text)])
}

fn problems(text: &str) -> Vec<String> {
    vidspec_tests::problems(&[("specs/tiny.yaml", text)])
}

fn only_problem(text: &str) -> String {
    vidspec_tests::only_problem(&[("specs/tiny.yaml", text)])
}

#[test]
fn a_placeholder_whose_field_may_be_absent_is_refused_at_the_billing_line() {
    let found = only_problem(&sora_like());
    assert!(found.starts_with("specs/tiny.yaml:12:"), "{found:?}");
    assert!(
        found.contains(
            "billing key {model}@{duration}s: {duration} may have no value for tiny-1 in mode text_to_video"
        ),
        "{found:?}"
    );
    assert!(
        found.contains("give it a fallback ({duration|…})"),
        "{found:?}"
    );
}

#[test]
fn the_same_placeholder_with_a_fallback_loads_and_bills_under_the_fallback() {
    let text = sora_like().replace("{duration}s", "{duration|4}s");
    let registry = load(&text).unwrap_or_else(|errors| panic!("{errors}"));
    let model = registry.model("tiny-1").expect("the model");
    let plan = model
        .prepare(serde_json::json!({"model": "tiny-1", "prompt": "p"}))
        .unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(plan.billing().key, "tiny-1@4s");
}

#[test]
fn a_required_field_or_one_with_a_default_needs_no_fallback() {
    let required = sora_like().replace(
        "duration: {type: integer,",
        "duration: {type: integer, required: true,",
    );
    assert_eq!(problems(&required), Vec::<String>::new());
    let defaulted = sora_like().replace("enum: [4, 8, 12]}", "enum: [4, 8, 12], default: 4}");
    assert_eq!(problems(&defaulted), Vec::<String>::new());
}

#[test]
fn a_field_every_mode_s_condition_needs_has_a_value_and_needs_no_fallback() {
    let text = sora_like().replace("{duration}s", "{image_url}").replace(
        "  - {name: text_to_video}",
        "  - {name: image_to_video, when: {present: image_url}}",
    );
    assert_eq!(problems(&text), Vec::<String>::new());
}

#[test]
fn a_default_the_mode_ignores_leaves_the_placeholder_empty_in_that_mode() {
    let text = sora_like()
        .replace("enum: [4, 8, 12]}", "enum: [4, 8, 12], default: 4}")
        .replace(
            "  - {name: text_to_video}",
            "  - {name: image_to_video, when: {present: image_url}, ignores: [duration]}\n  - {name: text_to_video}",
        );
    let found = only_problem(&text);
    assert!(found.contains("in mode image_to_video"), "{found:?}");
}

#[test]
fn a_billing_case_whose_condition_names_the_field_needs_no_fallback_for_it() {
    let text = sora_like().replace(
        r#"billing: {key: "{model}@{duration}s"}"#,
        "billing:\n  key: \"{model}\"\n  cases:\n    - {when: {in: {duration: [8, 12]}}, key: \"{model}@{duration}s\"}",
    );
    assert_eq!(problems(&text), Vec::<String>::new());
}
