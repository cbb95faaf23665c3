//! A request field: its JSON type (the node this module annotates, kind
//! `field`), and the whole schema of the field composed from the constraint
//! modules (`values`, `range`, `length`, `pattern`, `url`, `items`,
//! `count_in`, `unique_by`, `required` for keys of objects).
//!
//! Owns the type message and the order in which a field's constraints are
//! composed. It must not know any particular field.

use serde_json::{Map, Value, json};

use super::{Annotation, Failure, Kind, Tag};
use crate::spec::{Bounds, Field, FieldType};

/// The full schema of field `name`: its type node, with each of its
/// constraints as an annotated entry of `allOf`.
pub(crate) fn schema(name: &str, field: &Field) -> Value {
    let mut out = Map::new();
    if let Some(description) = &field.description {
        out.insert("description".into(), json!(description));
    }
    let tag = Tag {
        rule: field.rule.clone(),
        error_code: field.error_code.clone(),
        ..Tag::default()
    };
    let mut checks = Vec::new();
    match field.kind {
        FieldType::String | FieldType::Url => {
            out.insert("type".into(), json!("string"));
        }
        FieldType::Integer => {
            out.insert("type".into(), json!("integer"));
        }
        FieldType::Number => {
            out.insert("type".into(), json!("number"));
        }
        FieldType::Boolean => {
            out.insert("type".into(), json!("boolean"));
        }
        FieldType::Array => {
            out.insert("type".into(), json!("array"));
            if let Some(items) = &field.items {
                let mut item = items.value.clone();
                item.rule = item.rule.or_else(|| field.rule.clone());
                out.insert("items".into(), schema(&format!("{name}[]"), &item));
                checks.extend(super::unique_by::compile(name, field, &tag));
            }
        }
        FieldType::Object => {
            out.insert("type".into(), json!("object"));
            let mut properties = Map::new();
            for (key, sub) in &field.fields {
                let path = format!("{name}.{key}");
                properties.insert(key.clone(), schema(&path, &sub.value));
                if sub.value.required {
                    checks.push(super::required::compile_key(&path, key, &sub.value));
                }
                // An alias of a sub-field is a sibling key of the same object.
                if let Some(alias) = &sub.value.alias {
                    let mut alias_schema = schema(&format!("{name}.{alias}"), &sub.value);
                    if let Some(object) = alias_schema.as_object_mut() {
                        object.insert(
                            "description".into(),
                            json!(format!("Alias of {key}; sent as {key}.")),
                        );
                    }
                    properties.insert(alias.clone(), alias_schema);
                    checks.push(super::alias::compile(name, key, alias, &sub.value));
                }
            }
            out.insert("properties".into(), Value::Object(properties));
            out.insert("additionalProperties".into(), json!(false));
        }
    }
    if let Some(pattern) = &field.pattern {
        checks.push(super::pattern::compile(name, field, pattern, &tag));
    }
    if field.kind == FieldType::Url {
        checks.push(super::url::compile(name, field, &tag));
    }
    checks.extend(bounds(name, field, &own_bounds(field), &tag));
    if !checks.is_empty() {
        out.insert("allOf".into(), Value::Array(checks));
    }
    if let Some(default) = &field.default {
        out.insert("default".into(), default.value.clone());
    }
    if field.open
        && let Some(values) = &field.values
    {
        out.insert("examples".into(), json!(values));
    }
    let annotation = Annotation {
        field: Some(name.to_owned()),
        hint: field.hint.clone(),
        ..Annotation::of(Kind::Field {
            expected: type_words(field.kind).to_owned(),
        })
    }
    .tagged(&tag);
    out.insert("x-vidspec".into(), annotation.to_json());
    Value::Object(out)
}

/// The field's own bounds, as a `constrain` rule would state them.
pub(crate) fn own_bounds(field: &Field) -> Bounds {
    Bounds {
        values: field.values.clone(),
        min: field.min.clone(),
        max: field.max.clone(),
        min_length: field.min_length,
        max_length: field.max_length,
        min_items: field.min_items,
        max_items: field.max_items,
        count_in: field.count_in.clone(),
    }
}

/// One annotated schema node per bound of `bounds` on field `name`.
pub(crate) fn bounds(name: &str, field: &Field, bounds: &Bounds, tag: &Tag) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(values) = &bounds.values
        && !field.open
    {
        out.push(super::values::compile(name, field, values, tag));
    }
    out.extend(super::range::compile(
        name,
        field,
        bounds.min.as_ref(),
        bounds.max.as_ref(),
        tag,
    ));
    out.extend(super::length::compile(
        name,
        field,
        bounds.min_length,
        bounds.max_length,
        tag,
    ));
    out.extend(super::items::compile(
        name,
        field,
        bounds.min_items,
        bounds.max_items,
        tag,
    ));
    if let Some(counts) = &bounds.count_in {
        out.push(super::count_in::compile(name, field, counts, tag));
    }
    out
}

/// Bounds in words: `one of 5 or 8`, `1 to 15`, `at most 7 items` (each
/// bound's own module words it).
pub fn bounds_words(bounds: &Bounds, style: crate::words::Style) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(values) = &bounds.values {
        out.push(super::values::words(values, style));
    }
    out.extend(super::range::words(
        bounds.min.as_ref(),
        bounds.max.as_ref(),
    ));
    out.extend(super::length::words(bounds.min_length, bounds.max_length));
    if let Some(counts) = &bounds.count_in {
        out.push(super::count_in::words(counts));
    }
    out.extend(super::items::words(bounds.min_items, bounds.max_items));
    out
}

/// An annotation of `kind` about field `name`, with its hint and the tag.
pub(crate) fn about(name: &str, field: &Field, kind: Kind, tag: &Tag) -> Annotation {
    Annotation {
        field: Some(name.to_owned()),
        hint: field.hint.clone(),
        rule: field.rule.clone(),
        error_code: field.error_code.clone(),
        ..Annotation::of(kind)
    }
    .tagged(tag)
}

/// The JSON type in words.
pub(crate) fn type_words(kind: FieldType) -> &'static str {
    match kind {
        FieldType::String => "a string",
        FieldType::Url => "a string",
        FieldType::Integer => "an integer",
        FieldType::Number => "a number",
        FieldType::Boolean => "a boolean",
        FieldType::Array => "an array",
        FieldType::Object => "an object",
    }
}

/// `duration must be an integer, not a string (write 8 without quotes)`.
pub(crate) fn message(failure: &Failure<'_>, expected: &str) -> String {
    use jsonschema::error::ValidationErrorKind;
    let field = failure.field();
    match failure.error {
        ValidationErrorKind::Type { .. } => {
            let hint = match (failure.instance, expected) {
                (Value::String(text), "an integer" | "a number")
                    if text.trim().parse::<f64>().is_ok() =>
                {
                    format!(" (write {} without quotes)", text.trim())
                }
                (Value::String(text), "a boolean") if matches!(text.as_str(), "true" | "false") => {
                    format!(" (write {text} without quotes)")
                }
                _ => String::new(),
            };
            with_hint(
                failure,
                format!(
                    "{field} must be {expected}, not {}{hint}",
                    crate::diagnostics::type_words(failure.instance)
                ),
            )
        }
        _ => with_hint(
            failure,
            failure.or_generated(|| {
                format!(
                    "{field} is not valid for {}{}",
                    failure.model,
                    failure.scope()
                )
            }),
        ),
    }
}

/// `message`, then the field's hint after a semicolon.
pub(crate) fn with_hint(failure: &Failure<'_>, message: String) -> String {
    match &failure.annotation.hint {
        Some(hint) => format!("{message}; {hint}"),
        None => message,
    }
}
