//! The `exactly_one_of` action: exactly one of the named fields has an
//! effective value.
//!
//! Owns the compile step, the message and the words.

use jsonschema::error::ValidationErrorKind;
use serde_json::{Value, json};

use super::{Annotation, Context, Failure, Kind, Tag, present};
use crate::words::{Style, join_or, names_or};

/// The node that holds when exactly one of `names` has an effective value.
pub(crate) fn compile(context: &Context<'_>, names: &[String], tag: &Tag) -> Value {
    let annotation = Annotation::of(Kind::ExactlyOneOf {
        fields: names.to_vec(),
    })
    .tagged(tag);
    let options: Vec<Value> = names
        .iter()
        .map(|name| present::one(context, name))
        .collect();
    json!({ "oneOf": options, "x-vidspec": annotation.to_json() })
}

/// `give exactly one of a or b (none given)`.
pub(crate) fn message(failure: &Failure<'_>, names: &[String]) -> String {
    let message = failure
        .or_generated(|| format!("give exactly one of {}{}", join_or(names), failure.scope()));
    match failure.error {
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            format!("{message} (more than one given)")
        }
        _ => format!("{message} (none given)"),
    }
}

/// `exactly one of a or b`.
pub fn words(names: &[String], style: Style) -> String {
    format!("exactly one of {}", names_or(names, style))
}
