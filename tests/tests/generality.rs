//! The spec language stays general: a made-up family (tests/specs/made-up) states
//! the rule kinds the next models need, as YAML alone, and each test below
//! shows one of them working through the same engine as the seed specs.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::{Value, json};
use vidspec_core::{Model, Registry};

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/made-up");
        Registry::load_dir(&dir)
            .unwrap_or_else(|errors| panic!("made-up specs must load:\n{errors}"))
    })
}

fn pro() -> &'static Model {
    registry().model("imaginary-pro").expect("made-up model")
}

fn request(extra: Value) -> Value {
    let mut base = json!({"model": "imaginary-pro", "prompt": "a lighthouse"});
    if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    base
}

fn error_rules(model: &Model, value: &Value) -> Vec<String> {
    match model.prepare(value.clone()) {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics
            .errors
            .into_iter()
            .map(|error| error.rule.unwrap_or_default())
            .collect(),
    }
}

#[test]
fn a_value_of_one_field_restricts_another() {
    assert_eq!(
        error_rules(
            pro(),
            &request(json!({"resolution": "1080p", "duration": 8}))
        ),
        ["X1"]
    );
    assert!(
        pro()
            .prepare(request(json!({"resolution": "1080p", "duration": 5})))
            .is_ok()
    );
    assert!(
        pro()
            .prepare(request(json!({"resolution": "720p", "duration": 8})))
            .is_ok()
    );
}

#[test]
fn a_feature_is_gated_by_another_fields_value() {
    assert_eq!(error_rules(pro(), &request(json!({"audio": true}))), ["X2"]);
    assert!(
        pro()
            .prepare(request(json!({"audio": true, "quality": "pro"})))
            .is_ok()
    );
}

#[test]
fn pairwise_exclusion_allows_the_listed_pair_only() {
    assert!(
        pro()
            .prepare(request(json!({"camera": "dolly", "motion": "slow"})))
            .is_ok()
    );
    assert_eq!(
        error_rules(pro(), &request(json!({"camera": "dolly", "style": "noir"}))),
        ["X3"]
    );
    assert_eq!(
        error_rules(pro(), &request(json!({"style": "noir", "motion": "slow"}))),
        ["X3"]
    );
}

#[test]
fn enum_aliases_are_accepted_and_sent_canonically() {
    let plan = pro()
        .prepare(request(json!({"aspect_ratio": "landscape"})))
        .expect("valid");
    assert_eq!(plan.body()["aspect_ratio"], "16:9");
}

#[test]
fn a_field_alias_is_sent_under_the_canonical_name() {
    let plan = pro()
        .prepare(request(json!({"size": "portrait"})))
        .expect("valid");
    assert_eq!(plan.body().get("size"), None);
    assert_eq!(plan.body()["aspect_ratio"], "9:16");
}

#[test]
fn differing_case_is_accepted_and_normalised() {
    let plan = pro()
        .prepare(request(json!({"resolution": "720P"})))
        .expect("valid");
    assert_eq!(plan.body()["resolution"], "720p");
}

#[test]
fn a_field_is_allowed_only_for_some_variants() {
    let lite = registry().model("imaginary-lite").expect("made-up model");
    let asked = json!({"model": "imaginary-lite", "prompt": "x", "audio": true, "quality": "pro"});
    assert_eq!(error_rules(lite, &asked), ["X4"]);
}

#[test]
fn variant_overrides_change_a_range() {
    let lite = registry().model("imaginary-lite").expect("made-up model");
    assert!(
        lite.prepare(json!({"model": "imaginary-lite", "prompt": "x", "duration": 12}))
            .is_err()
    );
    assert!(pro().prepare(request(json!({"duration": 12}))).is_ok());
}

#[test]
fn integer_sets_mix_with_ranges() {
    assert!(pro().prepare(request(json!({"duration": -1}))).is_ok());
    assert!(pro().prepare(request(json!({"duration": 30}))).is_ok());
    assert!(pro().prepare(request(json!({"duration": 2}))).is_err());
    assert!(pro().prepare(request(json!({"duration": -2}))).is_err());
}

#[test]
fn a_field_is_required_in_one_mode_and_ignored_in_another() {
    let edit = request(json!({"video_url": "https://example.com/v.mp4"}));
    assert_eq!(error_rules(pro(), &edit), ["X5"]);
    let plan = pro()
        .prepare(request(json!({"video_url": "https://example.com/v.mp4", "style": "noir", "aspect_ratio": "9:16"})))
        .expect("valid");
    assert_eq!(plan.mode(), "video_edit");
    assert_eq!(plan.body().get("aspect_ratio"), None);
    assert!(
        plan.warnings()
            .iter()
            .any(|warning| warning.path == "/aspect_ratio")
    );
}

#[test]
fn a_new_mode_kind_comes_from_the_vocabulary_file() {
    assert!(registry().vocabulary().modes.contains_key("video_edit"));
    assert!(pro().modes().contains(&"video_edit"));
}

#[test]
fn roles_in_an_array_of_objects_appear_at_most_once() {
    let twice = request(json!({"frames": [
        {"role": "first", "url": "https://example.com/a.png"},
        {"role": "first", "url": "https://example.com/b.png"}
    ]}));
    assert!(pro().prepare(twice.clone()).is_err());
    let once = request(json!({"frames": [
        {"role": "first", "url": "https://example.com/a.png"},
        {"role": "last", "url": "https://example.com/b.png"}
    ]}));
    assert_eq!(
        pro()
            .prepare(once)
            .map(|plan| plan.mode().to_owned())
            .ok()
            .as_deref(),
        Some("first_last_frame")
    );
}

#[test]
fn the_made_up_schema_alone_agrees_with_the_engine() {
    let schema = pro().json_schema().clone();
    let validator = jsonschema::draft202012::new(&schema).expect("schema compiles");
    for value in [
        request(json!({"resolution": "1080p", "duration": 8})),
        request(json!({"camera": "dolly", "motion": "slow"})),
        request(json!({"size": "portrait", "aspect_ratio": "9:16"})),
        request(json!({"video_url": "https://example.com/v.mp4"})),
        request(json!({"duration": -1})),
    ] {
        assert_eq!(
            validator.is_valid(&value),
            pro().prepare(value.clone()).is_ok(),
            "{value}"
        );
    }
}
