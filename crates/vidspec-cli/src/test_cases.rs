//! `test`: a spec author's ok/err case folders run against their specs
//! (vidspec-casebook), one line per case, a summary line, the exit code.
//!
//! Owns the command's output and the default case folder (`DIR/cases`). It
//! must not judge cases or touch snapshot files itself: that is the
//! casebook's, so `vidspec test` and the workspace's own tests agree.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use vidspec_casebook::{Outcome, Report};

use crate::Exit;
use crate::cli::TestArgs;
use crate::output::terminal;

/// Runs `test`.
pub fn run(args: &TestArgs) -> anyhow::Result<Exit> {
    anyhow::ensure!(
        args.specs.is_dir(),
        "--specs {}: not a directory; give the folder holding your *.yaml specs",
        terminal(&args.specs.display().to_string())
    );
    let registry = crate::registry::load_for(Some(&args.specs))?;
    let cases_dir = args
        .cases
        .clone()
        .unwrap_or_else(|| args.specs.join("cases"));
    anyhow::ensure!(
        cases_dir.is_dir(),
        "{}: no case folder; put cases in it as <family>/ok/*.json and \
         <family>/err/*.json, or give CASES_DIR",
        terminal(&cases_dir.display().to_string())
    );
    let report = vidspec_casebook::run(&registry, &cases_dir, args.accept)
        .context("cannot run the cases")?;
    let mut out = std::io::stdout().lock();
    write_report(&mut out, &report, &cases_dir)?;
    out.flush()?;
    Ok(if report.passed() {
        Exit::Valid
    } else {
        Exit::Invalid
    })
}

fn write_report(out: &mut impl Write, report: &Report, cases_dir: &Path) -> std::io::Result<()> {
    let shown = |path: &Path| -> String {
        let relative = path.strip_prefix(cases_dir).unwrap_or(path);
        terminal(&relative.display().to_string()).into_owned()
    };
    let (mut passed, mut new, mut changed, mut failed) = (0, 0, 0, 0);
    let (mut waiting, mut accepted_now) = (0, 0);
    for result in &report.results {
        let label = terminal(&result.case.label).into_owned();
        match &result.outcome {
            Outcome::Passed => {
                passed += 1;
                writeln!(out, "ok       {label}")?;
            }
            Outcome::New { snapshot, accepted } => {
                new += 1;
                waiting += usize::from(!accepted);
                accepted_now += usize::from(*accepted);
                let verb = if *accepted { "accepted" } else { "written" };
                writeln!(out, "new      {label} ({verb}: {})", shown(snapshot))?;
            }
            Outcome::Changed {
                diff,
                snapshot,
                accepted,
            } => {
                changed += 1;
                waiting += usize::from(!accepted);
                accepted_now += usize::from(*accepted);
                let verb = if *accepted { "accepted" } else { "written" };
                writeln!(out, "changed  {label} ({verb}: {})", shown(snapshot))?;
                write_indented(out, diff)?;
            }
            Outcome::Failed { why } => {
                failed += 1;
                let mut lines = why.lines();
                let first = terminal(lines.next().unwrap_or_default()).into_owned();
                writeln!(out, "failed   {label}: {first}")?;
                for line in lines {
                    writeln!(out, "    {}", terminal(line))?;
                }
            }
        }
    }
    for orphan in &report.orphans {
        writeln!(
            out,
            "orphan   {}: no case has this snapshot any more; delete it",
            shown(orphan)
        )?;
    }
    let total = report.results.len();
    let mut summary = format!(
        "test: {total} case{}: {passed} ok, {new} new, {changed} changed, {failed} failed",
        if total == 1 { "" } else { "s" }
    );
    if accepted_now > 0 {
        summary.push_str(&format!(
            "; {accepted_now} snapshot{} accepted",
            if accepted_now == 1 { "" } else { "s" }
        ));
    }
    if waiting > 0 {
        summary.push_str(&format!(
            "; {waiting} snapshot{} to review (the .snap.new files): run again with --accept \
             to accept them",
            if waiting == 1 { "" } else { "s" }
        ));
    }
    writeln!(out, "{summary}")
}

/// A diff, each line indented and escaped.
fn write_indented(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    for line in text.lines() {
        writeln!(out, "    {}", terminal(line))?;
    }
    Ok(())
}
