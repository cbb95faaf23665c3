//! The `all` condition: every part holds.
//!
//! Owns its compile step (with `true`/`false` folded away) and its words.

use serde_json::{Value, json};

use super::Context;
use crate::spec::Condition;
use crate::words::{Style, grouped};

/// The schema that holds when every part holds.
pub(crate) fn compile(context: &Context<'_>, parts: &[Condition]) -> Value {
    of(parts
        .iter()
        .map(|part| super::condition(context, part))
        .collect())
}

/// All of the schemas, with `true`/`false` folded away.
pub(crate) fn of(schemas: Vec<Value>) -> Value {
    let mut kept = Vec::new();
    for schema in schemas {
        match schema {
            Value::Bool(true) => {}
            Value::Bool(false) => return Value::Bool(false),
            other => kept.push(other),
        }
    }
    match kept.len() {
        0 => Value::Bool(true),
        1 => kept.remove(0),
        _ => json!({ "allOf": kept }),
    }
}

/// `a is given and (b is y or c is given)`.
pub fn words(parts: &[Condition], style: Style) -> String {
    parts
        .iter()
        .map(|part| grouped(part, true, style))
        .collect::<Vec<_>>()
        .join(" and ")
}
