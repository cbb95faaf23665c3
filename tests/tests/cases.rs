//! File-driven spec cases: every `tests/cases/<family>/ok/*.json` must prepare to
//! a plan and every `err/*.json` must be refused; the plan or the diagnostics, as
//! a user reads them, are insta snapshots. A spec author adds a case file and
//! runs `cargo insta review`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;
use vidspec_core::Spec;
use vidspec_core::spec::Field;
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
        "M9",
        "the billing key is not an error: ok cases snapshot it",
    ),
    (
        "G5",
        "poll timing (first poll, interval, timeout) is a hint to the poller, not part of a request",
    ),
];

/// Every rule number a spec cites: a variant's (the model id), a field's own,
/// its alias's, its image and task preconditions (also inside items and
/// sub-fields), a mode's, a rule's, a derive's, billing's and the poll hints'.
/// The one place these tests read rule numbers out of the spec types.
fn rule_numbers_cited_by(spec: &Spec) -> BTreeSet<String> {
    fn cited_by_field(field: &Field, numbers: &mut BTreeSet<String>) {
        numbers.extend(field.rule.clone());
        numbers.extend(field.alias_rule.clone());
        numbers.extend(field.image.as_ref().and_then(|image| image.rule.clone()));
        numbers.extend(
            field
                .refers_to_task
                .as_ref()
                .and_then(|task| task.rule.clone()),
        );
        if let Some(items) = &field.items {
            cited_by_field(&items.value, numbers);
        }
        for sub_field in field.fields.values() {
            cited_by_field(&sub_field.value, numbers);
        }
    }
    let mut numbers = BTreeSet::new();
    for variant in &spec.models {
        numbers.extend(variant.value.rule.clone());
    }
    for field in spec.fields.values() {
        cited_by_field(&field.value, &mut numbers);
    }
    for mode in &spec.modes {
        numbers.extend(mode.value.rule.clone());
    }
    for rule in &spec.rules {
        numbers.insert(rule.value.rule.clone());
    }
    for derive in &spec.derive {
        numbers.insert(derive.value.rule.clone());
    }
    numbers.extend(spec.billing.value.rule.clone());
    numbers.extend(spec.task.poll.rule.clone());
    numbers
}

/// Each embedded family with the rule numbers its spec cites.
fn rule_numbers_by_family() -> BTreeMap<String, BTreeSet<String>> {
    registry()
        .models()
        .map(|model| {
            (
                model.family().to_owned(),
                rule_numbers_cited_by(model.spec()),
            )
        })
        .collect()
}

/// The file names in `tests/cases/<family>/<kind>/` (empty when the folder is missing).
fn case_file_names(family: &str, kind: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("cases")
        .join(family)
        .join(kind);
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| entry.file_name().to_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Every rule number a spec cites has at least one invalid case named after it
/// (`err/<RULE>-<what>.json`), unless it is excused in `NOT_REFUSABLE`.
#[test]
fn every_rule_number_a_spec_cites_has_an_invalid_case_named_after_it() {
    let mut missing = Vec::new();
    for (family, numbers) in rule_numbers_by_family() {
        assert!(
            !numbers.is_empty(),
            "{family}: its spec cites no rule numbers; rule_numbers_cited_by reads them from the spec types"
        );
        let names = case_file_names(&family, "err");
        for rule in numbers {
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
        "rule numbers cited by a spec without an err/<RULE>-*.json case \
         (add one, or excuse the rule in NOT_REFUSABLE with a reason): {missing:?}"
    );
}

/// An excuse in `NOT_REFUSABLE` names a rule some spec still cites.
#[test]
fn every_excused_rule_is_cited_by_some_spec() {
    let cited: BTreeSet<String> = rule_numbers_by_family().into_values().flatten().collect();
    let stale: Vec<&str> = NOT_REFUSABLE
        .iter()
        .map(|(rule, _)| *rule)
        .filter(|rule| !cited.contains(*rule))
        .collect();
    assert!(
        stale.is_empty(),
        "NOT_REFUSABLE excuses rules no spec cites (remove them): {stale:?}"
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
