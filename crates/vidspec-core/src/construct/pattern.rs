//! `pattern:` on a string field: a regular expression (ECMA 262, run by the
//! linear-time `regex` engine; lint refuses features that need backtracking).
//!
//! Owns the node, its message and its words.

use serde_json::{Map, Value, json};

use super::{Failure, Kind, Tag, annotated, field};
use crate::spec::Field;

/// The annotated pattern node.
pub(crate) fn compile(name: &str, field: &Field, pattern: &str, tag: &Tag) -> Value {
    let mut keywords = Map::new();
    keywords.insert("pattern".into(), json!(pattern));
    let annotation = field::about(
        name,
        field,
        Kind::Pattern {
            pattern: pattern.to_owned(),
        },
        tag,
    );
    annotated(keywords, &annotation)
}

/// `16x9 does not match the pattern ^[0-9]+:[0-9]+$`.
pub(crate) fn message(failure: &Failure<'_>, pattern: &str) -> String {
    let message = failure
        .or_generated(|| format!("{} does not match the pattern {pattern}", failure.value()));
    field::with_hint(failure, message)
}
