//! vidspec-casebook: run a spec author's own case folders against their specs.
//!
//! A case folder holds request files whose place says what must happen:
//! `<family>/ok/*.json` must prepare to a plan, `<family>/err/*.json` must be
//! refused, and an `err` file whose name starts with a rule number
//! (`N1-too-long.json`) must be refused citing that rule. A folder that holds
//! `ok/` and `err/` itself is one family's cases (the layout of
//! `tests/specs/<family>/cases`). The plan or the diagnostics, as a user reads
//! them, are snapshots in insta's file format under `snapshots/` beside the
//! cases: a new or changed one is written as `.snap.new` for review
//! (`cargo insta review` reads them) until it is accepted.
//!
//! This crate owns the case layout, the rule-in-the-file-name check, the one
//! rendering of plans and diagnostics (the workspace tests use it too) and the
//! snapshot files. It reads and writes only files under the case folder; it
//! must not print (the CLI renders [`Report`]) and must not know any model.
//!
//! ```no_run
//! use std::path::Path;
//! use vidspec_core::Registry;
//!
//! let registry = Registry::load_dir(Path::new("my-specs")).expect("specs that load");
//! let report = vidspec_casebook::run(&registry, Path::new("my-specs/cases"), false)
//!     .expect("a readable case folder");
//! assert!(report.passed());
//! ```

#![warn(missing_docs)]

mod book;
mod cases;
mod render;
mod snapshots;

pub use book::{CaseResult, Outcome, Report, judge, run};
pub use cases::{CaseFile, Expect, find_cases, rule_in_file_name};
pub use render::{render_diagnostics, render_plan};
pub use snapshots::{SNAPSHOT_FOLDER, Snapshots};

use std::path::PathBuf;

/// Why a case folder cannot be run at all (a problem with one case is a
/// failed [`Outcome`] of that case instead).
#[derive(Debug, thiserror::Error)]
pub enum CasebookError {
    /// The folder, or one of its family folders, cannot be listed.
    #[error("{}: cannot read the case folder: {source}", dir.display())]
    ReadDir {
        /// The folder.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The folder holds no case in either layout.
    #[error(
        "{}: no cases found; put request files in ok/ and err/ (one family), \
         or in <family>/ok/ and <family>/err/",
        dir.display()
    )]
    NoCases {
        /// The folder.
        dir: PathBuf,
    },
}
