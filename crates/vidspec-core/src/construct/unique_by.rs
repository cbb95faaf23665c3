//! `unique_by:` on an array of objects: each value of the named key's enum
//! may appear in at most one item (roles such as `first` and `last`).
//!
//! Owns the nodes, their message and their words.

use serde_json::{Value, json};

use super::{Failure, Kind, Tag, field};
use crate::spec::Field;
use crate::words::show;

/// One annotated node per value of the role key.
pub(crate) fn compile(name: &str, field: &Field, tag: &Tag) -> Vec<Value> {
    let Some(role) = &field.unique_by else {
        return Vec::new();
    };
    let Some(role_values) = field
        .items
        .as_ref()
        .and_then(|items| items.value.fields.get(role))
        .and_then(|role_field| role_field.value.values.clone())
    else {
        return Vec::new();
    };
    role_values
        .iter()
        .map(|value| {
            let annotation = field::about(
                name,
                field,
                Kind::UniqueBy {
                    role: role.clone(),
                    value: value.clone(),
                },
                tag,
            );
            json!({
                "contains": {"required": [role], "properties": {role: {"const": value}}},
                "minContains": 0,
                "maxContains": 1,
                "x-vidspec": annotation.to_json(),
            })
        })
        .collect()
}

/// `role first may appear only once in references`.
pub(crate) fn message(failure: &Failure<'_>, role: &str, value: &Value) -> String {
    failure.or_generated(|| {
        format!(
            "{role} {} may appear only once in {}",
            show(value),
            failure.field()
        )
    })
}
