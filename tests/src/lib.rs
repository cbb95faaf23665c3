//! Shared helpers for the workspace integration tests: the embedded registry,
//! reading case files and rendering plans and diagnostics as snapshots.
//!
//! The tests themselves live in `tests/tests/*.rs`; the per-spec cases in
//! `tests/cases/<family>/{ok,err}/*.json`. Nothing here is used outside tests.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;
use vidspec_core::{Model, Registry};

/// The embedded registry, built once per test binary.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::embedded)
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
        let first = registry
            .models()
            .filter(|model| model.family() == self.family)
            .min_by_key(|model| {
                model
                    .spec()
                    .models
                    .iter()
                    .position(|variant| variant.value.id == model.id())
            });
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

/// A small deterministic random number generator (splitmix64 seeding,
/// xorshift64*), so generated tests replay from their seed without a crate.
pub struct Rng(u64);

impl Rng {
    /// A generator whose stream is fixed by `seed`.
    pub fn new(seed: u64) -> Rng {
        // splitmix64 once, so nearby seeds give unrelated streams (and 0 works).
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        Rng(if z == 0 { 1 } else { z })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// One of `items`, uniformly (`items` not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
