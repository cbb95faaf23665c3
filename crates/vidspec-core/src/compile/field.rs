//! Fields → JSON Schema: type, enum (closed, open, case-insensitive, aliased),
//! ranges with extra values, lengths, URL schemes, item counts, object items
//! and roles that may appear once.
//!
//! Owns the schema of one field and of a `constrain` rule's constraints. It must
//! not know any particular field: everything comes from the `Field` data.

use serde_json::{Map, Value, json};

use super::Annotation;
use crate::compile::condition::{join_or, show};
use crate::spec::{Constraints, Field, FieldType, Scheme};

/// The full schema of a field, annotated with its rule, code and name.
pub(crate) fn schema(name: &str, field: &Field) -> Value {
    let mut out = Map::new();
    if let Some(description) = &field.description {
        out.insert("description".into(), json!(description));
    }
    match field.kind {
        FieldType::String => {
            out.insert("type".into(), json!("string"));
            if let Some(pattern) = &field.pattern {
                out.insert("pattern".into(), json!(pattern));
            }
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
        FieldType::Url => {
            out.insert("type".into(), json!("string"));
            out.insert("pattern".into(), json!(scheme_pattern(&field.schemes)));
        }
        FieldType::Array => {
            out.insert("type".into(), json!("array"));
            if let Some(items) = &field.items {
                let item_name = format!("{name}[]");
                let mut item = items.value.clone();
                item.rule = item.rule.or_else(|| field.rule.clone());
                out.insert("items".into(), schema(&item_name, &item));
                if let Some(role) = &field.unique_by
                    && let Some(role_values) = items
                        .value
                        .fields
                        .get(role)
                        .and_then(|role_field| role_field.value.one_of.clone())
                {
                    let once: Vec<Value> = role_values
                        .iter()
                        .map(|value| {
                            json!({
                                "contains": {"required": [role], "properties": {role: {"const": value}}},
                                "minContains": 0,
                                "maxContains": 1,
                                "x-vidspec": Annotation {
                                    field: Some(name.to_owned()),
                                    rule: field.rule.clone(),
                                    code: field.error_code.clone(),
                                    message: Some(format!("{role} {} may appear only once in {name}", show(value))),
                                    ..Annotation::default()
                                },
                            })
                        })
                        .collect();
                    out.insert("allOf".into(), Value::Array(once));
                }
            }
        }
        FieldType::Object => {
            out.insert("type".into(), json!("object"));
            let mut properties = Map::new();
            let mut required = Vec::new();
            for (key, sub) in &field.fields {
                properties.insert(key.clone(), schema(&format!("{name}.{key}"), &sub.value));
                if sub.value.required {
                    required.push(json!(key));
                }
            }
            out.insert("properties".into(), Value::Object(properties));
            if !required.is_empty() {
                out.insert("required".into(), Value::Array(required));
            }
            out.insert("additionalProperties".into(), json!(false));
        }
    }
    let own = Constraints {
        one_of: field.one_of.clone(),
        min: field.min.clone(),
        max: field.max.clone(),
        min_length: field.min_length,
        max_length: field.max_length,
        min_items: field.min_items,
        max_items: field.max_items,
        count_in: field.count_in.clone(),
        default: None,
    };
    constrain_into(&mut out, field, &own);
    if let Some(default) = &field.default {
        out.insert("default".into(), default.value.clone());
    }
    if field.open
        && let Some(values) = &field.one_of
    {
        out.insert("examples".into(), json!(values));
    }
    out.insert(
        "x-vidspec".into(),
        json!(annotation(name, field, &own, None, None)),
    );
    Value::Object(out)
}

/// The annotation that tells the error mapper which field and rule a schema node is.
pub(crate) fn annotation(
    name: &str,
    field: &Field,
    constraints: &Constraints,
    rule: Option<&str>,
    code: Option<&str>,
) -> Annotation {
    let allowed = constraints.one_of.as_ref().filter(|_| !field.open).cloned();
    let message = constraints.count_in.as_ref().map(|counts| {
        format!(
            "{name} must hold {} item(s)",
            join_or(&counts.iter().map(u64::to_string).collect::<Vec<_>>())
        )
    });
    Annotation {
        field: Some(name.to_owned()),
        rule: rule.map(str::to_owned).or_else(|| field.rule.clone()),
        code: code.map(str::to_owned).or_else(|| field.error_code.clone()),
        allowed,
        count_message: message,
        expected: (field.kind == FieldType::Url).then(|| scheme_words(&field.schemes)),
        hint: field.hint.clone(),
        ..Annotation::default()
    }
}

/// Adds the keywords for `constraints` on `field` to `out`.
pub(crate) fn constrain_into(
    out: &mut Map<String, Value>,
    field: &Field,
    constraints: &Constraints,
) {
    if let Some(values) = &constraints.one_of
        && !field.open
    {
        for (key, value) in value_matcher(field, values) {
            out.insert(key, value);
        }
    }
    let has_range = constraints.min.is_some() || constraints.max.is_some();
    if has_range && !field.also.is_empty() {
        let mut range = Map::new();
        if let Some(min) = &constraints.min {
            range.insert("minimum".into(), json!(min));
        }
        if let Some(max) = &constraints.max {
            range.insert("maximum".into(), json!(max));
        }
        out.insert(
            "anyOf".into(),
            json!([Value::Object(range), {"enum": field.also}]),
        );
    } else {
        if let Some(min) = &constraints.min {
            out.insert("minimum".into(), json!(min));
        }
        if let Some(max) = &constraints.max {
            out.insert("maximum".into(), json!(max));
        }
    }
    if let Some(min) = constraints.min_length {
        out.insert("minLength".into(), json!(min));
    }
    if let Some(max) = constraints.max_length {
        out.insert("maxLength".into(), json!(max));
    }
    if let Some(min) = constraints.min_items {
        out.insert("minItems".into(), json!(min));
    }
    if let Some(max) = constraints.max_items {
        out.insert("maxItems".into(), json!(max));
    }
    if let Some(counts) = &constraints.count_in {
        let exact: Vec<Value> = counts
            .iter()
            .map(|&count| json!({"minItems": count, "maxItems": count}))
            .collect();
        out.insert("anyOf".into(), Value::Array(exact));
    }
}

/// The keywords that accept exactly `values` (and their other spellings) for `field`.
pub(crate) fn value_matcher(field: &Field, values: &[Value]) -> Map<String, Value> {
    let mut spellings: Vec<Value> = values.to_vec();
    for (alias, target) in &field.value_aliases {
        if values.contains(target) {
            spellings.push(json!(alias));
        }
    }
    let mut out = Map::new();
    let all_strings = spellings.iter().all(Value::is_string);
    if field.case_insensitive && all_strings {
        let alternatives: Vec<String> = spellings
            .iter()
            .filter_map(Value::as_str)
            .map(case_insensitive_regex)
            .collect();
        out.insert("type".into(), json!("string"));
        out.insert(
            "pattern".into(),
            json!(format!("^(?:{})$", alternatives.join("|"))),
        );
    } else if spellings.len() == 1 {
        out.insert("const".into(), spellings.remove(0));
    } else {
        out.insert("enum".into(), Value::Array(spellings));
    }
    out
}

/// `4k` → `4[kK]`, with regex metacharacters escaped: portable to any ECMA 262 engine.
fn case_insensitive_regex(text: &str) -> String {
    let mut out = String::new();
    for character in text.chars() {
        if character.is_ascii_alphabetic() {
            out.push('[');
            out.push(character.to_ascii_lowercase());
            out.push(character.to_ascii_uppercase());
            out.push(']');
        } else if "\\^$.|?*+()[]{}/-".contains(character) {
            out.push('\\');
            out.push(character);
        } else {
            out.push(character);
        }
    }
    out
}

/// The pattern of a URL with one of `schemes` (http and https when none are named).
pub(crate) fn scheme_pattern(schemes: &[Scheme]) -> String {
    let has = |scheme: Scheme| {
        (schemes.is_empty() && scheme != Scheme::DataImage) || schemes.contains(&scheme)
    };
    let mut alternatives = Vec::new();
    match (has(Scheme::Http), has(Scheme::Https)) {
        (true, true) => alternatives.push(r"[hH][tT][tT][pP][sS]?://[^\s/?#]+[^\s]*"),
        (true, false) => alternatives.push(r"[hH][tT][tT][pP]://[^\s/?#]+[^\s]*"),
        (false, true) => alternatives.push(r"[hH][tT][tT][pP][sS]://[^\s/?#]+[^\s]*"),
        (false, false) => {}
    }
    if has(Scheme::DataImage) {
        alternatives.push(r"data:image/[A-Za-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+");
    }
    format!("^(?:{})$", alternatives.join("|"))
}

/// How people name the schemes (`an http:// or https:// URL`).
pub(crate) fn scheme_words(schemes: &[Scheme]) -> String {
    let mut words = Vec::new();
    if schemes.is_empty() || schemes.contains(&Scheme::Http) {
        words.push("http://");
    }
    if schemes.is_empty() || schemes.contains(&Scheme::Https) {
        words.push("https://");
    }
    if schemes.contains(&Scheme::DataImage) {
        words.push("data:image/…;base64,…");
    }
    format!("a public {} URL", join_or(&words))
}
