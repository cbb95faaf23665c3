//! Running a case folder: each case judged against the registry (valid or
//! refused as its place says, citing the rule its name promises), its
//! rendering compared with its snapshot, and the outcome of each case.
//!
//! Owns the verdicts and what `--accept` writes. It must not print: the
//! caller renders the [`Report`].

use std::path::{Path, PathBuf};

use serde_json::Value;
use vidspec_core::{Model, Registry};

use crate::CasebookError;
use crate::cases::{CaseFile, Expect, find_cases};
use crate::render::{render_diagnostics, render_plan};
use crate::snapshots::{Comparison, Snapshots};

/// Largest case file read, as `vidspec check` reads one request.
const MAX_CASE_BYTES: u64 = 16 * 1024 * 1024;

/// What happened to one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It behaved as its place says and matches its snapshot.
    Passed,
    /// It behaved as its place says and had no snapshot yet.
    New {
        /// The snapshot written: the accepted one with `--accept`, else the
        /// pending `.snap.new`.
        snapshot: PathBuf,
        /// Whether it was accepted.
        accepted: bool,
    },
    /// It behaved as its place says but its rendering changed.
    Changed {
        /// A unified diff from the accepted snapshot to the new text.
        diff: String,
        /// The snapshot written (as for [`Outcome::New`]).
        snapshot: PathBuf,
        /// Whether it was accepted.
        accepted: bool,
    },
    /// It did not behave as its place says, or could not be run.
    Failed {
        /// Why, in words a spec author can act on.
        why: String,
    },
}

/// One case and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// The case.
    pub case: CaseFile,
    /// What happened.
    pub outcome: Outcome,
}

/// Every case of a folder, in order, and the snapshots no case owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// One result per case.
    pub results: Vec<CaseResult>,
    /// Accepted snapshots whose case is gone (delete them).
    pub orphans: Vec<PathBuf>,
}

impl Report {
    /// No case failed and every new or changed snapshot was accepted.
    pub fn passed(&self) -> bool {
        self.results.iter().all(|result| match &result.outcome {
            Outcome::Passed => true,
            Outcome::New { accepted, .. } | Outcome::Changed { accepted, .. } => *accepted,
            Outcome::Failed { .. } => false,
        })
    }
}

/// Runs every case below `cases_dir` against `registry`; with `accept`, new
/// and changed renderings become the accepted snapshots, else they are written
/// as `.snap.new` for review.
pub fn run(registry: &Registry, cases_dir: &Path, accept: bool) -> Result<Report, CasebookError> {
    let cases = find_cases(cases_dir)?;
    let snapshots = Snapshots::of(cases_dir);
    let results = cases
        .iter()
        .map(|case| CaseResult {
            case: case.clone(),
            outcome: outcome(registry, &snapshots, case, accept),
        })
        .collect();
    let orphans = snapshots
        .orphans(&cases)
        .map_err(|source| CasebookError::ReadDir {
            dir: snapshots.dir().to_path_buf(),
            source,
        })?;
    Ok(Report { results, orphans })
}

fn outcome(registry: &Registry, snapshots: &Snapshots, case: &CaseFile, accept: bool) -> Outcome {
    let rendered = match judge(registry, case) {
        Ok(rendered) => rendered,
        Err(why) => return Outcome::Failed { why },
    };
    let cannot_write = |error: std::io::Error| Outcome::Failed {
        why: format!(
            "cannot write its snapshot in {}: {error}",
            snapshots.dir().display()
        ),
    };
    let write = |rendered: &str| {
        if accept {
            snapshots.accept(case, rendered)
        } else {
            snapshots.propose(case, rendered)
        }
    };
    match snapshots.compare(case, &rendered) {
        Ok(Comparison::Same) => match snapshots.clear_pending(case) {
            Ok(()) => Outcome::Passed,
            Err(error) => cannot_write(error),
        },
        Ok(Comparison::New) => match write(&rendered) {
            Ok(snapshot) => Outcome::New {
                snapshot,
                accepted: accept,
            },
            Err(error) => cannot_write(error),
        },
        Ok(Comparison::Changed { accepted: old }) => match write(&rendered) {
            Ok(snapshot) => Outcome::Changed {
                diff: diff(&old, &rendered),
                snapshot,
                accepted: accept,
            },
            Err(error) => cannot_write(error),
        },
        Err(error) => Outcome::Failed {
            why: format!(
                "cannot read its snapshot {}: {error}",
                snapshots.accepted_path(case).display()
            ),
        },
    }
}

/// Judges one case: its snapshot text when it behaves as its place says
/// (the plan of an `ok` case, the diagnostics of an `err` case), else why not.
pub fn judge(registry: &Registry, case: &CaseFile) -> Result<String, String> {
    let bytes = vidspec_core::load::read_regular_file(&case.path, MAX_CASE_BYTES)
        .map_err(|error| format!("cannot read the case: {error}"))?;
    let request: Value =
        serde_json::from_slice(&bytes).map_err(|error| format!("the case is not JSON: {error}"))?;
    let model = model_of(registry, case, &request)?;
    match (case.expect, model.prepare(request)) {
        (Expect::Valid, Ok(plan)) => Ok(render_plan(&plan)),
        (Expect::Valid, Err(diagnostics)) => Err(format!(
            "expected a valid request (it is in ok/), got:\n{}",
            render_diagnostics(&diagnostics).trim_end()
        )),
        (Expect::Invalid, Ok(plan)) => Err(format!(
            "expected errors (it is in err/), got a plan in mode {}",
            plan.mode()
        )),
        (Expect::Invalid, Err(diagnostics)) => {
            if let Some(rule) = case.promised_rule() {
                let cited: Vec<&str> = diagnostics
                    .errors
                    .iter()
                    .filter_map(|error| error.rule.as_deref())
                    .collect();
                if !cited.contains(&rule) {
                    return Err(format!(
                        "the file name promises rule {rule}, but the diagnostics cite {}:\n{}",
                        if cited.is_empty() {
                            "none".to_owned()
                        } else {
                            cited.join(", ")
                        },
                        render_diagnostics(&diagnostics).trim_end()
                    ));
                }
            }
            Ok(render_diagnostics(&diagnostics))
        }
    }
}

/// The family of a case in a single family's folder (`DIR/cases/{ok,err}`):
/// the one spec file of `DIR` (its stem is its family), if there is exactly one.
fn implied_family(case: &CaseFile) -> Option<String> {
    let spec_dir = case.path.parent()?.parent()?.parent()?;
    let mut stems = std::fs::read_dir(spec_dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yaml")
        })
        .filter_map(|path| path.file_stem()?.to_str().map(str::to_owned))
        .filter(|stem| stem != "vocabulary");
    let stem = stems.next()?;
    stems.next().is_none().then_some(stem)
}

/// The model a case is for: the request's `model` when the specs define it,
/// else the first model of the case's family (as `vidspec check --model`
/// with that model would read it, so a wrong id is reported by the spec).
fn model_of<'r>(
    registry: &'r Registry,
    case: &CaseFile,
    request: &Value,
) -> Result<&'r Model, String> {
    if let Ok(model) = registry.route(request) {
        return Ok(model);
    }
    let named = request.get("model").and_then(Value::as_str);
    let implied = case.family.clone().or_else(|| implied_family(case));
    let first_of_family = implied
        .as_deref()
        .and_then(|family| registry.first_of_family(family));
    first_of_family.ok_or_else(|| {
        let known = registry.ids().join(", ");
        match (named, &implied) {
            (Some(id), _) => format!(
                "the case names model {} which no spec defines (known: {known})",
                vidspec_core::text::quote_short(id)
            ),
            (None, Some(family)) => format!(
                "the case names no model and no spec has family {}: name a model in the case \
                 (\"model\": \"…\") or name its folder after the spec's family",
                vidspec_core::text::quote_short(family)
            ),
            (None, None) => "the case names no model: add \"model\": \"<id>\" to it".to_owned(),
        }
    })
}

/// A unified diff from `old` to `new`, a few lines of context.
fn diff(old: &str, new: &str) -> String {
    let old = format!("{}\n", old.trim_end());
    let new = format!("{}\n", new.trim_end());
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header("accepted", "new")
        .to_string()
}
