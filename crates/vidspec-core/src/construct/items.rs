//! `min_items:`/`max_items:` on an array field or in `constrain`.
//!
//! Owns the node, its message and its words.

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use super::{Failure, Kind, Tag, annotated, bound_keywords, field};
use crate::spec::Field;

/// The annotated item-count node, if there is a bound.
pub(crate) fn compile(
    name: &str,
    field: &Field,
    min: Option<u64>,
    max: Option<u64>,
    tag: &Tag,
) -> Option<Value> {
    let keywords = bound_keywords(("minItems", min), ("maxItems", max))?;
    let annotation = field::about(name, field, Kind::Items { min, max }, tag);
    Some(annotated(keywords, &annotation))
}

/// `img_references holds 8 item(s); at most 7 allowed for pixverse-v6`.
pub(crate) fn message(failure: &Failure<'_>, min: Option<u64>, max: Option<u64>) -> String {
    let field = failure.field();
    let count = failure.instance.as_array().map(Vec::len).unwrap_or(0);
    let message = failure.or_generated(|| match failure.error {
        ValidationErrorKind::MinItems { .. } => format!(
            "{field} holds {count} item(s); at least {} needed{}",
            min.unwrap_or_default(),
            failure.scope()
        ),
        _ => format!(
            "{field} holds {count} item(s); at most {} allowed for {}{}",
            max.unwrap_or_default(),
            failure.model,
            failure.scope()
        ),
    });
    field::with_hint(failure, message)
}

/// `1–7 items`, `at least 1 item`.
pub fn words(min: Option<u64>, max: Option<u64>) -> Option<String> {
    match (min, max) {
        (Some(min), Some(max)) if min == max => {
            Some(format!("exactly {}", crate::words::item_counts(&[min])))
        }
        (Some(min), Some(max)) => Some(format!("{min}–{max} items")),
        (Some(min), None) => Some(format!("at least {}", crate::words::item_counts(&[min]))),
        (None, Some(max)) => Some(format!("at most {}", crate::words::item_counts(&[max]))),
        (None, None) => None,
    }
}
