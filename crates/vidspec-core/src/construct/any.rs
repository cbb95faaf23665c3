//! The `any` condition: at least one part holds.
//!
//! Owns its compile step (with `true`/`false` folded away) and its words.

use serde_json::{Value, json};

use super::Context;
use crate::spec::Condition;
use crate::words::{Style, grouped};

/// The schema that holds when some part holds.
pub(crate) fn compile(context: &Context<'_>, parts: &[Condition]) -> Value {
    of(parts
        .iter()
        .map(|part| super::condition(context, part))
        .collect())
}

/// Any of the schemas, with `true`/`false` folded away.
pub(crate) fn of(schemas: Vec<Value>) -> Value {
    let mut kept = Vec::new();
    for schema in schemas {
        match schema {
            Value::Bool(false) => {}
            Value::Bool(true) => return Value::Bool(true),
            other => kept.push(other),
        }
    }
    match kept.len() {
        0 => Value::Bool(false),
        1 => kept.remove(0),
        _ => json!({ "anyOf": kept }),
    }
}

/// `a is given or (b is y and c is given)`.
pub fn words(parts: &[Condition], style: Style) -> String {
    parts
        .iter()
        .map(|part| grouped(part, false, style))
        .collect::<Vec<_>>()
        .join(" or ")
}
