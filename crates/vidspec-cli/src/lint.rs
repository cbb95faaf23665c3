//! `lint`: every error and warning lint finds in the specs, then a summary.
//!
//! Owns the command's output (one `error:` or `warning:` line per problem,
//! then the spec line it points at with a caret under the column, each line
//! escaped for the terminal) and its exit code. It must not lint anything
//! itself: the problems are vidspec-core's (`Registry::lint_dir`,
//! `lint::warnings`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use vidspec_core::{Problem, Registry, Source};

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
    let mut texts = SpecTexts::default();
    let mut out = std::io::stdout().lock();
    for error in &report.errors {
        write_problem(&mut out, "error", error, &mut texts)?;
    }
    for warning in &report.warnings {
        write_problem(&mut out, "warning", warning, &mut texts)?;
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

/// One problem after `error: ` or `warning: ` (a message of several lines
/// keeps them), then the line of the spec it points at and a caret.
fn write_problem(
    out: &mut impl Write,
    label: &str,
    problem: &Problem,
    texts: &mut SpecTexts,
) -> std::io::Result<()> {
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
    if let Some(snippet) = texts
        .text_of(&problem.file)
        .and_then(|text| snippet(text, problem.line, problem.column))
    {
        write!(out, "{snippet}")?;
    }
    Ok(())
}

/// The texts of the spec files problems name, each read once: a built-in
/// spec from the binary, any other from its path.
#[derive(Default)]
struct SpecTexts(BTreeMap<String, Option<String>>);

impl SpecTexts {
    fn text_of(&mut self, file: &str) -> Option<&str> {
        self.0
            .entry(file.to_owned())
            .or_insert_with(|| {
                let embedded = Registry::embedded_sources()
                    .into_iter()
                    .find(|source| source.name == file);
                embedded
                    .or_else(|| vidspec_core::load::read_spec_file(Path::new(file)).ok())
                    .map(|source: Source| source.text)
            })
            .as_deref()
    }
}

/// Line `line` of `text` (1-based) under a gutter with its number, and a
/// caret under `column` (1-based, in characters), escaped for the terminal;
/// `None` when the place is unknown or outside the text.
fn snippet(text: &str, line: u64, column: u64) -> Option<String> {
    let index = usize::try_from(line.checked_sub(1)?).ok()?;
    let source_line = text.lines().nth(index)?;
    let number = line.to_string();
    let gutter = " ".repeat(number.len());
    // Tabs stay tabs so the caret lines up; every other character is a space.
    let before: String = source_line
        .chars()
        .take(usize::try_from(column.saturating_sub(1)).unwrap_or(0))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    Some(format!(
        "{gutter} |\n{number} | {}\n{gutter} | {before}^\n",
        terminal(source_line)
    ))
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_shows_the_line_and_a_caret_under_the_column() {
        let text = "family: x\nfields:\n  prompt: {type: strnig}\n";
        assert_eq!(
            snippet(text, 3, 11).as_deref(),
            Some("  |\n3 |   prompt: {type: strnig}\n  |           ^\n")
        );
    }

    #[test]
    fn no_snippet_for_an_unknown_place_or_a_line_past_the_end() {
        assert_eq!(snippet("a\n", 0, 0), None);
        assert_eq!(snippet("a\n", 5, 1), None);
    }

    #[test]
    fn a_snippet_escapes_control_characters_of_the_spec_line() {
        let shown = snippet("key: \u{1b}[31mred\n", 1, 1).unwrap_or_default();
        assert!(!shown.contains('\u{1b}'), "{shown:?}");
    }
}
