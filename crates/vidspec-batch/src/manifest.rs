//! The manifest: a JSON-lines file of requests, each line one job. Every
//! line is read and checked before a run may start, and every problem is
//! collected with its line number and job id (never only the first).
//!
//! A line is a JSON object: an optional `id` (the job id; by default a
//! digest of the line's canonical JSON), the request's own fields, its
//! `model` routing it. Owns reading and judging lines; it must not send,
//! upload or read local files the requests name (they are stood in for by
//! placeholder URLs, as `vidspec_workflow::Checked` does).

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};
use vidspec_core::{Charge, Diagnostic, Registry};
use vidspec_workflow::{Checked, WorkflowError};

use crate::job::{MAX_JOB_ID_LENGTH, is_safe_job_id};

/// The longest manifest line read, in bytes; a longer line is invalid.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// One valid line: a job ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The line number (from 1).
    pub line: usize,
    /// The job id (given, or the line's digest).
    pub id: String,
    /// The model id it is checked against.
    pub model: String,
    /// The mode it will be sent in.
    pub mode: String,
    /// What it is billed as.
    pub billing: Charge,
    /// The request (the line without its `id`).
    pub request: Value,
}

/// One invalid line and every problem found in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvalidLine {
    /// The line number (from 1).
    pub line: usize,
    /// The job id, when the line has a usable one.
    pub id: Option<String>,
    /// The model id, when the line reached one.
    pub model: Option<String>,
    /// Every problem: a JSON pointer into the line, and what to fix.
    pub problems: Vec<Diagnostic>,
}

/// A manifest read and checked: its jobs and its invalid lines.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Manifest {
    /// The valid lines, in order.
    pub jobs: Vec<Job>,
    /// The invalid lines, in order.
    pub invalid: Vec<InvalidLine>,
}

impl Manifest {
    /// The jobs to run: refused while lines are invalid, unless
    /// `skip_invalid` (the invalid lines stay in `invalid` for the report).
    pub fn runnable(&self, skip_invalid: bool) -> Result<&[Job], ManifestError> {
        if !self.invalid.is_empty() && !skip_invalid {
            return Err(ManifestError::Invalid {
                lines: self.invalid.len(),
                first: self.invalid.first().map_or(0, |line| line.line),
            });
        }
        Ok(&self.jobs)
    }
}

/// Why a manifest cannot be read, or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The file cannot be opened or read.
    #[error("cannot read the manifest {}: {source}", path.display())]
    Read {
        /// The manifest.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// Some lines are invalid, and skipping them was not asked for.
    #[error(
        "{lines} line(s) of the manifest are invalid (the first is line {first}); fix them, or \
         skip them explicitly to run the others"
    )]
    Invalid {
        /// How many lines are invalid.
        lines: usize,
        /// The first invalid line.
        first: usize,
    },
}

/// Reads and checks the manifest at `path` against `registry`.
pub fn load(path: &Path, registry: &Registry) -> Result<Manifest, ManifestError> {
    let read = |source| ManifestError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read)?;
    parse(std::io::BufReader::new(file), registry).map_err(read)
}

/// Reads and checks manifest lines from `reader` against `registry`. Only a
/// failure to read is an error; every problem of a line is in
/// [`Manifest::invalid`].
pub fn parse(mut reader: impl BufRead, registry: &Registry) -> std::io::Result<Manifest> {
    let mut manifest = Manifest::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut bytes = Vec::new();
    let mut number = 0;
    loop {
        bytes.clear();
        if reader.read_until(b'\n', &mut bytes)? == 0 {
            break;
        }
        number += 1;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match check_line(number, &bytes, registry, &mut seen) {
            Ok(job) => manifest.jobs.push(job),
            Err(invalid) => manifest.invalid.push(invalid),
        }
    }
    Ok(manifest)
}

fn problem(path: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        path: path.to_owned(),
        rule: None,
        code: None,
        message: message.into(),
    }
}

fn check_line(
    line: usize,
    bytes: &[u8],
    registry: &Registry,
    seen: &mut HashMap<String, usize>,
) -> Result<Job, InvalidLine> {
    let invalid = |id: Option<String>, problems: Vec<Diagnostic>| InvalidLine {
        line,
        id,
        model: None,
        problems,
    };
    if bytes.len() > MAX_LINE_BYTES {
        return Err(invalid(
            None,
            vec![problem(
                "",
                format!(
                    "the line is {} bytes long, over the {MAX_LINE_BYTES}-byte limit: shorten \
                     the request (images go by URL or path, not inline)",
                    bytes.len()
                ),
            )],
        ));
    }
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(value) => value,
        Err(error) => {
            return Err(invalid(
                None,
                vec![problem(
                    "",
                    format!("the line is not valid JSON ({error}): write one JSON object per line"),
                )],
            ));
        }
    };
    let Value::Object(mut object) = value else {
        return Err(invalid(
            None,
            vec![problem(
                "",
                format!(
                    "the line must be a JSON object, not {}: write one {{…}} object per line",
                    type_words(&value)
                ),
            )],
        ));
    };
    let mut problems = Vec::new();
    let id = match object.remove("id") {
        None => Some(default_id(&object)),
        Some(Value::String(id)) if is_safe_job_id(&id) => Some(id),
        Some(Value::String(id)) => {
            problems.push(problem(
                "/id",
                format!(
                    "the id {} cannot name files: use 1 to {MAX_JOB_ID_LENGTH} letters, digits, \
                     `-`, `_` and `.`, not starting with `.`",
                    vidspec_core::text::quote_short(&id)
                ),
            ));
            None
        }
        Some(other) => {
            problems.push(problem(
                "/id",
                format!(
                    "the id must be a non-empty string, not {}",
                    type_words(&other)
                ),
            ));
            None
        }
    };
    if let Some(id) = &id {
        match seen.get(id) {
            Some(first) => problems.push(problem(
                "/id",
                format!(
                    "the id {} is already the id of line {first}: give each job its own id",
                    vidspec_core::text::quote_short(id)
                ),
            )),
            None => {
                seen.insert(id.clone(), line);
            }
        }
    }
    let request = Value::Object(object);
    let checked = match Checked::new(registry, request, None) {
        Ok(checked) => checked,
        Err(error) => {
            let model = match &error {
                WorkflowError::Invalid { model, .. } => Some(model.clone()),
                _ => None,
            };
            problems.extend(error_problems(error));
            return Err(InvalidLine {
                line,
                id,
                model,
                problems,
            });
        }
    };
    let id = match id {
        Some(id) if problems.is_empty() => id,
        id => {
            return Err(InvalidLine {
                line,
                id,
                model: Some(checked.model().to_owned()),
                problems,
            });
        }
    };
    let plan = checked.stand_in_plan();
    let model = plan.model().to_owned();
    let mode = plan.mode().to_owned();
    let billing = plan.billing().clone();
    Ok(Job {
        line,
        id,
        model,
        mode,
        billing,
        request: checked.into_request(),
    })
}

/// A job id from the line's canonical JSON (keys sorted, `id` left out): the
/// same request always gets the same id.
fn default_id(object: &Map<String, Value>) -> String {
    let digest = vidspec_core::digest::digest_json(&Value::Object(object.clone()));
    let hex = digest.rsplit(':').next().unwrap_or(&digest);
    format!("job-{hex}")
}

fn error_problems(error: WorkflowError) -> Vec<Diagnostic> {
    match error {
        WorkflowError::Invalid { diagnostics, .. } => diagnostics.errors,
        WorkflowError::UnknownModel(route) => vec![problem(route.path(), route.to_string())],
        other => vec![problem("", other.to_string())],
    }
}

/// The JSON type of `value`, as a person names it.
fn type_words(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
