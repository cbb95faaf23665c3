//! The `equals` condition: each named field's effective value equals the
//! given value (in any accepted spelling: case, value aliases).
//!
//! Owns its compile step and its words. An absent field with a default is
//! judged by its default.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Context, all};
use crate::words::Style;

/// The schema that holds when every field of `map` has its value.
pub(crate) fn compile(context: &Context<'_>, map: &BTreeMap<String, Value>) -> Value {
    all::of(
        map.iter()
            .map(|(name, value)| {
                let matcher = context.value_matcher(name, std::slice::from_ref(value));
                context.value_test(name, &matcher, None)
            })
            .collect(),
    )
}

/// `a is x and b is y`.
pub fn words(map: &BTreeMap<String, Value>, style: Style) -> String {
    map.iter()
        .map(|(name, value)| format!("{} is {}", style.name(name), style.value(value)))
        .collect::<Vec<_>>()
        .join(" and ")
}
