//! The `constrain` action: while the rule applies, named fields meet other
//! bounds (`enum`, `min`/`max`, lengths, item counts). The bounds compile
//! through the same modules as a field's own. When a field's default breaks
//! the bounds, the field must be given while the rule applies (an absent
//! field would take the default).
//!
//! Owns the compile step, the message for a missing field whose default does
//! not fit, and the words.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Annotation, Context, Failure, Kind, Said, Tag, all, holds, wrap};
use crate::spec::Bounds;
use crate::words::{Style, bounds_words, show};

/// The schema of the bounds on each field of `map`.
pub(crate) fn compile(context: &Context<'_>, map: &BTreeMap<String, Bounds>, tag: &Tag) -> Value {
    let mut parts = Vec::new();
    for (name, bounds) in map {
        let Some(field) = context.field(name) else {
            continue;
        };
        let nodes = super::field::bounds(name, field, bounds, tag);
        if nodes.is_empty() {
            continue;
        }
        let test = json!({ "allOf": nodes });
        parts.push(context.on_value(name, &test));
        if let Some(default) = context.default(name)
            && !holds(&test, default)
        {
            let annotation = Annotation {
                field: Some(name.clone()),
                ..Annotation::of(Kind::Constrain {
                    name: name.clone(),
                    default: default.clone(),
                    bounds: bounds_words(bounds, Style::Plain).join(", "),
                })
            }
            .tagged(tag);
            parts.push(wrap(context.given_schema(name), &annotation));
        }
    }
    all::of(parts)
}

/// `give mode when audio is given: its default std is not allowed then (only pro)`.
pub(crate) fn message(failure: &Failure<'_>, name: &str, default: &Value, bounds: &str) -> Said {
    let scope = failure.scope();
    let message = match &failure.annotation.message {
        Some(message) => format!(
            "{message} ({name} is missing, and its default {} does not fit)",
            show(default)
        ),
        None => format!(
            "give {name}{scope}: its default {} is not allowed then; use {bounds}",
            show(default)
        ),
    };
    Said {
        message,
        key: Some(name.to_owned()),
    }
}

/// `duration: one of 5 or 8`.
pub fn words(map: &BTreeMap<String, Bounds>, style: Style) -> String {
    map.iter()
        .map(|(name, bounds)| {
            format!(
                "{}: {}",
                style.name(name),
                bounds_words(bounds, style).join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
