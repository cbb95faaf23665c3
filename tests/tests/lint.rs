//! Spec files are checked hard: each problem is reported with file, line and
//! column, all at once, and hostile files are refused without a hang.

use vidspec_core::Registry;
use vidspec_tests::{TINY, load, only_problem, problems, tiny_plus};

#[test]
fn a_good_spec_loads() {
    assert_eq!(problems(&[("specs/tiny.yaml", TINY)]), Vec::<String>::new());
}

#[test]
fn an_unknown_key_is_reported_with_its_position() {
    let text = TINY.replace(
        "  duration: {type: integer,",
        "  duration: {type: integer, minimun: 1,",
    );
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(found.starts_with("specs/tiny.yaml:8:"), "{found:?}");
    assert!(found.contains("unknown field `minimun`"), "{found:?}");
}

#[test]
fn a_duplicate_key_is_refused() {
    let text = TINY.replace("  duration:", "  prompt: {type: string}\n  duration:");
    let found = problems(&[("specs/tiny.yaml", &text)]);
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("specs/tiny.yaml:8:") && p.contains("duplicate")),
        "{found:?}"
    );
}

#[test]
fn a_default_outside_its_own_enum_is_reported_at_the_default() {
    let text = TINY.replace("default: 4}", "default: 5}");
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(found.starts_with("specs/tiny.yaml:8:"), "{found:?}");
    assert!(
        found.contains("default 5 of duration is outside its own constraints"),
        "{found:?}"
    );
}

#[test]
fn a_rule_naming_an_unknown_field_suggests_the_close_one() {
    let text = TINY.replace(
        "billing:",
        "rules:\n  - {rule: R1, then: {require: [duraton]}}\nbilling:",
    );
    let found = problems(&[("specs/tiny.yaml", &text)]);
    assert!(
        found
            .iter()
            .any(|p| p.contains("rule R1 names unknown field duraton; did you mean duration?")),
        "{found:?}"
    );
}

#[test]
fn a_mode_after_a_catch_all_is_unreachable() {
    let text = TINY.replace(
        "  - {name: text_to_video}\n",
        "  - {name: text_to_video}\n  - {name: image_to_video, when: {present: prompt}}\n",
    );
    let found = problems(&[("specs/tiny.yaml", &text)]);
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("specs/tiny.yaml:11:") && p.contains("unreachable")),
        "{found:?}"
    );
}

#[test]
fn a_mode_outside_the_vocabulary_is_reported() {
    let text = TINY.replace("{name: text_to_video}", "{name: txt2vid}");
    let found = problems(&[("specs/tiny.yaml", &text)]);
    assert!(
        found
            .iter()
            .any(|p| p.contains("mode txt2vid is not in the vocabulary")),
        "{found:?}"
    );
}

#[test]
fn two_specs_claiming_one_model_id_are_refused() {
    let other = TINY.replace("family: tiny", "family: other");
    let found = problems(&[("specs/tiny.yaml", TINY), ("specs/other.yaml", &other)]);
    assert!(
        found
            .iter()
            .any(|p| p.contains("model id tiny-1 is already claimed by specs/")),
        "{found:?}"
    );
}

#[test]
fn an_alias_colliding_with_a_field_is_reported() {
    let text = TINY.replace(
        "  prompt: {type: string, required: true}",
        "  prompt: {type: string, required: true, alias: duration}",
    );
    let found = problems(&[("specs/tiny.yaml", &text)]);
    assert!(
        found
            .iter()
            .any(|p| p.contains("alias duration of prompt collides with field duration")),
        "{found:?}"
    );
}

#[test]
fn the_family_must_match_the_file_name() {
    let found = problems(&[("specs/wrong-name.yaml", TINY)]);
    assert!(
        found
            .iter()
            .any(|p| p.contains("family tiny does not match the file name wrong-name.yaml")),
        "{found:?}"
    );
}

/// `tiny.yaml` with one more field line (written with the words YAML 1.1 reads as
/// booleans), loaded; the loader must keep those words strings.
fn tiny_model_with(field_line: &str) -> Registry {
    let text = TINY.replace("  duration:", &format!("  {field_line}\n  duration:"));
    load(&[("specs/tiny.yaml", &text)]).unwrap_or_else(|errors| {
        panic!(
            "{field_line}: yes/no/on/off under a string field must load as strings: {:?}",
            errors
                .problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        )
    })
}

#[test]
fn yes_and_no_stay_strings_so_a_request_sending_those_words_is_valid() {
    let registry = tiny_model_with("answer: {type: string, enum: [yes, no, on, off]}");
    let model = registry.model("tiny-1").expect("tiny-1 is loaded");
    for word in ["yes", "no", "on", "off"] {
        let request = serde_json::json!({"model": "tiny-1", "prompt": "a cat", "answer": word});
        if let Err(diagnostics) = model.prepare(request) {
            panic!(
                "the spec's enum [yes, no, on, off] must accept the string {word:?}: {diagnostics:?}"
            );
        }
    }
}

#[test]
fn a_default_written_no_is_the_string_no_in_the_effective_request() {
    let registry = tiny_model_with("answer: {type: string, default: no}");
    let model = registry.model("tiny-1").expect("tiny-1 is loaded");
    let plan = model
        .prepare(serde_json::json!({"model": "tiny-1", "prompt": "a cat"}))
        .unwrap_or_else(|diagnostics| panic!("a prompt alone is valid: {diagnostics:?}"));
    assert_eq!(
        plan.effective().get("answer"),
        Some(&serde_json::json!("no"))
    );
}

#[test]
fn all_problems_come_at_once() {
    let text = TINY
        .replace("default: 4}", "default: 5}")
        .replace("{name: text_to_video}", "{name: txt2vid}");
    assert!(problems(&[("specs/tiny.yaml", &text)]).len() >= 2);
}

#[test]
fn an_oversized_file_is_refused_without_reading_it_as_yaml() {
    let mut text = TINY.to_owned();
    text.push_str(&format!("# {}\n", "x".repeat(300 * 1024)));
    let found = problems(&[("specs/tiny.yaml", &text)]);
    assert!(
        found
            .iter()
            .any(|p| p.contains("spec files are limited to")),
        "{found:?}"
    );
}

#[test]
fn an_alias_bomb_is_refused_quickly() {
    // Sixteen levels of ten aliases each, inside a value that is really read
    // (a field's default): 10^16 nodes if expanded.
    let mut levels = vec![String::from("&a [x, x, x, x, x, x, x, x, x, x]")];
    let mut previous = 'a';
    for name in 'b'..='q' {
        let refs = vec![format!("*{previous}"); 10].join(", ");
        levels.push(format!("&{name} [{refs}]"));
        previous = name;
    }
    let bomb_field = format!(
        "  bomb: {{type: array, items: {{type: string}}, default: [{}]}}\n",
        levels.join(", ")
    );
    let text = TINY.replace("  duration:", &format!("{bomb_field}  duration:"));
    let started = std::time::Instant::now();
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(found.to_lowercase().contains("alias"), "{found:?}");
    // Not a speed target: a generous bound that only an exponential expansion breaks.
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn deep_nesting_is_refused() {
    let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(!problems(&[("specs/tiny.yaml", &text)]).is_empty());
}

#[test]
fn an_endpoint_path_that_could_send_the_key_to_another_host_is_reported_at_its_line() {
    for path in [
        "'@127.0.0.1:9/v1/videos/generations'",
        "//evil.example/v1/videos/generations",
        "'http://evil.example/v1'",
        "v1/videos/generations",
        "'/v1\\evil'",
    ] {
        let text = TINY.replace("path: /v1/videos/generations", &format!("path: {path}"));
        let found = problems(&[("specs/tiny.yaml", &text)]);
        assert_eq!(found.len(), 1, "{path}: {found:?}");
        assert!(found[0].starts_with("specs/tiny.yaml:3:"), "{found:?}");
        assert!(found[0].contains("endpoint.path"), "{found:?}");
    }
}

#[test]
fn a_poll_path_that_leaves_its_path_is_reported_at_its_line() {
    for path in [
        "'/v1/tasks/{task_id}?x=1'",
        "'/v1/tasks/{task_id}#x'",
        "/v1/../{task_id}",
        "/v1/./tasks/{task_id}",
        "/v1/tasks/%2e%2e/{task_id}",
        "/v1//tasks/{task_id}",
        "/v1/tasks/{task_id}/",
        "'/v1/ta sks/{task_id}'",
        "\"/v1/tasks/\\t{task_id}\"",
        "/v1/{taskid}/{task_id}",
        "'@evil.example/{task_id}'",
    ] {
        let text = TINY.replace(
            "poll_path: /v1/tasks/{task_id}",
            &format!("poll_path: {path}"),
        );
        let found = problems(&[("specs/tiny.yaml", &text)]);
        assert_eq!(found.len(), 1, "{path}: {found:?}");
        assert!(found[0].starts_with("specs/tiny.yaml:14:"), "{found:?}");
        assert!(found[0].contains("task.poll_path"), "{found:?}");
    }
}

#[test]
fn a_poll_path_placeholder_and_colons_inside_segments_stay_legal() {
    let text = TINY.replace(
        "poll_path: /v1/tasks/{task_id}",
        "poll_path: /v1/tasks/{task_id}:fetch",
    );
    assert_eq!(
        problems(&[("specs/tiny.yaml", &text)]),
        Vec::<String>::new()
    );
}

#[test]
fn an_endpoint_path_may_not_hold_the_task_id_placeholder() {
    let text = TINY.replace(
        "path: /v1/videos/generations",
        "path: '/v1/videos/{task_id}'",
    );
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(found.contains("endpoint.path"), "{found:?}");
}

#[test]
fn a_pattern_that_needs_backtracking_is_refused_at_its_field_with_the_feature_named() {
    let text = TINY.replace(
        "  duration: {type: integer,",
        "  code: {type: string, pattern: \"^(?<=(a+)+)b$\"}\n  duration: {type: integer,",
    );
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(found.starts_with("specs/tiny.yaml:8:"), "{found:?}");
    assert!(
        found.contains("code: pattern \"^(?<=(a+)+)b$\" uses a look-behind (?<=…)"),
        "{found:?}"
    );
    assert!(found.contains("anchors and character classes"), "{found:?}");
}

#[test]
fn a_backreference_in_an_item_pattern_is_refused() {
    let text = TINY.replace(
        "  duration: {type: integer,",
        "  tags: {type: array, items: {type: string, pattern: \"^(a)\\\\1$\"}}\n  duration: {type: integer,",
    );
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(found.contains("tags[]: pattern"), "{found:?}");
    assert!(found.contains("a backreference"), "{found:?}");
}

#[test]
fn a_specs_directory_whose_pattern_needs_backtracking_is_refused_at_load() {
    let dir = std::env::temp_dir().join(format!("vidspec-lint-pattern-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let text = TINY.replace(
        "  duration: {type: integer,",
        "  code: {type: string, pattern: \"(?<=(a+)+)b\"}\n  duration: {type: integer,",
    );
    std::fs::write(dir.join("tiny.yaml"), text).expect("write the spec");
    let loaded = Registry::load_dir(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let errors = loaded.expect_err("the spec is refused");
    assert!(
        errors
            .problems
            .iter()
            .any(|problem| problem.message.contains("look-behind")),
        "{errors}"
    );
}

/// The lint warnings of a spec that loads.
fn warnings(text: &str) -> Vec<String> {
    let registry = load(&[("specs/tiny.yaml", text)]).expect("the spec loads");
    registry
        .warnings()
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// `TINY` with a boolean `audio` (default false), a `flag` and `rules`.
fn with_rules(rules: &str) -> String {
    tiny_plus("audio: {type: boolean, default: false}\n  flag: {type: string}")
        .replace("billing:", &format!("rules:\n{rules}billing:"))
}

#[test]
fn a_good_spec_has_no_warnings() {
    assert_eq!(warnings(TINY), Vec::<String>::new());
}

#[test]
fn forbidding_a_field_with_a_default_is_a_warning_at_the_rule() {
    let found = warnings(&with_rules(
        "  - {rule: R1, when: {present: flag}, then: {forbid: [audio]}}\n",
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("specs/tiny.yaml:14:5: rule R1:")
            && found[0].contains("forbid audio can never be met"),
        "{found:?}"
    );
}

#[test]
fn a_default_that_breaks_a_constrain_rule_is_a_warning() {
    let found = warnings(&with_rules(
        "  - {rule: R2, when: {present: flag}, then: {constrain: {duration: {enum: [8]}}}}\n",
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains(
            "the default of duration (4) does not fit its bounds when flag is given (only 8)"
        ),
        "{found:?}"
    );
}

#[test]
fn present_or_absent_on_a_field_with_a_default_is_a_warning() {
    let found = warnings(&with_rules(
        "  - {rule: R3, when: {any: [{present: audio}, {absent: duration}]}, then: {require: [flag]}}\n",
    ));
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].contains("present on audio always holds"),
        "{found:?}"
    );
    assert!(
        found[1].contains("absent on duration never holds"),
        "{found:?}"
    );
}

#[test]
fn a_rule_about_a_field_dispatch_would_drop_is_an_error_until_the_mode_uses_it() {
    let text = tiny_plus("template: {type: string}\n  image_urls: {type: array, items: {type: url}}")
        .replace(
            "  - {name: text_to_video}\n",
            "  - {name: image_to_video, when: {present: template}}\n  - {name: first_last_frame, when: {present: image_urls}}\n  - {name: text_to_video}\n",
        )
        .replace(
            "billing:",
            "rules:\n  - {rule: R4, when: {present: template}, then: {require: [image_urls]}}\nbilling:",
        );
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(
        found.contains("mode image_to_video: when it wins, dispatch drops image_urls")
            && found.contains("add image_urls to the mode's uses"),
        "{found:?}"
    );
    let fixed = text.replace(
        "when: {present: template}}\n  - {name: first",
        "when: {present: template}, uses: [image_urls]}\n  - {name: first",
    );
    assert_eq!(
        problems(&[("specs/tiny.yaml", &fixed)]),
        Vec::<String>::new()
    );
}

#[test]
fn a_rule_with_a_message_may_leave_a_default_outside_its_bounds() {
    let found = warnings(&with_rules(
        "  - {rule: R2, when: {present: flag}, then: {constrain: {duration: {enum: [8]}}}, message: flag needs duration 8}\n",
    ));
    assert_eq!(found, Vec::<String>::new());
}

/// `TINY` with an object field `metadata` (a `resolution` with a default, and
/// a `camera` object) and `rules`.
fn with_metadata(rules: &str) -> String {
    tiny_plus("metadata:\n    type: object\n    fields:\n      resolution: {type: string, enum: [768p, 1080p], default: 768p}\n      camera:\n        type: object\n        fields:\n          motion: {type: string}")
    .replace("billing:", &format!("rules:\n{rules}billing:"))
}

#[test]
fn a_rule_naming_a_sub_field_by_its_path_loads() {
    let text = with_metadata(
        "  - {rule: R1, when: {equals: {metadata.resolution: 1080p}}, then: {constrain: {duration: {enum: [4]}}}}\n  - {rule: R2, when: {present: metadata.camera.motion}, then: {require: [prompt]}}\n",
    );
    assert_eq!(
        problems(&[("specs/tiny.yaml", &text)]),
        Vec::<String>::new()
    );
}

#[test]
fn an_unknown_sub_field_path_is_an_error_that_suggests_the_close_path() {
    let text = with_metadata(
        "  - {rule: R1, when: {equals: {metadata.resolutoin: 1080p}}, then: {require: [prompt]}}\n",
    );
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(
        found.contains(
            "condition names unknown field metadata.resolutoin; did you mean metadata.resolution?"
        ),
        "{found:?}"
    );
}

#[test]
fn a_path_through_a_field_that_is_not_an_object_is_an_error() {
    let text = with_metadata(
        "  - {rule: R1, when: {present: flag}, then: {forbid: [metadata.resolution.width]}}\n",
    );
    let found = problems(&[("specs/tiny.yaml", &text)]);
    assert!(
        found.iter().any(|problem| problem.contains(
            "rule R1 names unknown field metadata.resolution.width; metadata.resolution is a string, not an object, so it has no sub-fields"
        )),
        "{found:?}"
    );
}

#[test]
fn a_billing_placeholder_may_name_a_sub_field_by_path_and_an_unknown_one_is_an_error() {
    let good = with_metadata("").replace(
        "billing: {key: \"{model}\"}",
        "billing: {key: \"{model}@{metadata.resolution}\"}",
    );
    let good = good.replace("rules:\nbilling:", "billing:");
    assert_eq!(
        problems(&[("specs/tiny.yaml", &good)]),
        Vec::<String>::new()
    );
    let bad = good.replace("{metadata.resolution}", "{metadata.size}");
    let found = only_problem(&[("specs/tiny.yaml", &bad)]);
    assert!(
        found.contains("names unknown field metadata.size"),
        "{found:?}"
    );
}

#[test]
fn a_field_name_holding_a_dot_is_an_error_because_dots_separate_paths() {
    let text = TINY.replace(
        "  duration: {type: integer,",
        "  \"metadata.resolution\": {type: string}\n  duration: {type: integer,",
    );
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(
        found.contains("the field name metadata.resolution holds a `.`"),
        "{found:?}"
    );
}

#[test]
fn a_sub_field_default_outside_its_own_constraints_is_an_error() {
    let text = with_metadata("").replace("default: 768p}", "default: 720p}");
    let text = text.replace("rules:\nbilling:", "billing:");
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(
        found.contains("default \"720p\" of metadata.resolution is outside its own constraints"),
        "{found:?}"
    );
}

/// `TINY` with `audio_url` (its `extra` keys inserted) taking priority over
/// a boolean `audio`.
fn with_priority(winner: &str) -> String {
    tiny_plus(&format!(
        "audio: {{type: boolean}}\n  audio_url: {{type: url, {winner}}}"
    ))
}

#[test]
fn a_field_taking_priority_over_known_fields_loads_without_warnings() {
    let text = with_priority("takes_priority_over: [audio]");
    assert_eq!(
        problems(&[("specs/tiny.yaml", &text)]),
        Vec::<String>::new()
    );
    assert_eq!(warnings(&text), Vec::<String>::new());
}

#[test]
fn taking_priority_over_an_unknown_field_is_an_error_that_suggests_the_close_one() {
    let found = only_problem(&[(
        "specs/tiny.yaml",
        &with_priority("takes_priority_over: [adio]"),
    )]);
    assert!(
        found.contains("audio_url takes priority over unknown field adio; did you mean audio?"),
        "{found:?}"
    );
}

#[test]
fn a_cycle_of_priorities_is_an_error() {
    let text = with_priority("takes_priority_over: [audio]").replace(
        "audio: {type: boolean}",
        "audio: {type: boolean, takes_priority_over: [audio_url]}",
    );
    let found = problems(&[("specs/tiny.yaml", &text)]);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found
            .iter()
            .all(|problem| problem.contains("which takes priority over")),
        "{found:?}"
    );
}

#[test]
fn a_winner_with_a_default_is_a_warning_because_the_loser_could_never_be_used() {
    let text = with_priority("takes_priority_over: [audio]").replace(
        "audio_url: {type: url,",
        "audio_url: {type: url, default: \"https://example.com/a.mp3\",",
    );
    let found = warnings(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("audio_url takes priority over audio but has a default")
            && found[0].contains("audio can never be used"),
        "{found:?}"
    );
}

#[test]
fn an_object_field_with_fields_and_a_default_of_its_own_is_an_error() {
    let text = with_metadata("")
        .replace("rules:\nbilling:", "billing:")
        .replace(
            "    type: object\n    fields:\n      resolution",
            "    type: object\n    default: {resolution: 1080p}\n    fields:\n      resolution",
        );
    let found = only_problem(&[("specs/tiny.yaml", &text)]);
    assert!(
        found.contains("metadata: an object field with fields takes no default; give its sub-fields defaults instead"),
        "{found:?}"
    );
}
