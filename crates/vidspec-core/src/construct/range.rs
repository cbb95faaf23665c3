//! `min:`/`max:` (with `also:`, extra values outside the range) on a number
//! field or in `constrain`.
//!
//! Owns the node, its message and its words.

use serde_json::{Map, Number, Value, json};

use super::{Failure, Kind, Tag, annotated, bound_keywords, field};
use crate::spec::Field;
use crate::words::{join_or, show};

/// The annotated range node, if there is a bound.
pub(crate) fn compile(
    name: &str,
    field: &Field,
    min: Option<&Number>,
    max: Option<&Number>,
    tag: &Tag,
) -> Option<Value> {
    let range = bound_keywords(("minimum", min), ("maximum", max))?;
    let keywords = if field.also.is_empty() {
        range
    } else {
        let mut either = Map::new();
        either.insert(
            "anyOf".into(),
            json!([Value::Object(range), {"enum": field.also}]),
        );
        either
    };
    let annotation = field::about(
        name,
        field,
        Kind::Range {
            min: min.cloned(),
            max: max.cloned(),
            also: field.also.clone(),
        },
        tag,
    );
    Some(annotated(keywords, &annotation))
}

/// `20 is out of range for pixverse-v6; use 1 to 15`.
pub(crate) fn message(
    failure: &Failure<'_>,
    min: Option<&Number>,
    max: Option<&Number>,
    also: &[Number],
) -> String {
    let (value, model, scope) = (failure.value(), failure.model, failure.scope());
    let message = failure.or_generated(|| {
        if !also.is_empty() {
            let mut options: Vec<String> = words(min, max).into_iter().collect();
            options.extend(
                also.iter()
                    .map(|number| show(&Value::Number(number.clone()))),
            );
            return format!(
                "{value} is not allowed for {model}{scope}; use {}",
                join_or(&options)
            );
        }
        let min = min.map(|min| show(&Value::Number(min.clone())));
        let max = max.map(|max| show(&Value::Number(max.clone())));
        match (min, max) {
            (Some(min), Some(max)) => {
                format!("{value} is out of range for {model}{scope}; use {min} to {max}")
            }
            (Some(min), None) => {
                format!("{value} is too small for {model}{scope}; use {min} or more")
            }
            (None, Some(max)) => {
                format!("{value} is too large for {model}{scope}; use {max} or less")
            }
            (None, None) => format!("{value} is out of range for {model}{scope}"),
        }
    });
    field::with_hint(failure, message)
}

/// `1 to 15`, `4 or more`, `30 or less`.
pub fn words(min: Option<&Number>, max: Option<&Number>) -> Option<String> {
    let min = min.map(|min| show(&Value::Number(min.clone())));
    let max = max.map(|max| show(&Value::Number(max.clone())));
    match (min, max) {
        (Some(min), Some(max)) => Some(format!("{min} to {max}")),
        (Some(min), None) => Some(format!("{min} or more")),
        (None, Some(max)) => Some(format!("{max} or less")),
        (None, None) => None,
    }
}
