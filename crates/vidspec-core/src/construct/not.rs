//! The `not` condition: the inner condition does not hold.
//!
//! Owns its compile step (with `true`/`false` folded away) and its words.

use serde_json::{Value, json};

use super::Context;
use crate::spec::Condition;
use crate::words::{Style, condition_words};

/// The schema that holds when `inner` does not.
pub(crate) fn compile(context: &Context<'_>, inner: &Condition) -> Value {
    of(super::condition(context, inner))
}

/// The negation, with `true`/`false` folded away.
pub(crate) fn of(schema: Value) -> Value {
    match schema {
        Value::Bool(value) => Value::Bool(!value),
        other => json!({ "not": other }),
    }
}

/// `not (a is given)`.
pub fn words(inner: &Condition, style: Style) -> String {
    format!("not ({})", condition_words(inner, style))
}
