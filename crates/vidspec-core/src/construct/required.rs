//! `required: true` on a field: the request must carry it (under any
//! spelling). One annotated node per required field, top-level or inside an
//! object.
//!
//! Owns the nodes, their message and their words.

use serde_json::{Value, json};

use super::{Annotation, Context, Failure, Kind, Said, Tag, wrap};
use crate::spec::Field;

/// The node that holds when top-level field `name` is given.
pub(crate) fn compile(context: &Context<'_>, name: &str, field: &Field) -> Value {
    let annotation = super::field::about(
        name,
        field,
        Kind::Required {
            key: name.to_owned(),
        },
        &Tag::default(),
    );
    wrap(context.carried(name), &annotation)
}

/// The node that holds when the object holds `key` (field `path` inside it).
pub(crate) fn compile_key(path: &str, key: &str, field: &Field) -> Value {
    let annotation: Annotation = super::field::about(
        path,
        field,
        Kind::Required {
            key: key.to_owned(),
        },
        &Tag::default(),
    );
    json!({ "required": [key], "x-vidspec": annotation.to_json() })
}

/// `prompt is required for pixverse-v6: add it`.
pub(crate) fn message(failure: &Failure<'_>, key: &str) -> Said {
    Said {
        message: super::field::with_hint(
            failure,
            format!(
                "{} is required for {}: add it",
                failure.field(),
                failure.model
            ),
        ),
        key: Some(key.to_owned()),
    }
}
