//! `min_length:`/`max_length:` on a string field or in `constrain`, counted in
//! characters.
//!
//! Owns the node, its message and its words.

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use super::{Failure, Kind, Tag, annotated, bound_keywords, field};
use crate::spec::Field;

/// The annotated length node, if there is a bound.
pub(crate) fn compile(
    name: &str,
    field: &Field,
    min: Option<u64>,
    max: Option<u64>,
    tag: &Tag,
) -> Option<Value> {
    let keywords = bound_keywords(("minLength", min), ("maxLength", max))?;
    let annotation = field::about(name, field, Kind::Length { min, max }, tag);
    Some(annotated(keywords, &annotation))
}

/// `prompt must not be empty`, `prompt is 5,001 characters long; at most 5000 …`.
pub(crate) fn message(failure: &Failure<'_>, min: Option<u64>, max: Option<u64>) -> String {
    let field = failure.field();
    let length = failure
        .instance
        .as_str()
        .map(|text| text.chars().count())
        .unwrap_or(0);
    let message = failure.or_generated(|| match failure.error {
        ValidationErrorKind::MinLength { .. } => match min {
            Some(limit) if limit > 1 => {
                format!("{field} is {length} characters long; it needs at least {limit}")
            }
            _ => format!("{field} must not be empty"),
        },
        _ => format!(
            "{field} is {length} characters long; at most {} are allowed for {}{}",
            max.unwrap_or_default(),
            failure.model,
            failure.scope()
        ),
    });
    field::with_hint(failure, message)
}

/// `1–5000 characters`, `at most 2048 characters`.
pub fn words(min: Option<u64>, max: Option<u64>) -> Option<String> {
    match (min, max) {
        (Some(min), Some(max)) => Some(format!("{min}–{max} characters")),
        (Some(1), None) => Some("not empty".to_owned()),
        (Some(min), None) => Some(format!("at least {min} characters")),
        (None, Some(max)) => Some(format!("at most {max} characters")),
        (None, None) => None,
    }
}
