//! The `count` condition: each named array field holds one of the given
//! numbers of items. An absent field counts as its default's items, or as
//! zero items when it has no default.
//!
//! Owns its compile step and its words.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Context, all, any};
use crate::spec::OneOrMany;
use crate::words::{Style, item_counts};

/// The schema that holds when every field of `map` holds one of its counts.
pub(crate) fn compile(context: &Context<'_>, map: &BTreeMap<String, OneOrMany<u64>>) -> Value {
    all::of(
        map.iter()
            .map(|(name, counts)| {
                let test = any::of(
                    counts
                        .as_slice()
                        .iter()
                        .map(|&count| json!({ "minItems": count, "maxItems": count }))
                        .collect(),
                );
                context.value_test(name, &test, Some(&json!([])))
            })
            .collect(),
    )
}

/// `a holds 1 item`, `a holds 0 or 3 items`.
pub fn words(map: &BTreeMap<String, OneOrMany<u64>>, style: Style) -> String {
    map.iter()
        .map(|(name, counts)| {
            format!(
                "{} holds {}",
                style.name(name),
                item_counts(counts.as_slice())
            )
        })
        .collect::<Vec<_>>()
        .join(" and ")
}
