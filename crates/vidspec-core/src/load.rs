//! Reading spec files: YAML text → `Spec` values, with every syntax problem located.
//!
//! Owns the YAML reader settings (duplicate keys rejected, `yes`/`no` kept as
//! strings, alias and nesting budgets) and the size cap. It must not interpret
//! what a spec says; `lint` and `compile` do that. It never panics on any input.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::diagnostics::Problem;
use crate::spec::{Spec, Vocabulary};

/// The largest spec file read, in bytes. Real specs are a few kilobytes.
pub const MAX_SPEC_BYTES: usize = 256 * 1024;

/// One spec source: a file name (for messages and the family check) and its text.
#[derive(Debug, Clone)]
pub struct Source {
    /// The name used in messages, e.g. `specs/pixverse-v6.yaml`.
    pub name: String,
    /// The YAML text.
    pub text: String,
}

impl Source {
    /// A source from a name and text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }

    /// The file stem of the name (`pixverse-v6` for `specs/pixverse-v6.yaml`).
    pub fn stem(&self) -> &str {
        Path::new(&self.name)
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or(&self.name)
    }
}

/// Parses a model-family spec.
pub fn parse_spec(source: &Source) -> Result<Spec, Problem> {
    parse(source)
}

/// Parses the shared vocabulary file.
pub fn parse_vocabulary(source: &Source) -> Result<Vocabulary, Problem> {
    parse(source)
}

fn parse<T: DeserializeOwned>(source: &Source) -> Result<T, Problem> {
    if source.text.len() > MAX_SPEC_BYTES {
        return Err(Problem {
            file: source.name.clone(),
            line: 0,
            column: 0,
            message: format!(
                "file is {} bytes; spec files are limited to {MAX_SPEC_BYTES} bytes: split the family or trim it",
                source.text.len()
            ),
        });
    }
    let mut options = serde_saphyr::options::Options::default();
    options.strict_booleans = true;
    serde_saphyr::from_str_with_options::<T>(&source.text, options).map_err(|error| {
        let (line, column) = error
            .location()
            .map(|location| (location.line(), location.column()))
            .unwrap_or((0, 0));
        Problem {
            file: source.name.clone(),
            line,
            column,
            message: clean_message(&error.without_snippet().to_string()),
        }
    })
}

/// Drops the reader's own location suffix and its advice to library users.
fn clean_message(message: &str) -> String {
    if message.contains("budget breached") {
        return "the YAML grows too large when its aliases are expanded, or nests too deep (an alias bomb?): write the values out or simplify the anchors".to_owned();
    }
    let message = match message.rfind(" at line ") {
        Some(index) if message[index..].contains(", column ") => &message[..index],
        _ => message,
    };
    message
        .replace(
            ", set DuplicateKeyPolicy in Options if acceptable",
            "; remove one of them",
        )
        .trim()
        .to_owned()
}
