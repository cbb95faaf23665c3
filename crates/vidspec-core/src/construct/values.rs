//! `enum:` on a field (or in `constrain`): the allowed values — closed,
//! matched regardless of case (`case_insensitive`), with other spellings
//! (`value_aliases`). An `open: true` enum lists common values only and is
//! not checked here (shape warns about unusual values).
//!
//! Owns the matcher, the node, its message (with look-alike characters named
//! and near misses suggested) and its words.

use serde_json::{Map, Value, json};

use super::{Failure, Kind, Tag, annotated, field};
use crate::spec::Field;
use crate::words::{Style, join_or, show};

/// The annotated node that accepts exactly `values` (in any spelling).
pub(crate) fn compile(name: &str, field: &Field, values: &[Value], tag: &Tag) -> Value {
    let mut keywords = matcher(field, values);
    // The field's own type node already says "a string".
    keywords.remove("type");
    let annotation = field::about(
        name,
        field,
        Kind::Values {
            values: values.to_vec(),
        },
        tag,
    );
    annotated(keywords, &annotation)
}

/// The keywords that accept exactly `values` (and their other spellings) for `field`.
pub(crate) fn matcher(field: &Field, values: &[Value]) -> Map<String, Value> {
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

/// `720P is not allowed for Omni-Flash-Ext; use one of 720p, 1080p, 4k (did you mean 720p?)`.
pub(crate) fn message(failure: &Failure<'_>, values: &[Value]) -> String {
    let words: Vec<String> = values.iter().map(show).collect();
    // A value drawn like an allowed one is explained character by character;
    // else a near miss is suggested.
    let look_alike = failure
        .instance
        .as_str()
        .map(|text| crate::text::look_alike_note(text, &words))
        .unwrap_or_default();
    let close = if look_alike.is_empty() {
        failure
            .instance
            .as_str()
            .and_then(|text| crate::suggest::close_value(text, &words))
            .map(|close| format!(" (did you mean {close}?)"))
            .unwrap_or_default()
    } else {
        look_alike.clone()
    };
    let message = match failure.annotation.message.clone() {
        Some(message) => message + &look_alike,
        None => {
            let allowed = match words.as_slice() {
                [one] => one.clone(),
                many => format!("one of {}", many.join(", ")),
            };
            format!(
                "{} is not allowed for {}{}; use {allowed}{close}",
                failure.value(),
                failure.model,
                failure.scope()
            )
        }
    };
    field::with_hint(failure, message)
}

/// `one of 5 or 8`.
pub fn words(values: &[Value], style: Style) -> String {
    let values: Vec<String> = values.iter().map(|value| style.value(value)).collect();
    match values.as_slice() {
        [one] => format!("only {one}"),
        many => format!("one of {}", join_or(many)),
    }
}
