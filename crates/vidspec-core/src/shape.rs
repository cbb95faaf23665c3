//! Shaping: the exact body to send, made from the request in place.
//!
//! Owns alias renaming (of sub-fields too, inside their object), value
//! normalisation (case, value aliases, at any depth of an object), keeping
//! only the first item where only the first is used, dropping fields (or
//! sub-fields, by path) the mode ignores or that lost dispatch or priority,
//! whole numbers written as floats (`5.0`) where an integer is declared, and
//! derived values — each change with a warning. The
//! keys that may need any of this are listed per mode when the model compiles
//! (`attention`), so a request that needs no change is walked in a few
//! comparisons and nothing is copied. It must not judge validity: it runs only
//! on requests the schema accepted. Defaults are not written into the body; the
//! plan reads them beside it.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::compile::{CompiledDerive, CompiledMode};
use crate::diagnostics::Warning;
use crate::field_path;
use crate::plan::Effective;
use crate::spec::{Field, FieldType};
use crate::words::show;

/// What shaping needs of the model and of dispatch.
pub(crate) struct ShapeInput<'a> {
    pub model: &'a str,
    pub mode: &'a CompiledMode,
    /// The request keys this mode may have to act on, sorted.
    pub attention: &'a [Attention],
    /// The effective defaults of this mode, sorted by name.
    pub defaults: &'a [(String, Value)],
    pub losing: &'a [String],
    pub derives: &'a [CompiledDerive],
}

/// A request key shaping may have to act on in one mode, and what to do.
#[derive(Debug, Clone)]
pub(crate) struct Attention {
    pub key: String,
    /// The canonical name, when `key` is an alias.
    alias_of: Option<String>,
    action: Action,
}

#[derive(Debug, Clone)]
enum Action {
    /// `model` where the endpoint takes no model field: not sent.
    ModelNotSent,
    /// Ignored in this mode: not sent.
    Ignored,
    /// Values may be rewritten or warned about.
    Normalise(Box<Field>),
    /// Sent as it is (under its canonical name, for an alias).
    Keep,
}

/// The request keys shaping may have to act on in `mode`, sorted: `model`
/// where it is not sent, every alias, fields whose values may be rewritten or
/// warned about, and the fields the mode ignores.
pub(crate) fn attention(
    model_field: bool,
    fields: &BTreeMap<String, Field>,
    aliases: &BTreeMap<String, String>,
    mode: &CompiledMode,
) -> Vec<Attention> {
    let action = |name: &str| match fields.get(name) {
        _ if mode.ignores.iter().any(|ignored| ignored == name) => Action::Ignored,
        Some(field) if rewrites_values(field) => Action::Normalise(Box::new(field.clone())),
        _ => Action::Keep,
    };
    let mut out: Vec<Attention> = aliases
        .iter()
        .map(|(alias, canonical)| Attention {
            key: alias.clone(),
            alias_of: Some(canonical.clone()),
            action: action(canonical),
        })
        .collect();
    if !model_field {
        out.push(Attention {
            key: "model".to_owned(),
            alias_of: None,
            action: Action::ModelNotSent,
        });
    }
    for (name, field) in fields {
        if rewrites_values(field) || mode.ignores.contains(name) {
            out.push(Attention {
                key: name.clone(),
                alias_of: None,
                action: action(name),
            });
        }
    }
    out.sort_by(|left, right| left.key.cmp(&right.key));
    out.dedup_by(|left, right| left.key == right.key);
    out
}

/// Whether shaping may change or warn about a value of `field`.
fn rewrites_values(field: &Field) -> bool {
    field
        .fields
        .values()
        .any(|inner| inner.value.alias.is_some() || rewrites_values(&inner.value))
        || !field.value_aliases.is_empty()
        || (field.case_insensitive && matches!(field.kind, FieldType::String))
        || field.only_first
        || (field.open && field.values.is_some())
        || holds_integers(field)
}

/// Whether a value of `field` may hold an integer-typed value anywhere (the
/// field itself, its items or its keys, at any depth): JSON Schema accepts an
/// integral float (`5.0`) there, and the body must carry the integer.
fn holds_integers(field: &Field) -> bool {
    match field.kind {
        FieldType::Integer => true,
        FieldType::Array => field
            .items
            .as_ref()
            .is_some_and(|items| holds_integers(&items.value)),
        FieldType::Object => field
            .fields
            .values()
            .any(|inner| holds_integers(&inner.value)),
        _ => false,
    }
}

/// Rewrites every integral float (`5.0`, `-0.0`, `2e1`) that `value` holds
/// where `field` declares an integer into that integer, at any depth; whether
/// anything changed. A float beyond the 64-bit integers is left as it is.
fn integers_as_integers(field: &Field, value: &mut Value) -> bool {
    match (&field.kind, value) {
        (FieldType::Integer, Value::Number(number)) if number.is_f64() => {
            match number.as_f64().and_then(integral) {
                Some(integer) => {
                    *number = integer;
                    true
                }
                None => false,
            }
        }
        (FieldType::Array, Value::Array(values)) => match &field.items {
            Some(items) => values.iter_mut().fold(false, |changed, item| {
                integers_as_integers(&items.value, item) | changed
            }),
            None => false,
        },
        (FieldType::Object, Value::Object(entries)) => {
            field.fields.iter().fold(false, |changed, (name, inner)| {
                match entries.get_mut(name) {
                    Some(item) => integers_as_integers(&inner.value, item) | changed,
                    None => changed,
                }
            })
        }
        _ => false,
    }
}

/// The integer a float stands for, when it is a whole number that a 64-bit
/// integer holds exactly.
fn integral(float: f64) -> Option<serde_json::Number> {
    // 2^64 and -2^63 are exact as f64; the casts below are exact inside them.
    const TWO_TO_THE_64: f64 = 18_446_744_073_709_551_616.0;
    const MINUS_TWO_TO_THE_63: f64 = -9_223_372_036_854_775_808.0;
    if !float.is_finite() || float.fract() != 0.0 {
        return None;
    }
    if (0.0..TWO_TO_THE_64).contains(&float) {
        Some(serde_json::Number::from(float as u64))
    } else if (MINUS_TWO_TO_THE_63..0.0).contains(&float) {
        Some(serde_json::Number::from(float as i64))
    } else {
        None
    }
}

/// Shapes an accepted request into the body, in place; `derive_holds(i)` says
/// whether derive `i` applied to the request as given. Returns the warnings, in
/// the order of the keys they are about.
pub(crate) fn shape(
    input: &ShapeInput<'_>,
    body: &mut Map<String, Value>,
    derive_holds: impl Fn(usize) -> bool,
) -> Vec<Warning> {
    let mut warnings = Vec::new();
    // Fields that lost (dispatch, priority) are named by their own warnings;
    // they leave the body under every spelling.
    if !input.losing.is_empty() {
        for lost in input.losing {
            field_path::remove(body, lost);
        }
        for entry in input.attention {
            if entry
                .alias_of
                .as_ref()
                .is_some_and(|canonical| input.losing.contains(canonical))
            {
                body.remove(&entry.key);
            }
        }
    }
    // Sub-fields the mode ignores (top-level ones are in `attention`).
    for ignored in &input.mode.ignores {
        if field_path::is_nested(ignored) && field_path::remove(body, ignored).is_some() {
            warnings.push(Warning {
                path: field_path::pointer(ignored),
                message: format!(
                    "{ignored} has no effect in {} mode; it is not sent",
                    input.mode.name
                ),
            });
        }
    }
    let mut renames: Vec<(&str, &str)> = Vec::new();
    for entry in input.attention {
        let key = entry.key.as_str();
        let Some(value) = body.get_mut(key) else {
            continue;
        };
        let renamed = entry.alias_of.as_deref();
        if let Some(canonical) = renamed {
            warnings.push(Warning {
                path: format!("/{key}"),
                message: format!("{key} is an alias of {canonical}; sent as {canonical}"),
            });
        }
        let name = renamed.unwrap_or(key);
        match &entry.action {
            Action::ModelNotSent => {
                warnings.push(Warning {
                    path: "/model".into(),
                    message: format!("model only selects {}; it is not sent (this endpoint takes no model field)", input.model),
                });
                body.remove(key);
                continue;
            }
            Action::Ignored => {
                warnings.push(Warning {
                    path: format!("/{key}"),
                    message: format!(
                        "{key} has no effect in {} mode; it is not sent",
                        input.mode.name
                    ),
                });
                body.remove(key);
                continue;
            }
            Action::Normalise(field) => normalise(field, key, name, value, &mut warnings),
            Action::Keep => {}
        }
        if let Some(canonical) = renamed {
            // Renamed once every key is walked, so the new key is not walked again.
            renames.push((key, canonical));
        }
    }
    for (alias, canonical) in renames {
        if let Some(value) = body.remove(alias) {
            body.insert(canonical.to_owned(), value);
        }
    }

    for (index, derive) in input.derives.iter().enumerate() {
        if !derive_holds(index) {
            continue;
        }
        let current = Effective::new(body, input.defaults, input.losing)
            .get(&derive.field)
            .unwrap_or(&Value::Null);
        let new = match current {
            Value::String(text) => derive.map.get(text.as_str()),
            other => derive.map.get(&show(other)),
        };
        if let Some(new) = new
            && new != current
        {
            warnings.push(Warning {
                path: field_path::pointer(&derive.field),
                message: format!(
                    "{} becomes {} {} ({})",
                    derive.field,
                    show(new),
                    derive.scope,
                    derive.rule
                ),
            });
            field_path::insert(body, &derive.field, new.clone());
        }
    }
    warnings
}

/// Canonical spelling, only-first truncation and the unusual-value warning of
/// an open enum, for the value given under `key` (field `name`).
fn normalise(field: &Field, key: &str, name: &str, value: &mut Value, warnings: &mut Vec<Warning>) {
    if holds_integers(field) {
        // Worded only when there may be something to say (no allocation for
        // the integers almost every request gives).
        let given =
            (matches!(field.kind, FieldType::Integer) && value.is_f64()).then(|| show(value));
        if integers_as_integers(field, value) {
            warnings.push(Warning {
                path: format!("/{key}"),
                message: match given {
                    Some(given) => format!("{given} is sent as {}", show(value)),
                    None => format!(
                        "whole numbers written with a fraction in {key} are sent as integers"
                    ),
                },
            });
        }
    }
    if let Some(canonical) = canonical_value(field, value)
        && canonical != value
    {
        warnings.push(Warning {
            path: format!("/{key}"),
            message: format!("{} is sent as {}", show(value), show(canonical)),
        });
        *value = canonical.clone();
    }
    if field.only_first
        && let Value::Array(items) = value
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
    if let Value::Object(entries) = value {
        normalise_keys(field, key, name, entries, warnings);
    }
    if field.open
        && let Some(common) = &field.values
        && !common.contains(value)
    {
        warnings.push(Warning {
            path: format!("/{key}"),
            message: format!(
                "{} is not one of the usual values of {name} ({}); the gateway may reject it",
                crate::validate::short(value),
                common.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
        });
    }
}

/// The sub-fields of an object value (field `name`, given under `key`): each
/// alias renamed to its canonical key, each value normalised.
fn normalise_keys(
    field: &Field,
    key: &str,
    name: &str,
    entries: &mut Map<String, Value>,
    warnings: &mut Vec<Warning>,
) {
    for (sub_key, inner) in &field.fields {
        let inner = &inner.value;
        if let Some(alias) = &inner.alias
            && let Some(value) = entries.remove(alias)
        {
            warnings.push(Warning {
                path: format!("/{key}/{}", crate::compile::escape(alias)),
                message: format!(
                    "{name}.{alias} is an alias of {name}.{sub_key}; sent as {name}.{sub_key}"
                ),
            });
            entries.insert(sub_key.clone(), value);
        }
        if rewrites_values(inner)
            && let Some(value) = entries.get_mut(sub_key)
        {
            let inner_key = format!("{key}/{}", crate::compile::escape(sub_key));
            let inner_name = format!("{name}.{sub_key}");
            normalise(inner, &inner_key, &inner_name, value, warnings);
        }
    }
}

/// The canonical spelling of an enum value (case, value aliases), if it has one.
fn canonical_value<'f>(field: &'f Field, value: &Value) -> Option<&'f Value> {
    let Value::String(text) = value else {
        return None;
    };
    if let Some(target) = field.value_aliases.get(text) {
        return Some(target);
    }
    if field.case_insensitive
        && matches!(field.kind, FieldType::String)
        && let Some(values) = &field.values
    {
        if values
            .iter()
            .any(|candidate| candidate.as_str() == Some(text))
        {
            return None; // already the canonical spelling
        }
        return values.iter().find(|candidate| {
            candidate
                .as_str()
                .is_some_and(|known| known.eq_ignore_ascii_case(text))
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field(yaml: &str) -> Field {
        serde_saphyr::from_str::<Field>(yaml).expect("a field")
    }

    #[test]
    fn an_integral_float_for_an_integer_field_becomes_that_integer() {
        let duration = field("type: integer");
        for (given, sent) in [
            (json!(5.0), json!(5)),
            (json!(-3.0), json!(-3)),
            (json!(-0.0), json!(0)),
            (json!(2e1), json!(20)),
            (
                json!(9_007_199_254_740_992.0),
                json!(9_007_199_254_740_992_u64),
            ),
        ] {
            let mut value = given.clone();
            assert!(integers_as_integers(&duration, &mut value), "{given}");
            assert_eq!(value, sent, "{given}");
            assert!(value.is_u64() || value.is_i64(), "{given} stays a float");
        }
    }

    #[test]
    fn fractions_integers_and_floats_beyond_64_bits_are_left_as_they_are() {
        let duration = field("type: integer");
        for given in [
            json!(5.5),
            json!(5),
            json!(-7),
            json!(1e300),
            json!(-1e19),
            json!("5.0"),
        ] {
            let mut value = given.clone();
            assert!(!integers_as_integers(&duration, &mut value), "{given}");
            assert_eq!(value, given);
        }
    }

    #[test]
    fn integral_floats_in_integer_items_and_keys_become_integers_at_any_depth() {
        let frames = field(
            "type: array\nitems:\n  type: object\n  fields:\n    index: {type: integer}\n    \
             weight: {type: number}\n    sizes: {type: array, items: {type: integer}}\n",
        );
        assert!(holds_integers(&frames));
        let mut value = json!([{"index": 2.0, "weight": 1.0, "sizes": [1.0, 2.5, 3]}]);
        assert!(integers_as_integers(&frames, &mut value));
        assert_eq!(
            serde_json::to_string(&value).expect("JSON"),
            r#"[{"index":2,"sizes":[1,2.5,3],"weight":1.0}]"#
        );
    }

    #[test]
    fn a_field_of_numbers_and_strings_holds_no_integers() {
        assert!(!holds_integers(&field("type: number")));
        assert!(!holds_integers(&field(
            "type: array\nitems: {type: string}"
        )));
        assert!(holds_integers(&field(
            "type: array\nitems: {type: integer}"
        )));
    }
}
