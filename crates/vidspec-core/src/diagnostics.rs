//! What goes wrong, as data: request diagnostics and spec-file problems.
//!
//! This module owns the error and warning types every other module returns and
//! how they print. It does not decide what is wrong; `validate`, `lint` and
//! `load` do.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// One reason a request is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// JSON pointer into the request (`/duration`; `""` for the whole request).
    pub path: String,
    /// The spec rule it breaks (a seed-rules number such as `O3`), if any.
    pub rule: Option<String>,
    /// The upstream error code the gateway would answer with, if documented.
    pub code: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        // A path holds request keys as given: cut and escaped for the terminal
        // here (the field itself stays the exact JSON pointer for scripts).
        write!(f, "{}: {}", crate::text::short_path(path), self.message)?;
        match (&self.rule, &self.code) {
            (Some(rule), Some(code)) => write!(f, " [{rule}, {code}]"),
            (Some(rule), None) => write!(f, " [{rule}]"),
            (None, Some(code)) => write!(f, " [{code}]"),
            (None, None) => Ok(()),
        }
    }
}

/// Something a valid request should know: a field dropped, a value normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// JSON pointer into the request.
    pub path: String,
    /// What happened and why.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        write!(f, "{}: {}", crate::text::short_path(path), self.message)
    }
}

/// The most errors listed for one request: past these, `Diagnostics::errors`
/// ends with one entry saying how many more were found (a request with a
/// million unknown keys is reported in bounded time and memory).
pub const MAX_LISTED_ERRORS: usize = 100;

/// Every reason a request is invalid, found in one pass.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
pub struct Diagnostics {
    /// The problems, in the order of the request's fields: at most
    /// [`MAX_LISTED_ERRORS`], then, when `not_shown` is above 0, one last entry
    /// saying so ([`Diagnostic::more_not_shown`]).
    pub errors: Vec<Diagnostic>,
    /// Warnings found while looking (may be empty).
    pub warnings: Vec<Warning>,
    /// Errors found but not listed in `errors`.
    pub not_shown: u64,
    /// Whether counting stopped early, so `not_shown` (and [`Diagnostics::total`])
    /// is a lower bound.
    pub count_is_lower_bound: bool,
}

impl Diagnostics {
    /// How many errors were found: those listed and those not shown.
    pub fn total(&self) -> u64 {
        match self.not_shown {
            0 => self.errors.len() as u64,
            more => (self.errors.len() as u64).saturating_sub(1) + more,
        }
    }
}

impl Diagnostic {
    /// The last entry of a list cut at [`MAX_LISTED_ERRORS`]: path `""` (the
    /// whole request), no rule, no code, and a message saying how many more
    /// errors were found (`at least`, when counting stopped early).
    pub fn more_not_shown(count: u64, counted_all: bool) -> Diagnostic {
        let at_least = if counted_all { "" } else { "at least " };
        Diagnostic {
            path: String::new(),
            rule: None,
            code: None,
            message: format!(
                "{at_least}{} more error(s) not shown: only the first {MAX_LISTED_ERRORS} are listed; fix those and check again",
                crate::text::thousands(count)
            ),
        }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.errors.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {error}")?;
        }
        Ok(())
    }
}

/// One problem in a spec file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The spec file (`specs/omni-flash-ext.yaml`).
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// 1-based column, 0 when unknown.
    pub column: u64,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

/// A spec set that cannot be used: every problem found, all at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SpecErrors {
    /// The problems, sorted by file and position.
    pub problems: Vec<Problem>,
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {problem}")?;
        }
        Ok(())
    }
}

/// A JSON value's type as a person names it (`an integer`, `a string`).
pub fn type_words(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(number) if number.is_i64() || number.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Diagnostics {
    /// Diagnostics holding one error about the whole request or one field.
    pub fn single(path: impl Into<String>, message: impl Into<String>) -> Diagnostics {
        Diagnostics {
            errors: vec![Diagnostic {
                path: path.into(),
                rule: None,
                code: None,
                message: message.into(),
            }],
            warnings: Vec::new(),
            not_shown: 0,
            count_is_lower_bound: false,
        }
    }
}
