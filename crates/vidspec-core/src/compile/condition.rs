//! Conditions → JSON Schema, and conditions → the words used in messages.
//!
//! Owns the translation of the closed condition vocabulary (present, absent,
//! equals, one_of, count, mode, variant, all, any, not) into `required`, `enum`,
//! `pattern`, `minItems`/`maxItems`, `not`, `allOf` and `anyOf`. Variant
//! conditions are decided here, at compile time, because each schema serves one
//! model id. It must not evaluate conditions against requests: the compiled
//! schema does that.

use serde_json::{Value, json};

use super::Context;
use crate::spec::Condition;

/// The JSON Schema that holds exactly when `condition` holds.
pub(crate) fn compile(context: &Context<'_>, condition: &Condition) -> Value {
    match condition {
        Condition::Present(names) => all(names
            .as_slice()
            .iter()
            .map(|name| {
                any(context
                    .spellings(name)
                    .iter()
                    .map(|spelling| json!({ "required": [spelling] }))
                    .collect())
            })
            .collect()),
        Condition::Absent(names) => all(names
            .as_slice()
            .iter()
            .flat_map(|name| context.spellings(name))
            .map(|spelling| json!({ "not": { "required": [spelling] } }))
            .collect()),
        Condition::Equals(map) => all(map
            .iter()
            .map(|(name, value)| field_matches(context, name, std::slice::from_ref(value)))
            .collect()),
        Condition::OneOf(map) => all(map
            .iter()
            .map(|(name, values)| field_matches(context, name, values))
            .collect()),
        Condition::Count(map) => all(map
            .iter()
            .map(|(name, counts)| {
                any(counts
                    .as_slice()
                    .iter()
                    .map(|&count| item_count(context, name, count))
                    .collect())
            })
            .collect()),
        Condition::Mode(names) => any(names
            .as_slice()
            .iter()
            .map(|name| context.mode_condition(name))
            .collect()),
        Condition::Variant(ids) => {
            Value::Bool(ids.as_slice().iter().any(|id| id == context.variant))
        }
        Condition::All(conditions) => all(conditions
            .iter()
            .map(|inner| compile(context, inner))
            .collect()),
        Condition::Any(conditions) => any(conditions
            .iter()
            .map(|inner| compile(context, inner))
            .collect()),
        Condition::Not(inner) => not(compile(context, inner)),
    }
}

/// The field spellings a condition needs: it can hold only when, for each
/// group, at least one of the group's spellings is in the request. A cheap
/// necessary test the engine makes before running a condition's schema (a
/// request without an image cannot select an image mode); it never decides
/// that a condition holds. Empty when nothing is needed.
pub(crate) fn needs(context: &Context<'_>, condition: &Condition) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    gather_needs(context, condition, &mut out);
    out.sort();
    out.dedup();
    out
}

fn gather_needs(context: &Context<'_>, condition: &Condition, out: &mut Vec<Vec<String>>) {
    match condition {
        Condition::Present(names) => {
            out.extend(names.as_slice().iter().map(|name| context.spellings(name)))
        }
        Condition::Equals(map) => out.extend(map.keys().map(|name| context.spellings(name))),
        Condition::OneOf(map) => out.extend(map.keys().map(|name| context.spellings(name))),
        Condition::Count(map) => out.extend(
            map.iter()
                .filter(|(_, counts)| !counts.as_slice().contains(&0))
                .map(|(name, _)| context.spellings(name)),
        ),
        Condition::All(conditions) => {
            for inner in conditions {
                gather_needs(context, inner, out);
            }
        }
        // Any, not, absent, mode and variant conditions need no field for sure.
        Condition::Any(_)
        | Condition::Not(_)
        | Condition::Absent(_)
        | Condition::Mode(_)
        | Condition::Variant(_) => {}
    }
}

fn field_matches(context: &Context<'_>, name: &str, values: &[Value]) -> Value {
    let matcher = context.value_matcher(name, values);
    any(context
        .spellings(name)
        .iter()
        .map(|spelling| {
            json!({
                "required": [spelling],
                "properties": { spelling: matcher.clone() },
            })
        })
        .collect())
}

fn item_count(context: &Context<'_>, name: &str, count: u64) -> Value {
    let spellings = context.spellings(name);
    if count == 0 {
        return all(spellings
            .iter()
            .map(|spelling| item_count_one(spelling, 0))
            .collect());
    }
    any(spellings
        .iter()
        .map(|spelling| item_count_one(spelling, count))
        .collect())
}

fn item_count_one(name: &str, count: u64) -> Value {
    if count == 0 {
        any(vec![
            json!({ "not": { "required": [name] } }),
            json!({ "properties": { name: { "maxItems": 0 } } }),
        ])
    } else {
        json!({
            "required": [name],
            "properties": { name: { "minItems": count, "maxItems": count } },
        })
    }
}

/// All of the schemas, with `true`/`false` folded away.
pub(crate) fn all(schemas: Vec<Value>) -> Value {
    let mut kept = Vec::new();
    for schema in schemas {
        match schema {
            Value::Bool(true) => {}
            Value::Bool(false) => return Value::Bool(false),
            other => kept.push(other),
        }
    }
    match kept.len() {
        0 => Value::Bool(true),
        1 => kept.remove(0),
        _ => json!({ "allOf": kept }),
    }
}

/// Any of the schemas, with `true`/`false` folded away.
pub(crate) fn any(schemas: Vec<Value>) -> Value {
    let mut kept = Vec::new();
    for schema in schemas {
        match schema {
            Value::Bool(false) => {}
            Value::Bool(true) => return Value::Bool(true),
            other => kept.push(other),
        }
    }
    match kept.len() {
        0 => Value::Bool(false),
        1 => kept.remove(0),
        _ => json!({ "anyOf": kept }),
    }
}

/// The negation, with `true`/`false` folded away.
pub(crate) fn not(schema: Value) -> Value {
    match schema {
        Value::Bool(value) => Value::Bool(!value),
        other => json!({ "not": other }),
    }
}

/// The condition in words, for messages: `when animate_mode is auto`.
pub fn describe(condition: &Condition) -> String {
    match condition {
        Condition::Present(names) => {
            let names = names.as_slice();
            let verb = if names.len() == 1 { "is" } else { "are" };
            format!("when {} {verb} given", join_and(names))
        }
        Condition::Absent(names) => {
            format!("when {} is not given", join_or(names.as_slice()))
        }
        Condition::Equals(map) => format!(
            "when {}",
            map.iter()
                .map(|(name, value)| format!("{name} is {}", show(value)))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
        Condition::OneOf(map) => format!(
            "when {}",
            map.iter()
                .map(|(name, values)| format!(
                    "{name} is {}",
                    join_or(&values.iter().map(show).collect::<Vec<_>>())
                ))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
        Condition::Count(map) => format!(
            "when {}",
            map.iter()
                .map(|(name, counts)| format!(
                    "{name} holds {} item(s)",
                    join_or(
                        &counts
                            .as_slice()
                            .iter()
                            .map(u64::to_string)
                            .collect::<Vec<_>>()
                    )
                ))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
        Condition::Mode(names) => format!("in {} mode", join_or(names.as_slice())),
        Condition::Variant(ids) => format!("for {}", join_or(ids.as_slice())),
        Condition::All(conditions) => conditions
            .iter()
            .map(describe)
            .collect::<Vec<_>>()
            .join(" and "),
        Condition::Any(conditions) => conditions
            .iter()
            .map(describe)
            .collect::<Vec<_>>()
            .join(" or "),
        Condition::Not(inner) => format!("unless ({})", describe(inner)),
    }
}

/// A value as a person reads it: strings bare, everything else as JSON.
pub fn show(value: &Value) -> String {
    match value {
        Value::String(text) if text.is_empty() => "\"\"".to_owned(),
        Value::String(text) => text.clone(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => match (number.as_u64(), number.as_i64()) {
            // Integers without the JSON serializer (they read the same).
            (Some(unsigned), _) => itoa::Buffer::new().format(unsigned).to_owned(),
            (None, Some(signed)) => itoa::Buffer::new().format(signed).to_owned(),
            _ => number.to_string(),
        },
        other => other.to_string(),
    }
}

/// `a`, `a and b`, `a, b and c`.
pub fn join_and<S: AsRef<str>>(items: &[S]) -> String {
    join_with(items, "and")
}

/// `a`, `a or b`, `a, b or c`.
pub fn join_or<S: AsRef<str>>(items: &[S]) -> String {
    join_with(items, "or")
}

fn join_with<S: AsRef<str>>(items: &[S], last: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [init @ .., tail] => format!(
            "{} {last} {}",
            init.iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(", "),
            tail.as_ref()
        ),
    }
}

/// Every field name a condition mentions (mode and variant conditions excluded).
pub fn fields_named(condition: &Condition, out: &mut Vec<String>) {
    match condition {
        Condition::Present(names) | Condition::Absent(names) => {
            out.extend(names.as_slice().iter().cloned())
        }
        Condition::Equals(map) => out.extend(map.keys().cloned()),
        Condition::OneOf(map) => out.extend(map.keys().cloned()),
        Condition::Count(map) => out.extend(map.keys().cloned()),
        Condition::Mode(_) | Condition::Variant(_) => {}
        Condition::All(conditions) | Condition::Any(conditions) => {
            for inner in conditions {
                fields_named(inner, out);
            }
        }
        Condition::Not(inner) => fields_named(inner, out),
    }
}

/// Whether a condition asks which mode the request selects (and so reads every
/// field the mode conditions read, not only the fields it names).
pub fn names_mode(condition: &Condition) -> bool {
    match condition {
        Condition::Mode(_) => true,
        Condition::All(conditions) | Condition::Any(conditions) => {
            conditions.iter().any(names_mode)
        }
        Condition::Not(inner) => names_mode(inner),
        _ => false,
    }
}

/// The fields whose presence makes the condition hold (for "which fields lose"
/// when several modes match): those under `present`, `count`, `equals`, `one_of`,
/// not under `not`.
pub fn trigger_fields(condition: &Condition, out: &mut Vec<String>) {
    match condition {
        Condition::Not(_) | Condition::Absent(_) | Condition::Mode(_) | Condition::Variant(_) => {}
        Condition::All(conditions) | Condition::Any(conditions) => {
            for inner in conditions {
                trigger_fields(inner, out);
            }
        }
        other => fields_named(other, out),
    }
}
