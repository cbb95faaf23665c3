//! Shared gateway blocks: a family names a gateway file
//! (`gateways/<name>.yaml` beside the specs) and inherits its `endpoint:` and
//! `task:` blocks, writing only what differs; every problem of the merge
//! points at the line that caused it. Also: a mode's own endpoint path is
//! linted like the family's.

use std::path::PathBuf;

use vidspec_core::Registry;
use vidspec_tests::{GATEWAY, INHERITING, load, only_problem, problems};

/// The gateway file `madeup` and the family `tiny`, as files to load.
fn gateway_and_spec<'a>(gateway: &'a str, spec: &'a str) -> [(&'a str, &'a str); 2] {
    [
        ("specs/gateways/madeup.yaml", gateway),
        ("specs/tiny.yaml", spec),
    ]
}

#[test]
fn a_family_naming_a_gateway_inherits_its_endpoint_and_task_blocks() {
    let registry =
        load(&gateway_and_spec(GATEWAY, INHERITING)).unwrap_or_else(|errors| panic!("{errors}"));
    let model = registry.model("tiny-1").expect("the family loads");
    assert_eq!(model.endpoint().method, "POST");
    assert_eq!(model.endpoint().path, "/v1/videos/generations");
    assert!(
        model.spec().endpoint.model_field,
        "model_field defaults to true"
    );
    assert_eq!(model.task().poll_path, "/v1/tasks/{task_id}");
    assert_eq!(model.task().submit_task_id, ["/data/0/task_id"]);
    assert_eq!(model.task().poll.every_s, 1);
}

#[test]
fn a_spec_s_own_endpoint_and_task_keys_replace_the_gateway_s_and_the_rest_is_inherited() {
    let text = INHERITING.to_owned()
        + "endpoint: {path: /v1/own/path, model_field: false}\n"
        + "task:\n  poll: {first_after_s: 9, every_s: 7, typical_s: 90, timeout_s: 900}\n";
    let registry =
        load(&gateway_and_spec(GATEWAY, &text)).unwrap_or_else(|errors| panic!("{errors}"));
    let model = registry.model("tiny-1").expect("the family loads");
    assert_eq!(model.endpoint().path, "/v1/own/path");
    assert_eq!(
        model.endpoint().method,
        "POST",
        "method still the gateway's"
    );
    assert!(!model.spec().endpoint.model_field);
    assert_eq!(model.task().poll.every_s, 7, "the spec's poll: replaces");
    assert_eq!(model.task().poll.timeout_s, 900);
    assert_eq!(model.task().poll_path, "/v1/tasks/{task_id}", "inherited");
    assert_eq!(model.task().read.status, ["/data/status"], "inherited");
}

#[test]
fn an_unknown_gateway_is_reported_at_the_spec_s_gateway_line_with_the_close_name() {
    let text = INHERITING.replace("gateway: madeup", "gateway: madeupp");
    let found = only_problem(&gateway_and_spec(GATEWAY, &text));
    assert!(found.starts_with("specs/tiny.yaml:3:"), "{found:?}");
    assert!(
        found.contains("gateway \"madeupp\" is unknown"),
        "{found:?}"
    );
    assert!(found.contains("did you mean madeup?"), "{found:?}");
}

#[test]
fn a_gateway_file_with_an_unknown_key_is_reported_at_the_gateway_file_s_line() {
    let gateway = GATEWAY.replace("  poll_path:", "  pol_path: /x\n  poll_path:");
    let found = problems(&gateway_and_spec(&gateway, INHERITING));
    assert_eq!(found.len(), 1, "only the gateway file's problem: {found:?}");
    assert!(
        found[0].starts_with("specs/gateways/madeup.yaml:5:"),
        "{found:?}"
    );
    assert!(found[0].contains("unknown field `pol_path`"), "{found:?}");
}

#[test]
fn a_task_key_that_neither_spec_nor_gateway_gives_is_reported_at_the_gateway_line() {
    let gateway = GATEWAY.replace(
        "  poll: {first_after_s: 1, every_s: 1, typical_s: 10, timeout_s: 60}\n",
        "",
    );
    let found = only_problem(&gateway_and_spec(&gateway, INHERITING));
    assert!(found.starts_with("specs/tiny.yaml:3:"), "{found:?}");
    assert!(
        found.contains("task.poll is missing after merging: neither this spec nor gateway madeup (specs/gateways/madeup.yaml) gives it; add `poll:` under `task:`"),
        "{found:?}"
    );
}

#[test]
fn a_spec_without_a_gateway_and_without_an_endpoint_is_told_at_the_family_line() {
    let text = INHERITING.replace("gateway: madeup\n", "");
    let found = problems(&[("specs/tiny.yaml", &text)]);
    assert!(
        found
            .iter()
            .any(|problem| problem.starts_with("specs/tiny.yaml:1:")
                && problem.contains(
                    "endpoint.path is missing after merging: this spec names no gateway"
                )),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|problem| problem.contains("task.read is missing")),
        "{found:?}"
    );
}

#[test]
fn the_embedded_specs_bring_the_apimart_gateway_file() {
    let names: Vec<String> = Registry::embedded_sources()
        .into_iter()
        .map(|source| source.name)
        .collect();
    assert!(
        names.contains(&"specs/gateways/apimart.yaml".to_owned()),
        "{names:?}"
    );
    let registry = Registry::embedded();
    let model = registry.model("Omni-Flash-Ext").expect("a seed model");
    assert_eq!(model.task().poll_path, "/v1/tasks/{task_id}");
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("vidspec-gateways-{}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("gateways")).expect("create a temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_spec_directory_s_gateways_folder_is_read_beside_its_specs() {
    let dir = TempDir::new("load-dir");
    std::fs::write(dir.0.join("gateways/madeup.yaml"), GATEWAY).expect("writes");
    std::fs::write(dir.0.join("tiny.yaml"), INHERITING).expect("writes");
    let registry = Registry::load_dir(&dir.0).unwrap_or_else(|errors| panic!("{errors}"));
    let model = registry.model("tiny-1").expect("the family loads");
    assert_eq!(model.endpoint().path, "/v1/videos/generations");
    assert!(
        registry.model("Omni-Flash-Ext").is_some(),
        "the embedded families still load with their embedded gateway"
    );
}

#[test]
fn a_spec_directory_s_gateway_file_replaces_the_embedded_gateway_of_that_name() {
    let dir = TempDir::new("replace");
    let gateway = GATEWAY.replace("/v1/videos/generations", "/v2/videos");
    std::fs::write(dir.0.join("gateways/apimart.yaml"), gateway).expect("writes");
    let registry = Registry::load_dir(&dir.0).unwrap_or_else(|errors| panic!("{errors}"));
    let model = registry.model("Omni-Flash-Ext").expect("a seed model");
    assert_eq!(model.endpoint().path, "/v2/videos");
}

#[test]
fn a_mode_endpoint_path_that_leaves_the_base_url_is_reported_at_its_mode() {
    let text = INHERITING.replace(
        "  - {name: text_to_video}",
        "  - {name: text_to_video, endpoint: {path: \"//evil.example/x\"}}",
    );
    let found = only_problem(&gateway_and_spec(GATEWAY, &text));
    assert!(found.starts_with("specs/tiny.yaml:9:"), "{found:?}");
    assert!(
        found.contains("mode text_to_video: endpoint.path \"//evil.example/x\""),
        "{found:?}"
    );
}

#[test]
fn a_gateway_path_that_leaves_the_base_url_is_refused_for_the_family_that_inherits_it() {
    let gateway = GATEWAY.replace(
        "endpoint: {path: /v1/videos/generations}",
        "endpoint: {path: \"//evil.example/v1\"}",
    );
    let found = only_problem(&gateway_and_spec(&gateway, INHERITING));
    assert!(found.starts_with("specs/tiny.yaml:"), "{found:?}");
    assert!(
        found.contains("endpoint.path \"//evil.example/v1\""),
        "{found:?}"
    );
}
