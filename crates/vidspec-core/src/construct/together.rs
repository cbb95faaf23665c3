//! The `together` action: all of the named fields or none of them.
//!
//! Owns the compile step, the message (which names what is missing) and the
//! words.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Annotation, Context, Failure, Kind, Said, Tag, absent, all, any, present, wrap};
use crate::words::{Style, join_and, names_and};

/// The node that holds when all or none of `names` have an effective value.
pub(crate) fn compile(context: &Context<'_>, names: &[String], tag: &Tag) -> Value {
    let every = all::of(
        names
            .iter()
            .map(|name| present::one(context, name))
            .collect(),
    );
    let none = all::of(
        names
            .iter()
            .map(|name| absent::one(context, name))
            .collect(),
    );
    let spellings = names
        .iter()
        .map(|name| (name.clone(), context.spellings(name)))
        .filter(|(_, spellings)| spellings.len() > 1)
        .collect();
    let annotation = Annotation::of(Kind::Together {
        fields: names.to_vec(),
        spellings,
    })
    .tagged(tag);
    wrap(any::of(vec![every, none]), &annotation)
}

/// `give a and b together (b is missing)`.
pub(crate) fn message(
    failure: &Failure<'_>,
    names: &[String],
    spellings: &BTreeMap<String, Vec<String>>,
) -> Said {
    let given = |name: &String| match spellings.get(name) {
        Some(spellings) => spellings
            .iter()
            .any(|spelling| crate::field_path::get_in(failure.instance, spelling).is_some()),
        None => crate::field_path::get_in(failure.instance, name).is_some(),
    };
    let missing: Vec<&String> = names.iter().filter(|name| !given(name)).collect();
    let message =
        failure.or_generated(|| format!("give {} together{}", join_and(names), failure.scope()));
    let verb = if missing.len() == 1 { "is" } else { "are" };
    Said {
        message: format!("{message} ({} {verb} missing)", join_and(&missing)),
        key: missing.first().map(|name| (*name).clone()),
    }
}

/// `all or none of a and b`.
pub fn words(names: &[String], style: Style) -> String {
    format!("all or none of {}", names_and(names, style))
}
