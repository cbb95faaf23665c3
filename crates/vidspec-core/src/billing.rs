//! Billing: the key and multiplier a request is charged under, from the
//! effective values.
//!
//! Owns key templates (`{field}` placeholders) and multipliers. It knows no
//! prices and no model.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::compile::condition::show;

/// What a request is charged under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Charge {
    /// The billing key, e.g. `midjourney@video-720p`.
    pub key: String,
    /// How many times the key's price is charged.
    pub multiplier: u64,
}

/// Fills `{name}` placeholders in `template` from the effective values
/// (`{model}` from `model` when the values hold none).
pub(crate) fn fill(template: &str, model: &str, effective: &Map<String, Value>) -> String {
    if !template.contains('{') {
        return template.to_owned();
    }
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(length) => {
                let name = &rest[start + 1..start + length];
                match effective.get(name) {
                    Some(Value::String(text)) => out.push_str(text),
                    Some(value) => out.push_str(&show(value)),
                    None if name == "model" => out.push_str(model),
                    None => out.push('-'),
                }
                rest = &rest[start + length + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholders a template names.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        match rest[start..].find('}') {
            Some(length) => {
                out.push(rest[start + 1..start + length].to_owned());
                rest = &rest[start + length + 1..];
            }
            None => break,
        }
    }
    out
}

/// The multiplier: the effective integer value of `field`, or 1.
pub(crate) fn multiplier(field: Option<&str>, effective: &Map<String, Value>) -> u64 {
    field
        .and_then(|name| effective.get(name))
        .and_then(Value::as_u64)
        .unwrap_or(1)
}
