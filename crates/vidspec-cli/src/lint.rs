//! `lint`: every error and warning lint finds in the specs, then a summary.
//!
//! Owns the command's output (one `error:` or `warning:` line per problem,
//! each line escaped for the terminal, a YAML problem's snippet kept on its
//! own lines) and its exit code. It must not lint anything itself: the
//! problems are vidspec-core's (`Registry::lint_dir`, `lint::warnings`).

use std::io::Write;

use vidspec_core::{Problem, Registry};

use crate::Exit;
use crate::cli::LintArgs;
use crate::output::terminal;

/// Runs `lint`.
pub fn run(args: &LintArgs) -> anyhow::Result<Exit> {
    let report = match &args.specs.specs {
        Some(dir) => {
            anyhow::ensure!(
                dir.is_dir(),
                "--specs {}: not a directory; give the folder holding your *.yaml specs",
                terminal(&dir.display().to_string())
            );
            Registry::lint_dir(dir)
        }
        None => Registry::lint_sources(Registry::embedded_sources()),
    };
    let mut out = std::io::stdout().lock();
    for error in &report.errors {
        write_problem(&mut out, "error", error)?;
    }
    for warning in &report.warnings {
        write_problem(&mut out, "warning", warning)?;
    }
    let place = match &args.specs.specs {
        Some(dir) => dir.display().to_string(),
        None => "the built-in specs".to_owned(),
    };
    let (errors, warnings) = (report.errors.len(), report.warnings.len());
    let summary = if errors == 0 && warnings == 0 {
        format!("lint: {place}: no problems")
    } else {
        format!(
            "lint: {place}: {errors} error{}, {warnings} warning{}",
            plural(errors),
            plural(warnings)
        )
    };
    writeln!(out, "{}", terminal(&summary))?;
    out.flush()?;
    let failed = errors > 0 || (args.deny_warnings && warnings > 0);
    Ok(if failed { Exit::Invalid } else { Exit::Valid })
}

/// One problem: its first line after `error: ` or `warning: `, the lines of
/// a snippet (a YAML problem) below it, each escaped on its own.
fn write_problem(out: &mut impl Write, label: &str, problem: &Problem) -> std::io::Result<()> {
    let text = problem.to_string();
    let mut lines = text.lines();
    writeln!(
        out,
        "{label}: {}",
        terminal(lines.next().unwrap_or_default())
    )?;
    for line in lines {
        writeln!(out, "{}", terminal(line))?;
    }
    Ok(())
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}
