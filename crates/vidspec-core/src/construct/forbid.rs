//! The `forbid` action: none of the named fields may have an effective value.
//! A field with a default always has one, so forbidding it can never hold
//! (lint warns; every request the rule applies to is refused, and says why).
//!
//! Owns the compile step, the message and the words.

use serde_json::Value;

use super::{Annotation, Context, Failure, Kind, Said, Tag, never, wrap};
use crate::words::{Style, names_and, show};

/// One node per field of `names`.
pub(crate) fn compile(context: &Context<'_>, names: &[String], tag: &Tag) -> Vec<Value> {
    names
        .iter()
        .map(|name| {
            let absent = super::absent::one(context, name);
            // A default makes the rule impossible unless a field that takes
            // priority over this one can take the default away.
            let default = context
                .default(name)
                .filter(|_| absent == Value::Bool(false))
                .cloned();
            let annotation = Annotation {
                field: Some(name.clone()),
                ..Annotation::of(Kind::Forbid {
                    name: name.clone(),
                    default: default.clone(),
                })
            }
            .tagged(tag);
            match absent {
                Value::Bool(false) if default.is_some() => never(&annotation),
                absent => wrap(absent, &annotation),
            }
        })
        .collect()
}

/// `remove audio: it is not allowed when resolution is 1080p`.
pub(crate) fn message(failure: &Failure<'_>, name: &str, default: Option<&Value>) -> Said {
    let scope = failure.scope();
    let message = match default {
        Some(default) => format!(
            "{name} always has a value (its default is {}), so rule {}{scope} can never hold; the spec must be fixed",
            show(default),
            failure.annotation.rule.as_deref().unwrap_or("?"),
        ),
        None => failure.or_generated(|| format!("remove {name}: it is not allowed{scope}")),
    };
    Said {
        message,
        key: Some(name.to_owned()),
    }
}

/// `forbid a and b`.
pub fn words(names: &[String], style: Style) -> String {
    format!("forbid {}", names_and(names, style))
}
