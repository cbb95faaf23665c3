//! The `absent` condition: none of the named fields has an effective value.
//!
//! Owns its compile step and its words. A field with a default is never
//! absent, so `absent` on it never holds (lint warns).

use serde_json::Value;

use super::{Context, all};
use crate::words::{Style, names_or};

/// The schema that holds when no field of `names` has an effective value.
pub(crate) fn compile(context: &Context<'_>, names: &[String]) -> Value {
    all::of(names.iter().map(|name| one(context, name)).collect())
}

/// The schema that holds when field `name` has no effective value.
pub(crate) fn one(context: &Context<'_>, name: &str) -> Value {
    if context.default(name).is_some() {
        return context.overruled(name);
    }
    context.absent_schema(name)
}

/// `a is not given`, `none of a or b is given`.
pub fn words(names: &[String], style: Style) -> String {
    match names {
        [one] => format!("{} is not given", style.name(one)),
        many => format!("none of {} is given", names_or(many, style)),
    }
}
