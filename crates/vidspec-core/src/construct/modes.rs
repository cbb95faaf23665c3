//! The modes of a model: a request must select one (the first whose `when`
//! holds wins; dispatch applies the priority).
//!
//! Owns the "selects no mode" node, its message and its words.

use serde_json::{Value, json};

use super::{Annotation, Failure, Kind};
use crate::words::join_or;

/// The node that fails when no mode's condition holds; `None` when some mode
/// always holds.
pub(crate) fn compile(whens: &[Value], names: &[String], rule: Option<String>) -> Option<Value> {
    let any_mode = super::any::of(whens.to_vec());
    if any_mode == Value::Bool(true) || names.is_empty() {
        return None;
    }
    let annotation = Annotation {
        rule,
        ..Annotation::of(Kind::Modes {
            names: names.to_vec(),
        })
    };
    Some(json!({ "anyOf": [any_mode], "x-vidspec": annotation.to_json() }))
}

/// `this request selects no mode of X; its modes are a or b: add the inputs …`.
pub(crate) fn message(failure: &Failure<'_>, names: &[String]) -> String {
    failure.or_generated(|| {
        format!(
            "this request selects no mode of {}; its modes are {}: add the inputs one of them needs",
            failure.model,
            join_or(names)
        )
    })
}
