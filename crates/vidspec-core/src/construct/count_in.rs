//! `count_in:` on an array field or in `constrain`: the allowed item counts as
//! a set (`[0, 1, 3]`).
//!
//! Owns the node, its message and its words.

use serde_json::{Map, Value, json};

use super::{Failure, Kind, Tag, annotated, field};
use crate::spec::Field;
use crate::words::{item_counts, join_or};

/// The annotated count node.
pub(crate) fn compile(name: &str, field: &Field, counts: &[u64], tag: &Tag) -> Value {
    let exact: Vec<Value> = counts
        .iter()
        .map(|&count| json!({"minItems": count, "maxItems": count}))
        .collect();
    let mut keywords = Map::new();
    keywords.insert("anyOf".into(), Value::Array(exact));
    let annotation = field::about(
        name,
        field,
        Kind::CountIn {
            counts: counts.to_vec(),
        },
        tag,
    );
    annotated(keywords, &annotation)
}

/// `image_urls must hold 0, 1 or 3 item(s), not 2`.
pub(crate) fn message(failure: &Failure<'_>, counts: &[u64]) -> String {
    let count = failure.instance.as_array().map(Vec::len).unwrap_or(0);
    let message = failure.or_generated(|| {
        format!(
            "{} must hold {} item(s){}, not {count}",
            failure.field(),
            join_or(&counts.iter().map(u64::to_string).collect::<Vec<_>>()),
            failure.scope()
        )
    });
    field::with_hint(failure, message)
}

/// `0, 1 or 3 items`.
pub fn words(counts: &[u64]) -> String {
    item_counts(counts)
}
