//! The `require` action: each named field must have an effective value. A
//! field with a default always has one (lint warns that naming it does
//! nothing). One node per field, so each missing field is its own error.
//!
//! Owns the compile step, the message and the words.

use serde_json::Value;

use super::{Annotation, Context, Failure, Kind, Said, Tag, wrap};
use crate::words::{Style, names_and};

/// One node per field of `names` that has no default.
pub(crate) fn compile(context: &Context<'_>, names: &[String], tag: &Tag) -> Vec<Value> {
    names
        .iter()
        .map(|name| {
            let annotation = Annotation {
                field: Some(name.clone()),
                ..Annotation::of(Kind::Require { name: name.clone() })
            }
            .tagged(tag);
            wrap(super::present::one(context, name), &annotation)
        })
        .collect()
}

/// `give task_id when index is given`, or the author's message with what is missing.
pub(crate) fn message(failure: &Failure<'_>, name: &str) -> Said {
    let message = match (&failure.annotation.message, &failure.annotation.scope) {
        (Some(message), _) => format!("{message} ({name} is missing)"),
        (None, Some(scope)) => format!("give {name} {scope}"),
        (None, None) => format!("give {name}"),
    };
    Said {
        message,
        key: Some(name.to_owned()),
    }
}

/// `require a and b`.
pub fn words(names: &[String], style: Style) -> String {
    format!("require {}", names_and(names, style))
}
