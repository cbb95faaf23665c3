//! Rendering: reports, model lists and schemas as text for people or JSON for
//! scripts.
//!
//! Owns every byte the commands print on stdout and the JSON shapes scripts
//! depend on (`check --format json`, `models --format json`). It must not
//! decide validity, pick models or choose exit codes, and must not know any
//! particular model: it prints what the engine returned.
//!
//! Owns, too, the one function text from outside (requests, gateway answers,
//! the journal) passes through before any human-readable print: [`terminal`].

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Map, Value};
use vidspec_core::spec::{ImageConstraints, TaskReference};
use vidspec_core::{
    Charge, Diagnostic, Effective, Model, Plan, PlanEndpoint, Precondition, Warning,
};

use crate::check::{Report, Verdict};
use crate::cli::Format;

/// Text from outside — a request, a gateway answer, the journal — made safe
/// for a terminal: control characters (ESC, CR, BEL, C1), bidi overrides and
/// other invisible characters are written as escapes (`\u{1b}`, `\r`), so
/// nothing printed can move the cursor, clear the screen, retitle the window
/// or reorder a line. Every human-readable print of such text goes through
/// here; text without them is passed through without a copy. (JSON output
/// needs no call: serde_json escapes control characters itself.)
pub fn terminal(text: &str) -> Cow<'_, str> {
    vidspec_core::text::escape_hidden(text)
}

/// The CLI's own advice for a ledger error, whose message is worded for any
/// user of the journal crate: the flag and variable that name another
/// ledger, and how to move a damaged one aside here.
pub fn ledger_hint(error: &vidspec_journal::LedgerError) -> Option<String> {
    use vidspec_journal::LedgerError;
    const ANOTHER: &str = "name another ledger with --journal PATH or VIDSPEC_JOURNAL";
    let hint = match error {
        LedgerError::Damaged { path, .. } => {
            let path = path.display();
            format!("`mv '{path}' '{path}.bak'` and vidspec starts a new ledger, or {ANOTHER}")
        }
        LedgerError::Newer { .. } => format!("upgrade vidspec, or {ANOTHER}"),
        LedgerError::Foreign { .. } | LedgerError::Sqlite { .. } | LedgerError::Io { .. } => {
            ANOTHER.to_owned()
        }
        _ => return None,
    };
    Some(hint)
}

/// Which command a report is printed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// `check`: errors, warnings and a summary line.
    Check,
    /// `explain`: everything the plan says.
    Explain,
}

/// The one JSON object `check --format json` prints, and `check --batch`
/// prints for each line. Its keys, their order and the bytes serde_json
/// writes for them are a contract scripts read (`tests/result_line.rs` pins
/// a valid and an invalid line byte for byte).
#[derive(Serialize)]
struct JsonReport<'a> {
    valid: bool,
    model: Option<&'a str>,
    mode: Option<&'a str>,
    body: Option<&'a Map<String, Value>>,
    effective: Option<Effective<'a>>,
    warnings: &'a [Warning],
    errors: &'a [Diagnostic],
    billing: Option<&'a Charge>,
}

/// Prints a report of `check` or `explain`.
pub fn write_report(
    out: &mut dyn Write,
    report: &Report,
    format: Format,
    view: View,
) -> io::Result<()> {
    match format {
        Format::Json => write_report_line(out, report),
        Format::Text => match (&report.verdict, view) {
            (Verdict::Invalid(diagnostics), _) => {
                for error in &diagnostics.errors {
                    let line = format!("error: {}: {error}", report.source);
                    writeln!(out, "{}", terminal(&line))?;
                }
                write_warnings(out, &report.source, &diagnostics.warnings)?;
                let total = diagnostics.total();
                let count = if diagnostics.not_shown == 0 {
                    format!("{total} error(s)")
                } else {
                    format!(
                        "{}{} error(s), the first {} listed",
                        if diagnostics.count_is_lower_bound {
                            "at least "
                        } else {
                            ""
                        },
                        vidspec_core::text::thousands(total),
                        diagnostics.errors.len() - 1
                    )
                };
                match &report.model {
                    Some(model) => writeln!(
                        out,
                        "{}: invalid request for {}: {count}",
                        report.source,
                        vidspec_core::text::short(model)
                    ),
                    None => writeln!(out, "{}: invalid request: {count}", report.source),
                }
            }
            (Verdict::Valid(plan), View::Check) => {
                write_warnings(out, &report.source, plan.warnings())?;
                write_valid_summary(out, &report.source, plan)
            }
            (Verdict::Valid(plan), View::Explain) => write_explanation(out, &report.source, plan),
        },
    }
}

/// Writes the `check --format json` object of a report and a newline, as
/// one compact line (what `check --batch` prints for each request).
pub fn write_report_line(mut out: impl Write, report: &Report) -> io::Result<()> {
    serde_json::to_writer(&mut out, &JsonReport::of(report))?;
    out.write_all(b"\n")
}

impl<'a> JsonReport<'a> {
    /// The object for `report`: the plan's views for a valid request, the
    /// diagnostics for an invalid one.
    fn of(report: &'a Report) -> JsonReport<'a> {
        match &report.verdict {
            Verdict::Valid(plan) => JsonReport {
                valid: true,
                model: Some(plan.model()),
                mode: Some(plan.mode()),
                body: Some(plan.body()),
                effective: Some(plan.effective()),
                warnings: plan.warnings(),
                errors: &[],
                billing: Some(plan.billing()),
            },
            Verdict::Invalid(diagnostics) => JsonReport {
                valid: false,
                model: report.model.as_deref(),
                mode: None,
                body: None,
                effective: None,
                warnings: &diagnostics.warnings,
                errors: &diagnostics.errors,
                billing: None,
            },
        }
    }
}

fn write_warnings(out: &mut dyn Write, source: &str, warnings: &[Warning]) -> io::Result<()> {
    for warning in warnings {
        let line = format!("warning: {source}: {warning}");
        writeln!(out, "{}", terminal(&line))?;
    }
    Ok(())
}

fn write_valid_summary(out: &mut dyn Write, source: &str, plan: &Plan) -> io::Result<()> {
    write!(
        out,
        "{source}: valid {} request (mode {})",
        plan.model(),
        plan.mode()
    )?;
    match plan.warnings().len() {
        0 => writeln!(out),
        count => writeln!(out, ", {count} warning(s)"),
    }
}

fn write_explanation(out: &mut dyn Write, source: &str, plan: &Plan) -> io::Result<()> {
    writeln!(out, "model:     {}", plan.model())?;
    writeln!(out, "family:    {}", plan.family())?;
    writeln!(out, "mode:      {}", plan.mode())?;
    writeln!(out, "endpoint:  {}", show_endpoint(plan.endpoint()))?;
    writeln!(
        out,
        "billing:   {} × {}",
        terminal(&plan.billing().key),
        plan.billing().multiplier
    )?;
    writeln!(out, "body:")?;
    write_indented_json(out, plan.body())?;
    writeln!(out, "effective:")?;
    write_indented_json(out, &plan.effective())?;
    if plan.warnings().is_empty() {
        writeln!(out, "warnings:  none")?;
    } else {
        writeln!(out, "warnings:")?;
        for warning in plan.warnings() {
            writeln!(out, "  {}", terminal(&warning.to_string()))?;
        }
    }
    if plan.preconditions().is_empty() {
        writeln!(out, "preconditions: none")?;
    } else {
        writeln!(out, "preconditions (checked at submission):")?;
        for precondition in &plan.preconditions() {
            writeln!(out, "  {}", show_precondition(precondition))?;
        }
    }
    write_valid_summary(out, source, plan)
}

fn write_indented_json(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    let pretty = serde_json::to_string_pretty(value)?;
    for line in pretty.lines() {
        writeln!(out, "  {}", terminal(line))?;
    }
    Ok(())
}

fn show_endpoint(endpoint: &PlanEndpoint) -> String {
    format!("{} {}", endpoint.method, endpoint.path)
}

/// One line saying what must be checked at a path before submission.
fn show_precondition(precondition: &Precondition) -> String {
    let mut what = Vec::new();
    if let Some(image) = &precondition.image {
        what.push(show_image(image));
    }
    if let Some(task) = &precondition.task {
        what.push(show_task(task));
    }
    if what.is_empty() {
        what.push("checked at submission".to_owned());
    }
    let path = if precondition.path.is_empty() {
        "/"
    } else {
        &precondition.path
    };
    format!("{path}: {}", what.join("; "))
}

fn show_image(image: &ImageConstraints) -> String {
    let mut parts = Vec::new();
    if !image.formats.is_empty() {
        parts.push(format!("format {}", image.formats.join(", ")));
    }
    match (image.min_width, image.min_height) {
        (Some(width), Some(height)) => parts.push(format!("at least {width}×{height} px")),
        (Some(width), None) => parts.push(format!("at least {width} px wide")),
        (None, Some(height)) => parts.push(format!("at least {height} px high")),
        (None, None) => {}
    }
    match (&image.min_aspect, &image.max_aspect) {
        (Some(low), Some(high)) => parts.push(format!("aspect between {low} and {high}")),
        (Some(low), None) => parts.push(format!("aspect at least {low}")),
        (None, Some(high)) => parts.push(format!("aspect at most {high}")),
        (None, None) => {}
    }
    if let Some(bytes) = image.max_bytes {
        parts.push(format!("at most {}", show_bytes(bytes)));
    }
    let mut line = if parts.is_empty() {
        "an image that can be fetched".to_owned()
    } else {
        format!("an image: {}", parts.join(", "))
    };
    if let Some(rule) = &image.rule {
        line.push_str(&format!(" [{rule}]"));
    }
    line
}

fn show_task(task: &TaskReference) -> String {
    let mut line = format!("must name a {} task", task.status);
    if !task.models.is_empty() {
        line.push_str(&format!(" of {}", task.models.join(" or ")));
    }
    if let Some(description) = &task.description {
        line.push_str(&format!(" ({description})"));
    }
    if let Some(rule) = &task.rule {
        line.push_str(&format!(" [{rule}]"));
    }
    line
}

fn show_bytes(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// One entry of `models --format json`. Keys are a contract.
#[derive(Serialize)]
struct JsonModel<'a> {
    id: &'a str,
    family: &'a str,
    endpoint: PlanEndpoint,
    modes: Vec<&'a str>,
    description: &'a str,
}

/// Prints the models (already sorted by id) as a table or a JSON array.
pub fn write_models<'m>(
    out: &mut dyn Write,
    models: impl Iterator<Item = &'m Model>,
    format: Format,
) -> io::Result<()> {
    let models: Vec<&Model> = models.collect();
    match format {
        Format::Json => {
            let entries: Vec<JsonModel<'_>> = models
                .iter()
                .map(|model| JsonModel {
                    id: model.id(),
                    family: model.family(),
                    endpoint: model.endpoint().clone(),
                    modes: model.modes(),
                    description: model.description(),
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &entries)?;
            writeln!(out)
        }
        Format::Text => {
            let rows: Vec<[String; 3]> = models
                .iter()
                .map(|model| {
                    [
                        model.id().to_owned(),
                        model.family().to_owned(),
                        model.modes().join(", "),
                    ]
                })
                .collect();
            write_table(out, ["ID", "FAMILY", "MODES"], &rows)
        }
    }
}

fn write_table(out: &mut dyn Write, header: [&str; 3], rows: &[[String; 3]]) -> io::Result<()> {
    let width = |column: usize| {
        rows.iter()
            .map(|row| row[column].chars().count())
            .chain([header[column].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let (first, second) = (width(0), width(1));
    writeln!(
        out,
        "{:<first$}  {:<second$}  {}",
        header[0], header[1], header[2]
    )?;
    for row in rows {
        writeln!(out, "{:<first$}  {:<second$}  {}", row[0], row[1], row[2])?;
    }
    Ok(())
}

/// Prints a model's request schema as pretty JSON.
pub fn write_schema(out: &mut dyn Write, model: &Model) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, model.json_schema())?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every request file under tests/cases and examples, and a few lines that
    /// are not requests at all.
    fn every_request() -> Vec<(String, Vec<u8>)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut out = Vec::new();
        let mut folders = vec![root.join("examples")];
        for family in std::fs::read_dir(root.join("tests/cases")).expect("tests/cases") {
            let family = family.expect("an entry").path();
            folders.push(family.join("ok"));
            folders.push(family.join("err"));
        }
        for folder in folders {
            for file in std::fs::read_dir(&folder).expect("a case folder") {
                let path = file.expect("an entry").path();
                if path
                    .extension()
                    .is_some_and(|extension| extension == "json")
                {
                    let bytes = std::fs::read(&path).expect("readable");
                    out.push((path.display().to_string(), bytes));
                }
            }
        }
        for odd in [
            "",
            "{",
            "[1]",
            "{\"model\": 3}",
            "{\"model\": \"nope\\u0001\"}",
        ] {
            out.push((format!("{odd:?}"), odd.as_bytes().to_vec()));
        }
        assert!(out.len() > 100, "found only {} requests", out.len());
        out
    }

    /// The top-level keys of a JSON object, in the order they are written.
    struct KeysInOrder(Vec<String>);

    impl<'de> serde::Deserialize<'de> for KeysInOrder {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = KeysInOrder;
                fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                    formatter.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<KeysInOrder, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((key, serde::de::IgnoredAny)) = map.next_entry::<String, _>()? {
                        keys.push(key);
                    }
                    Ok(KeysInOrder(keys))
                }
            }
            deserializer.deserialize_map(Visitor)
        }
    }

    #[test]
    fn every_result_line_is_one_line_of_json_with_the_eight_keys_in_contract_order() {
        let registry = vidspec_core::Registry::embedded();
        let contract = [
            "valid",
            "model",
            "mode",
            "body",
            "effective",
            "warnings",
            "errors",
            "billing",
        ];
        for (name, bytes) in every_request() {
            let report = crate::check::evaluate(registry, name.clone(), &bytes, None);
            let mut line = Vec::new();
            write_report_line(&mut line, &report).expect("writes into memory");
            let text = String::from_utf8(line).expect("UTF-8");
            let Some(object) = text.strip_suffix('\n') else {
                panic!("{name}: no newline at the end of {text:?}");
            };
            assert!(
                !object.contains('\n'),
                "{name}: more than one line: {text:?}"
            );
            let keys: KeysInOrder = serde_json::from_str(object).expect("one JSON object");
            assert_eq!(keys.0, contract, "{name}");
        }
    }

    #[test]
    fn terminal_text_has_escapes_control_characters_and_bidi_overrides_written_out() {
        assert_eq!(
            terminal("task-1\u{1b}[2J\r\u{7}\u{9b}\u{202e}: done"),
            "task-1\\u{1b}[2J\\r\\u{7}\\u{9b}\\u{202e}: done"
        );
        assert!(matches!(
            terminal("task-1: done, 16:9 — ok"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn a_foreign_ledger_hints_at_the_flag_and_variable_that_name_another() {
        let error = vidspec_journal::LedgerError::Foreign {
            path: "/state/other.sqlite3".into(),
        };
        assert!(!error.to_string().contains("--journal"), "{error}");
        assert_eq!(
            ledger_hint(&error).as_deref(),
            Some("name another ledger with --journal PATH or VIDSPEC_JOURNAL")
        );
        let busy = vidspec_journal::LedgerError::Busy {
            path: "/state/ledger.sqlite3".into(),
            seconds: 10,
        };
        assert_eq!(ledger_hint(&busy), None);
    }

    #[test]
    fn bytes_are_shown_in_the_largest_exact_unit() {
        assert_eq!(show_bytes(10 * 1024 * 1024), "10 MiB");
        assert_eq!(show_bytes(512 * 1024), "512 KiB");
        assert_eq!(show_bytes(1000), "1000 bytes");
    }

    #[test]
    fn table_columns_are_aligned_to_the_widest_cell() {
        let mut out = Vec::new();
        let rows = vec![
            ["a-long-id".to_owned(), "f".to_owned(), "m1, m2".to_owned()],
            ["b".to_owned(), "family".to_owned(), "m1".to_owned()],
        ];
        write_table(&mut out, ["ID", "FAMILY", "MODES"], &rows).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "ID         FAMILY  MODES\n\
             a-long-id  f       m1, m2\n\
             b          family  m1\n"
        );
    }

    #[test]
    fn an_image_precondition_lists_every_constraint() {
        let image = ImageConstraints {
            formats: vec!["png".into(), "jpeg".into()],
            min_width: Some(300),
            min_height: Some(300),
            min_aspect: Some("1:4".into()),
            max_aspect: Some("4:1".into()),
            max_bytes: Some(10 * 1024 * 1024),
            rule: Some("X1".into()),
        };
        assert_eq!(
            show_image(&image),
            "an image: format png, jpeg, at least 300×300 px, aspect between 1:4 and 4:1, \
             at most 10 MiB [X1]"
        );
    }
}
