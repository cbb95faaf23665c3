//! File-driven spec cases: every `tests/cases/<family>/ok/*.json` must prepare to
//! a plan and every `err/*.json` must be refused; the plan or the diagnostics, as
//! a user reads them, are insta snapshots. A spec author adds a case file and
//! runs `cargo insta review`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use vidspec_tests::{Case, registry, render_diagnostics, render_plan};

#[test]
fn valid_cases_prepare_to_the_snapshotted_plan() {
    insta::glob!("../cases", "*/ok/*.json", |path| {
        let case = Case::read(path);
        let model = case.model();
        match model.prepare(case.request.clone()) {
            Ok(plan) => insta::assert_snapshot!(render_plan(&plan)),
            Err(diagnostics) => panic!(
                "{}: expected a valid request, got:\n{}",
                path.display(),
                render_diagnostics(&diagnostics)
            ),
        }
    });
}

#[test]
fn invalid_cases_fail_with_the_snapshotted_diagnostics() {
    insta::glob!("../cases", "*/err/*.json", |path| {
        let case = Case::read(path);
        let model = case.model();
        match model.prepare(case.request.clone()) {
            Ok(plan) => panic!(
                "{}: expected errors, got a plan in mode {}",
                path.display(),
                plan.mode()
            ),
            Err(diagnostics) => {
                if let Some(rule) = case.rule() {
                    assert!(
                        diagnostics
                            .errors
                            .iter()
                            .any(|error| error.rule.as_deref() == Some(rule)),
                        "{}: the file name promises rule {rule}, but the diagnostics cite {:?}",
                        path.display(),
                        diagnostics
                            .errors
                            .iter()
                            .map(|error| error.rule.clone())
                            .collect::<Vec<_>>()
                    );
                }
                insta::assert_snapshot!(render_diagnostics(&diagnostics));
            }
        }
    });
}

/// The exported schema file, run by `jsonschema` alone, gives the engine's verdict.
#[test]
fn exported_schemas_agree_with_the_engine_on_every_case() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    insta::glob!("../cases", "*/*/*.json", |path| {
        let case = Case::read(path);
        let model = case.model();
        let file = root
            .join("schemas/models")
            .join(format!("{}.json", model.id()));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|error| {
            panic!("{}: {error} (run `cargo xtask codegen`)", file.display())
        });
        let schema: Value = serde_json::from_str(&text).expect("exported schema is JSON");
        let validator = jsonschema::draft202012::new(&schema).expect("exported schema compiles");
        assert_eq!(
            validator.is_valid(&case.request),
            model.prepare(case.request.clone()).is_ok(),
            "{}: the exported schema and the engine disagree",
            path.display()
        );
        assert_eq!(
            case.expect_valid,
            validator.is_valid(&case.request),
            "{}",
            path.display()
        );
    });
}

/// Seed rules with no invalid request of their own, and why.
const NOT_REFUSABLE: &[(&str, &str)] = &[
    (
        "P16",
        "mode priority is not an error: ok/P16-* cases show the warning naming the losing fields",
    ),
    (
        "O9",
        "the error table: its codes are cited by the O2–O7 cases",
    ),
    (
        "M9",
        "the billing key is not an error: ok cases snapshot it",
    ),
    (
        "M10",
        "the finished task's shape is read by the transport, not validated",
    ),
];

const SEED_RULES: &[(&str, &str, u32)] = &[
    ("pixverse-v6", "P", 17),
    ("vidu-q3", "V", 7),
    ("omni-flash-ext", "O", 9),
    ("veo-3.1", "E", 13),
    ("midjourney-video", "M", 10),
];

/// Every numbered seed rule has at least one invalid case named after it.
#[test]
fn every_seed_rule_has_an_invalid_case() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let mut missing = Vec::new();
    for (family, letter, count) in SEED_RULES {
        let names: BTreeSet<String> = std::fs::read_dir(cases.join(family).join("err"))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|entry| entry.file_name().to_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for number in 1..=*count {
            let rule = format!("{letter}{number}");
            let covered = names
                .iter()
                .any(|name| name.starts_with(&format!("{rule}-")));
            let excused = NOT_REFUSABLE.iter().any(|(id, _)| *id == rule);
            if !covered && !excused {
                missing.push(format!("{family}: {rule}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "seed rules without an err/<RULE>-*.json case: {missing:?}"
    );
}

/// Every embedded family has cases.
#[test]
fn every_family_has_cases() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let families: BTreeSet<&str> = registry().models().map(|model| model.family()).collect();
    for family in families {
        for kind in ["ok", "err"] {
            let dir = cases.join(family).join(kind);
            let count = std::fs::read_dir(&dir)
                .map(|entries| entries.count())
                .unwrap_or(0);
            assert!(count > 0, "{} has no cases", dir.display());
        }
    }
}

/// Every snapshot belongs to a case file: a removed or renamed case leaves no
/// orphan behind (plain `cargo test` does not notice them on its own).
#[test]
fn no_snapshot_is_orphaned() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut orphans = Vec::new();
    for entry in std::fs::read_dir(here.join("tests/snapshots"))
        .expect("snapshots exist")
        .filter_map(Result::ok)
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(case) = name
            .strip_prefix("cases__")
            .and_then(|rest| rest.split_once('@'))
            .map(|(_, case)| case)
        else {
            continue;
        };
        let relative = case.trim_end_matches(".snap").replace("__", "/");
        if !here.join("cases").join(&relative).is_file() {
            orphans.push(name);
        }
    }
    assert!(
        orphans.is_empty(),
        "snapshots without a case file (delete them): {orphans:?}"
    );
}
