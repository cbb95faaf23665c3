//! Shared helpers for the workspace integration tests: the embedded registry,
//! reading case files, rendering plans and diagnostics as snapshots, and the
//! made-up spec texts and loaders the lint tests share.
//!
//! The tests themselves live in `tests/tests/*.rs`; the per-spec cases in
//! `tests/cases/<family>/{ok,err}/*.json`. Nothing here is used outside tests.

use serde_json::Value;
use std::path::Path;
use vidspec_core::{Model, Registry, Source, SpecErrors};

/// The embedded registry (built once, on first use, by `Registry::embedded`).
pub fn registry() -> &'static Registry {
    Registry::embedded()
}

/// A case file: its family (folder), whether it should pass, and the request.
pub struct Case {
    /// Family folder name.
    pub family: String,
    /// `ok` or `err`.
    pub expect_valid: bool,
    /// The file stem (`P4-first-last-duration-6`).
    pub name: String,
    /// The request.
    pub request: Value,
}

impl Case {
    /// Reads `tests/cases/<family>/<ok|err>/<name>.json`.
    pub fn read(path: &Path) -> Case {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let request: Value = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{}: not JSON: {error}", path.display()));
        let kind = path
            .parent()
            .and_then(Path::file_name)
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        let family = path
            .parent()
            .and_then(Path::parent)
            .and_then(Path::file_name)
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_owned();
        assert!(
            kind == "ok" || kind == "err",
            "{}: cases live in ok/ or err/",
            path.display()
        );
        Case {
            family,
            expect_valid: kind == "ok",
            name: path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .unwrap_or_default()
                .to_owned(),
            request,
        }
    }

    /// The model the case is for: the body's `model`, else the family's only model.
    pub fn model(&self) -> &'static Model {
        let registry = registry();
        if let Some(id) = self.request.get("model").and_then(Value::as_str)
            && let Some(model) = registry.model(id)
        {
            return model;
        }
        // No model, or an unknown one: check against the family's first model, as
        // `vidspec check --model <first>` would.
        let first = registry.first_of_family(&self.family);
        first.unwrap_or_else(|| {
            panic!(
                "case {}/{}: no model of family {}",
                self.family, self.name, self.family
            )
        })
    }

    /// The seed rule the file name starts with (`P4` of `P4-first-last.json`), if any:
    /// the rule-in-the-file-name check of vidspec-casebook, which `vidspec test` runs.
    pub fn rule(&self) -> Option<&str> {
        vidspec_casebook::rule_in_file_name(&self.name)
    }
}

/// The one rendering of plans and diagnostics as snapshot text, shared with
/// `vidspec test` (vidspec-casebook), so a spec author's snapshots read as these do.
pub use vidspec_casebook::{render_diagnostics, render_plan};

/// The `task:` block of the made-up specs and gateway file below (task id at
/// `/data/0/task_id`, polled at `/v1/tasks/{task_id}` every second, status and
/// videos under `/data`), as a literal for `concat!`.
#[macro_export]
macro_rules! task_block {
    () => {
        r#"task:
  submit_task_id: [/data/0/task_id]
  poll_path: /v1/tasks/{task_id}
  poll: {first_after_s: 1, every_s: 1, typical_s: 10, timeout_s: 60}
  read: {status: [/data/status], videos: [{each: /data/result/videos, url: /url}]}
"#
    };
}

/// The `duration` field line of [`TINY`] (its line 8), which tests replace or
/// add to.
pub const TINY_DURATION: &str = "  duration: {type: integer, enum: [4, 8], default: 4}\n";

/// A minimal made-up family `tiny` (model `tiny-1`, a required `prompt`, a
/// `duration` on line 8, one mode, its own endpoint and task blocks) that
/// loads without errors or warnings, for tests to break one line at a time.
pub const TINY: &str = concat!(
    r#"family: tiny
description: a tiny made-up family
endpoint: {path: /v1/videos/generations}
models:
  - id: tiny-1
fields:
  prompt: {type: string, required: true}
  duration: {type: integer, enum: [4, 8], default: 4}
modes:
  - {name: text_to_video}
billing: {key: "{model}"}
"#,
    task_block!()
);

/// [`TINY`] with its `duration` line replaced by `field_lines` (indented as
/// fields are, several joined by `\n  `), so the first of them is on line 8.
pub fn tiny_with_field(field_lines: &str) -> String {
    TINY.replace(TINY_DURATION, &format!("  {field_lines}\n"))
}

/// [`TINY`] with `field_lines` (indented as fields are, several joined by
/// `\n  `) added after its `duration` line.
pub fn tiny_plus(field_lines: &str) -> String {
    TINY.replace(TINY_DURATION, &format!("{TINY_DURATION}  {field_lines}\n"))
}

/// A made-up gateway file (`specs/gateways/madeup.yaml`) giving the
/// `endpoint:` and `task:` blocks a family naming `gateway: madeup` inherits.
pub const GATEWAY: &str = concat!(
    "description: a made-up gateway\nendpoint: {path: /v1/videos/generations}\n",
    task_block!()
);

/// A made-up family `tiny` that writes neither `endpoint:` nor `task:` and
/// names gateway `madeup` on line 3.
pub const INHERITING: &str = r#"family: tiny
description: a tiny made-up family
gateway: madeup
models:
  - id: tiny-1
fields:
  prompt: {type: string, required: true}
modes:
  - {name: text_to_video}
billing: {key: "{model}"}
"#;

/// The embedded vocabulary followed by `files` (name, text): the sources of a
/// registry of made-up specs only.
pub fn sources(files: &[(&str, &str)]) -> Vec<Source> {
    let mut sources = Registry::embedded_sources();
    sources.retain(|source| source.stem() == "vocabulary");
    sources.extend(files.iter().map(|(name, text)| Source::new(*name, *text)));
    sources
}

/// Loads the embedded vocabulary and `files` (name, text) as a registry.
pub fn load(files: &[(&str, &str)]) -> Result<Registry, SpecErrors> {
    Registry::from_sources(sources(files))
}

/// The problems loading `files` reports, as printed; empty if they load.
pub fn problems(files: &[(&str, &str)]) -> Vec<String> {
    match load(files) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.problems.iter().map(ToString::to_string).collect(),
    }
}

/// The one problem loading `files` reports; panics listing them when there
/// is not exactly one.
pub fn only_problem(files: &[(&str, &str)]) -> String {
    let mut found = problems(files);
    assert_eq!(found.len(), 1, "exactly one problem expected: {found:?}");
    found.remove(0)
}

/// A seeded random number generator (fastrand's), so generated tests replay
/// from their seed.
pub struct Rng(fastrand::Rng);

impl Rng {
    /// A generator whose stream is fixed by `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(fastrand::Rng::with_seed(seed))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.u64(..)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        self.0.usize(..n)
    }

    /// True with probability `percent`/100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.0.u64(..100) < percent
    }

    /// One of `items`, uniformly (`items` not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
