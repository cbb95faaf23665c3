//! The one rendering of a plan and of diagnostics as snapshot text: what a
//! case's snapshot holds, here and in the workspace's own case tests.
//!
//! Pure functions of the engine's values; no I/O.

use std::fmt::Write;

use vidspec_core::{Diagnostics, Plan};

/// A plan as a snapshot: pretty, sorted JSON under a `## Plan` heading.
pub fn render_plan(plan: &Plan) -> String {
    let json = serde_json::to_string_pretty(plan).unwrap_or_default();
    format!("## Plan\n{json}\n")
}

/// Diagnostics as a user reads them under a `## Diagnostics` heading.
pub fn render_diagnostics(diagnostics: &Diagnostics) -> String {
    let mut out = String::from("## Diagnostics\n");
    for error in &diagnostics.errors {
        let _ = writeln!(out, "error: {error}");
    }
    for warning in &diagnostics.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    out
}
