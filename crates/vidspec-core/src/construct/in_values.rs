//! The `in` condition: each named field's effective value is one of the
//! listed values (in any accepted spelling).
//!
//! Owns its compile step and its words. An absent field with a default is
//! judged by its default.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Context, all};
use crate::words::{Style, join_or};

/// The schema that holds when every field of `map` has one of its values.
pub(crate) fn compile(context: &Context<'_>, map: &BTreeMap<String, Vec<Value>>) -> Value {
    all::of(
        map.iter()
            .map(|(name, values)| {
                let matcher = context.value_matcher(name, values);
                context.value_test(name, &matcher, None)
            })
            .collect(),
    )
}

/// `a is x or y`.
pub fn words(map: &BTreeMap<String, Vec<Value>>, style: Style) -> String {
    map.iter()
        .map(|(name, values)| {
            let values: Vec<String> = values.iter().map(|value| style.value(value)).collect();
            format!("{} is {}", style.name(name), join_or(&values))
        })
        .collect::<Vec<_>>()
        .join(" and ")
}
