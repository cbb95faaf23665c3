//! File-driven cases for the made-up families of `tests/specs/<family>/`:
//! each folder holds one family's spec (and, if it brings new mode kinds, a
//! vocabulary) and `cases/{ok,err}/*.json`. Valid cases snapshot the plan
//! (body, effective values, billing), invalid ones the diagnostics, exactly
//! as `tests/cases` does for the seed specs; an `err` case whose file name
//! starts with a rule number must cite that rule.

use std::path::Path;

use serde_json::Value;
use vidspec_core::{Model, Registry};
use vidspec_tests::{render_diagnostics, render_plan};

/// The registry of the family folder a case file sits in (two levels up).
fn registry_for(case: &Path) -> Registry {
    let folder = case
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .expect("tests/specs/<family>/cases/<ok|err>/<case>.json");
    Registry::load_dir(folder).unwrap_or_else(|errors| panic!("{}: {errors}", folder.display()))
}

fn request(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("a readable case");
    serde_json::from_str(&text).expect("a JSON case")
}

/// The model a case is for: the one it names, or, when it names one the
/// family does not define (a wrong-model case), the family's first model, as
/// `tests/cases` and `vidspec test` read such a case.
fn model_for<'r>(registry: &'r Registry, case: &Path, request: &Value) -> &'r Model {
    if let Some(model) = request
        .get("model")
        .and_then(Value::as_str)
        .and_then(|id| registry.model(id))
    {
        return model;
    }
    let family = case
        .ancestors()
        .nth(3)
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
        .expect("tests/specs/<family>/cases/<ok|err>/<case>.json");
    registry
        .first_of_family(family)
        .unwrap_or_else(|| panic!("{}: no model of family {family}", case.display()))
}

#[test]
fn valid_cases_of_made_up_families_prepare_to_the_snapshotted_plan() {
    insta::glob!("../specs", "*/cases/ok/*.json", |path| {
        let registry = registry_for(path);
        let request = request(path);
        let model = model_for(&registry, path, &request);
        match model.prepare(request) {
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
fn invalid_cases_of_made_up_families_fail_with_the_snapshotted_diagnostics() {
    insta::glob!("../specs", "*/cases/err/*.json", |path| {
        let registry = registry_for(path);
        let request = request(path);
        let model = model_for(&registry, path, &request);
        let stem = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("");
        let rule = vidspec_casebook::rule_in_file_name(stem);
        match model.prepare(request) {
            Ok(plan) => panic!(
                "{}: expected errors, got a plan in mode {}",
                path.display(),
                plan.mode()
            ),
            Err(diagnostics) => {
                if let Some(rule) = rule {
                    assert!(
                        diagnostics
                            .errors
                            .iter()
                            .any(|error| error.rule.as_deref() == Some(rule)),
                        "{}: the file name promises rule {rule}",
                        path.display()
                    );
                }
                insta::assert_snapshot!(render_diagnostics(&diagnostics));
            }
        }
    });
}

/// Other validators agree: the exported schema alone gives the engine's verdict.
#[test]
fn the_schema_alone_gives_the_engines_verdict_on_every_made_up_case() {
    insta::glob!("../specs", "*/cases/*/*.json", |path| {
        let registry = registry_for(path);
        let request = request(path);
        let model = model_for(&registry, path, &request);
        let validator = jsonschema::draft202012::new(model.json_schema()).expect("a schema");
        assert_eq!(
            validator.is_valid(&request),
            model.prepare(request.clone()).is_ok(),
            "{}",
            path.display()
        );
    });
}
