//! Shaping: the exact body to send and the effective values the gateway will use.
//!
//! Owns alias renaming, value normalisation (case, value aliases), keeping only
//! the first item where only the first is used, dropping fields the mode ignores
//! or that lost dispatch, derived values and default filling — each change with a
//! warning. It must not judge validity: it runs only on requests the schema
//! accepted.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::compile::condition::show;
use crate::compile::{CompiledDerive, CompiledMode};
use crate::diagnostics::Warning;
use crate::spec::{Field, FieldType};

/// What shaping needs of the model.
pub(crate) struct ShapeInput<'a> {
    pub model: &'a str,
    pub model_field: bool,
    pub fields: &'a BTreeMap<String, Field>,
    pub aliases: &'a BTreeMap<String, String>,
    pub mode: &'a CompiledMode,
    pub losing: &'a [String],
    pub derives: &'a [CompiledDerive],
}

/// Body, effective values and warnings.
pub(crate) struct Shaped {
    pub body: Map<String, Value>,
    pub effective: Map<String, Value>,
    pub warnings: Vec<Warning>,
}

/// Shapes an accepted request; `derive_holds(i)` says whether derive `i` applies.
pub(crate) fn shape(
    input: &ShapeInput<'_>,
    request: &Map<String, Value>,
    derive_holds: impl Fn(usize) -> bool,
) -> Shaped {
    let mut body = Map::new();
    let mut warnings = Vec::new();
    let aliases = input.aliases;
    for (key, value) in request {
        if key == "model" {
            if input.model_field {
                body.insert(key.clone(), value.clone());
            } else {
                warnings.push(Warning {
                    path: "/model".into(),
                    message: format!("model only selects {}; it is not sent (this endpoint takes no model field)", input.model),
                });
            }
            continue;
        }
        let name = match aliases.get(key) {
            Some(canonical) => {
                warnings.push(Warning {
                    path: format!("/{key}"),
                    message: format!("{key} is an alias of {canonical}; sent as {canonical}"),
                });
                (*canonical).to_owned()
            }
            None => key.clone(),
        };
        if input.losing.contains(key) {
            continue;
        }
        if input.mode.ignores.contains(&name) {
            warnings.push(Warning {
                path: format!("/{key}"),
                message: format!(
                    "{key} has no effect in {} mode; it is not sent",
                    input.mode.name
                ),
            });
            continue;
        }
        let Some(field) = input.fields.get(&name) else {
            body.insert(name, value.clone());
            continue;
        };
        let mut value = value.clone();
        if let Some(canonical) = canonical_value(field, &value)
            && canonical != value
        {
            warnings.push(Warning {
                path: format!("/{key}"),
                message: format!("{} is sent as {}", show(&value), show(&canonical)),
            });
            value = canonical;
        }
        if field.only_first
            && let Value::Array(items) = &mut value
            && items.len() > 1
        {
            warnings.push(Warning {
                path: format!("/{key}"),
                message: format!(
                    "only the first of {} items in {key} is used; the other {} are not sent",
                    items.len(),
                    items.len() - 1
                ),
            });
            items.truncate(1);
        }
        if field.open
            && let Some(common) = &field.one_of
            && !common.contains(&value)
        {
            warnings.push(Warning {
                path: format!("/{key}"),
                message: format!(
                    "{} is not one of the usual values of {name} ({}); the gateway may reject it",
                    show(&value),
                    common.iter().map(show).collect::<Vec<_>>().join(", ")
                ),
            });
        }
        body.insert(name, value);
    }

    let mut effective = body.clone();
    if !input.model_field {
        effective.insert("model".into(), Value::String(input.model.to_owned()));
    }
    for (name, field) in input.fields {
        if effective.contains_key(name)
            || input.mode.ignores.contains(name)
            || input.losing.contains(name)
        {
            continue;
        }
        if let Some(default) = &field.default {
            effective.insert(name.clone(), default.value.clone());
        }
    }
    for (index, derive) in input.derives.iter().enumerate() {
        if !derive_holds(index) {
            continue;
        }
        let current = effective.get(&derive.field).cloned().unwrap_or(Value::Null);
        if let Some(new) = derive.map.get(&show(&current))
            && *new != current
        {
            warnings.push(Warning {
                path: format!("/{}", derive.field),
                message: format!(
                    "{} becomes {} {} ({})",
                    derive.field,
                    show(new),
                    derive.scope,
                    derive.rule
                ),
            });
            effective.insert(derive.field.clone(), new.clone());
            body.insert(derive.field.clone(), new.clone());
        }
    }
    Shaped {
        body,
        effective,
        warnings,
    }
}

/// The canonical spelling of an enum value (case, value aliases), if it differs.
fn canonical_value(field: &Field, value: &Value) -> Option<Value> {
    if let Some(Value::String(text)) = Some(value)
        && let Some(target) = field.value_aliases.get(text)
    {
        return Some(target.clone());
    }
    if field.case_insensitive
        && matches!(field.kind, FieldType::String)
        && let (Some(values), Value::String(text)) = (&field.one_of, value)
    {
        return values
            .iter()
            .find(|candidate| {
                candidate
                    .as_str()
                    .is_some_and(|known| known.eq_ignore_ascii_case(text))
            })
            .cloned();
    }
    None
}
