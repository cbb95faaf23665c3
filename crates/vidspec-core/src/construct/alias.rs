//! `alias:` on a field: another name the gateway accepts. The body always
//! carries the canonical name (shape renames it); giving both is an error.
//!
//! Owns the "not both" node, its message and its words.

use serde_json::{Value, json};

use super::{Annotation, Failure, Kind, Said};
use crate::spec::Field;

/// The node that fails when both `name` and its alias are given, keys of the
/// same object; `object` is the path of that object (`metadata`), or empty
/// at the top of the request.
pub(crate) fn compile(object: &str, name: &str, alias: &str, field: &Field) -> Value {
    let path = if object.is_empty() {
        alias.to_owned()
    } else {
        format!("{object}.{alias}")
    };
    let annotation = Annotation {
        field: Some(path),
        rule: field.alias_rule.clone().or_else(|| field.rule.clone()),
        ..Annotation::of(Kind::Alias {
            canonical: name.to_owned(),
            alias: alias.to_owned(),
        })
    };
    // Inside an object, only an object can hold both keys (`required` holds
    // for a string, so `not` would fail beside the object's type error).
    let both = if object.is_empty() {
        json!({ "required": [name, alias] })
    } else {
        json!({ "type": "object", "required": [name, alias] })
    };
    json!({
        "not": both,
        "x-vidspec": annotation.to_json(),
    })
}

/// `size is another name for aspect_ratio: give one of them, not both`.
pub(crate) fn message(failure: &Failure<'_>, canonical: &str, alias: &str) -> Said {
    Said {
        message: failure.or_generated(|| {
            // Inside an object, both named by path (`metadata.quality`).
            let object = failure
                .annotation
                .field
                .as_deref()
                .and_then(|path| path.strip_suffix(alias))
                .unwrap_or_default();
            format!(
                "{object}{alias} is another name for {object}{canonical}: give one of them, not both"
            )
        }),
        key: Some(alias.to_owned()),
    }
}
