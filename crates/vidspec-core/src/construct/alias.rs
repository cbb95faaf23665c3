//! `alias:` on a field: another name the gateway accepts. The body always
//! carries the canonical name (shape renames it); giving both is an error.
//!
//! Owns the "not both" node, its message and its words.

use serde_json::{Value, json};

use super::{Annotation, Failure, Kind, Said};
use crate::spec::Field;

/// The node that fails when both `name` and its alias are given.
pub(crate) fn compile(name: &str, alias: &str, field: &Field) -> Value {
    let annotation = Annotation {
        field: Some(alias.to_owned()),
        rule: field.alias_rule.clone().or_else(|| field.rule.clone()),
        ..Annotation::of(Kind::Alias {
            canonical: name.to_owned(),
            alias: alias.to_owned(),
        })
    };
    json!({
        "not": { "required": [name, alias] },
        "x-vidspec": annotation.to_json(),
    })
}

/// `size is another name for aspect_ratio: give one of them, not both`.
pub(crate) fn message(failure: &Failure<'_>, canonical: &str, alias: &str) -> Said {
    Said {
        message: failure.or_generated(|| {
            format!("{alias} is another name for {canonical}: give one of them, not both")
        }),
        key: Some(alias.to_owned()),
    }
}

/// `also accepted as size`.
pub fn words(alias: &str) -> String {
    format!("also accepted as {alias}")
}
