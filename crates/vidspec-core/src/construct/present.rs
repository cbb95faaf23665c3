//! The `present` condition: each named field has an effective value — it is
//! given (under any spelling), or it has a default.
//!
//! Owns its compile step and its words. A field with a default is always
//! present, so `present` on it always holds (lint warns).

use serde_json::Value;

use super::{Context, all};
use crate::words::{Style, names_and};

/// The schema that holds when every field of `names` has an effective value.
pub(crate) fn compile(context: &Context<'_>, names: &[String]) -> Value {
    all::of(names.iter().map(|name| one(context, name)).collect())
}

/// The schema that holds when field `name` has an effective value.
pub(crate) fn one(context: &Context<'_>, name: &str) -> Value {
    if context.default(name).is_some() {
        return super::not::of(context.overruled(name));
    }
    context.given_schema(name)
}

/// `a is given`, `a and b are given`.
pub fn words(names: &[String], style: Style) -> String {
    let verb = if names.len() == 1 { "is" } else { "are" };
    format!("{} {verb} given", names_and(names, style))
}
