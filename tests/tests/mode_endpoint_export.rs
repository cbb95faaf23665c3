//! A mode's own `endpoint:` is part of the exported schema: `x-vidspec.modes`
//! shows it (method resolved from the family's when the mode names none) on
//! the modes that have one, and nothing on the others, so a schema of a
//! family without per-mode endpoints stays as it was.

use std::path::Path;

use serde_json::{Value, json};
use vidspec_core::Registry;

/// The `x-vidspec.modes` of `id`'s exported schema.
fn exported_modes(registry: &Registry, id: &str) -> Value {
    let model = registry
        .model(id)
        .unwrap_or_else(|| panic!("{id} is loaded"));
    model.json_schema()["x-vidspec"]["modes"].clone()
}

/// Each exported mode as `{name, endpoint?}`.
fn names_and_endpoints(modes: &Value) -> Vec<Value> {
    modes
        .as_array()
        .expect("modes are a list")
        .iter()
        .map(|mode| match mode.get("endpoint") {
            Some(endpoint) => json!({"name": mode["name"], "endpoint": endpoint}),
            None => json!({"name": mode["name"]}),
        })
        .collect()
}

#[test]
fn the_exported_modes_of_split_endpoints_carry_each_modes_own_endpoint() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/split-endpoints");
    let registry = Registry::load_dir(&folder).unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(
        names_and_endpoints(&exported_modes(&registry, "split-endpoints-1")),
        vec![
            json!({"name": "image_to_video",
                   "endpoint": {"method": "POST", "path": "/v1/videos/image2video"}}),
            json!({"name": "text_to_video",
                   "endpoint": {"method": "POST", "path": "/v1/videos/text2video"}}),
        ]
    );
}

const ONE_MODE_ELSEWHERE: &str = concat!(
    r#"family: elsewhere
description: a made-up family whose image mode alone posts elsewhere, with its own method
endpoint: {method: POST, path: /v1/videos/generations}
models:
  - id: elsewhere-1
fields:
  prompt: {type: string, required: true}
  image_url: {type: url}
modes:
  - name: image_to_video
    when: {present: image_url}
    endpoint: {method: PUT, path: /v1/videos/image2video}
  - {name: text_to_video}
billing: {key: "{model}"}
"#,
    vidspec_tests::task_block!()
);

#[test]
fn a_mode_without_its_own_endpoint_exports_none_and_a_mode_with_one_exports_its_method_and_path() {
    let registry = vidspec_tests::load(&[("specs/elsewhere.yaml", ONE_MODE_ELSEWHERE)])
        .unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(
        names_and_endpoints(&exported_modes(&registry, "elsewhere-1")),
        vec![
            json!({"name": "image_to_video",
                   "endpoint": {"method": "PUT", "path": "/v1/videos/image2video"}}),
            json!({"name": "text_to_video"}),
        ]
    );
}

#[test]
fn no_mode_of_a_seed_spec_exports_an_endpoint() {
    let registry = Registry::embedded();
    for model in registry.models() {
        let modes = exported_modes(registry, model.id());
        for mode in modes.as_array().expect("modes are a list") {
            assert_eq!(mode.get("endpoint"), None, "{}: {mode}", model.id());
        }
    }
}
