//! Billing: the key and multiplier a request is charged under, from the
//! effective values.
//!
//! Owns key templates (`{field}` placeholders, `{field|fallback}` for a field
//! that may have no value) and multipliers. It knows no prices and no model.

use std::fmt::Write;

use serde::Serialize;
use serde_json::Value;

use crate::plan::default_in;
use crate::words::show;

/// What a request is charged under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Charge {
    /// The billing key, e.g. `midjourney@video-720p`.
    pub key: String,
    /// How many times the key's price is charged.
    pub multiplier: u64,
}

/// How a model bills: per mode, its key templates and multiplier; per billing
/// case, the compiled condition on the effective values and the fields it reads.
pub(crate) struct Biller {
    pub modes: Vec<ModeBilling>,
    /// Per case: the condition, run on the effective values (every default
    /// filled in, so the condition was compiled without defaults), and the
    /// fields it reads (`None`: it asks for a mode, so it may read any).
    pub cases: Vec<(jsonschema::Validator, Option<Vec<String>>)>,
}

impl std::fmt::Debug for Biller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Biller")
            .field("modes", &self.modes)
            .field("cases", &self.cases.len())
            .finish()
    }
}

impl Biller {
    /// The charge of a plan of model `model` in mode `mode`, from its body
    /// (a JSON object), the fields that lost dispatch and its effective values.
    pub fn charge(
        &self,
        model: &str,
        mode: usize,
        body: &Value,
        losing: &[String],
        effective: crate::plan::Effective<'_>,
    ) -> Charge {
        let billing = &self.modes[mode];
        let template = self
            .cases
            .iter()
            .position(|(condition, reads)| condition.is_valid(&values(effective, reads.as_deref())))
            .map(|index| &billing.cases[index])
            .unwrap_or(&billing.key);
        // Placeholders may name sub-fields by path (`metadata.resolution`).
        let own = |name: &str| crate::field_path::get_in(body, name);
        let lost = |name: &str| crate::field_path::is_dropped(losing, name);
        Charge {
            key: template.fill(model, own, lost),
            multiplier: billing.multiplier(own, lost),
        }
    }
}

/// The effective values a billing case reads: those of `reads`, or all.
fn values(effective: crate::plan::Effective<'_>, reads: Option<&[String]>) -> Value {
    match reads {
        // A path reads its whole top-level object (sub-defaults filled in).
        Some(names) => Value::Object(
            names
                .iter()
                .map(|name| crate::field_path::top(name))
                .filter_map(|name| {
                    effective
                        .get(name)
                        .map(|value| (name.to_owned(), value.clone()))
                })
                .collect(),
        ),
        None => Value::Object(effective.to_map()),
    }
}

/// How a model bills requests of one mode: its key templates (the spec's key,
/// then one per billing case) and multiplier field, with the mode's defaults
/// resolved when the model compiles.
#[derive(Debug, Clone)]
pub(crate) struct ModeBilling {
    pub key: Template,
    pub cases: Vec<Template>,
    pub multiplier: Option<(String, Option<Value>)>,
}

impl ModeBilling {
    /// The billing of one mode whose effective defaults are `defaults`.
    pub fn new(billing: &crate::spec::Billing, defaults: &[(String, Value)]) -> ModeBilling {
        ModeBilling {
            key: Template::parse(&billing.key).with_defaults(defaults),
            cases: billing
                .cases
                .iter()
                .map(|case| Template::parse(&case.key).with_defaults(defaults))
                .collect(),
            multiplier: billing
                .multiplier
                .as_ref()
                .map(|name| (name.clone(), default_in(defaults, name).cloned())),
        }
    }

    /// The multiplier: the effective integer value of the multiplier field, or 1.
    pub fn multiplier<'v>(
        &'v self,
        own: impl Fn(&str) -> Option<&'v Value>,
        lost: impl Fn(&str) -> bool,
    ) -> u64 {
        let Some((name, default)) = &self.multiplier else {
            return 1;
        };
        own(name)
            .or_else(|| default.as_ref().filter(|_| !lost(name)))
            .and_then(Value::as_u64)
            .unwrap_or(1)
    }
}

/// A key template split once into literal text and `{field}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    /// A placeholder, with the value the gateway uses when the request leaves
    /// the field out (resolved per mode by `with_defaults`) and the text
    /// written when the field has no effective value (`{duration|4}`).
    Field(String, Option<Value>, Option<String>),
}

/// Splits the inside of a placeholder into the field name and the fallback
/// after the first `|` (`duration|4` → `duration`, `4`).
fn name_and_fallback(inside: &str) -> (String, Option<String>) {
    match inside.split_once('|') {
        Some((name, fallback)) => (name.to_owned(), Some(fallback.to_owned())),
        None => (inside.to_owned(), None),
    }
}

impl Template {
    /// Splits `template` at its `{name}` placeholders (an unclosed `{` is text).
    pub fn parse(template: &str) -> Template {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            let Some(length) = rest[start..].find('}') else {
                break;
            };
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let (name, fallback) = name_and_fallback(&rest[start + 1..start + length]);
            parts.push(Part::Field(name, None, fallback));
            rest = &rest[start + length + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Template { parts }
    }

    /// This template with each placeholder's default taken from `defaults`
    /// (sorted by name): the values a request of one mode leaves to the gateway.
    pub fn with_defaults(&self, defaults: &[(String, Value)]) -> Template {
        let parts = self
            .parts
            .iter()
            .map(|part| match part {
                Part::Field(name, _, fallback) => Part::Field(
                    name.clone(),
                    default_in(defaults, name).cloned(),
                    fallback.clone(),
                ),
                text => text.clone(),
            })
            .collect();
        Template { parts }
    }

    /// The key with each placeholder replaced by its value: `own(name)`, else
    /// its default unless `lost(name)`, else `model` for `{model}`, else its
    /// fallback (`{duration|4}`), else `-`.
    pub fn fill<'v>(
        &'v self,
        model: &str,
        own: impl Fn(&str) -> Option<&'v Value>,
        lost: impl Fn(&str) -> bool,
    ) -> String {
        let mut out = String::with_capacity(64);
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Field(name, default, fallback) => {
                    let value = own(name).or_else(|| default.as_ref().filter(|_| !lost(name)));
                    match value {
                        // Strings bare, even the empty one (`show` quotes it).
                        Some(Value::String(text)) => out.push_str(text),
                        Some(Value::Number(number)) => {
                            let _ = write!(out, "{number}");
                        }
                        Some(value) => out.push_str(&show(value)),
                        None if name == "model" => out.push_str(model),
                        None => out.push_str(fallback.as_deref().unwrap_or("-")),
                    }
                }
            }
        }
        out
    }
}

/// The placeholders a template names.
pub fn placeholders(template: &str) -> Vec<String> {
    placeholders_with_fallbacks(template)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// The placeholders a template names, each with its fallback text if it
/// has one (`{duration|4}` → `duration`, `Some("4")`).
pub fn placeholders_with_fallbacks(template: &str) -> Vec<(String, Option<String>)> {
    Template::parse(template)
        .parts
        .into_iter()
        .filter_map(|part| match part {
            Part::Field(name, _, fallback) => Some((name, fallback)),
            Part::Text(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::*;

    fn fill(template: &str, values: Value) -> String {
        let values: Map<String, Value> = serde_json::from_value(values).expect("an object");
        Template::parse(template).fill("m-1", |name| values.get(name), |_| false)
    }

    #[test]
    fn placeholders_take_strings_bare_and_other_values_as_json() {
        assert_eq!(
            fill(
                "{model}@{resolution}/{duration}s/audio={audio}/{seed}",
                json!({"resolution": "720p", "duration": 5, "audio": false, "seed": -3})
            ),
            "m-1@720p/5s/audio=false/-3"
        );
    }

    #[test]
    fn a_value_nobody_set_is_a_dash_and_strings_are_bare_even_empty() {
        assert_eq!(fill("{a}|{b}|{c}", json!({"b": "", "c": 1.5})), "-||1.5");
    }

    #[test]
    fn defaults_fill_what_the_request_left_out_unless_the_field_lost() {
        let defaults = [
            ("duration".to_owned(), json!(5)),
            ("model".to_owned(), json!("m-2")),
        ];
        let template = Template::parse("{model}@{duration}s").with_defaults(&defaults);
        let values = Map::new();
        assert_eq!(
            template.fill("m-1", |name| values.get(name), |_| false),
            "m-2@5s"
        );
        assert_eq!(
            template.fill("m-1", |name| values.get(name), |name| name == "duration"),
            "m-2@-s"
        );
    }

    #[test]
    fn a_fallback_is_written_when_the_field_has_no_value_and_only_then() {
        assert_eq!(fill("{model}@{duration|4}s", json!({})), "m-1@4s");
        assert_eq!(
            fill("{model}@{duration|4}s", json!({"duration": 12})),
            "m-1@12s"
        );
        let template =
            Template::parse("{duration|4}s").with_defaults(&[("duration".to_owned(), json!(8))]);
        let values = Map::new();
        assert_eq!(
            template.fill("m-1", |name| values.get(name), |_| false),
            "8s",
            "a default is a value: the fallback is not used"
        );
        assert_eq!(
            template.fill("m-1", |name| values.get(name), |_| true),
            "4s",
            "a field that lost dispatch has no value: the fallback is used"
        );
    }

    #[test]
    fn an_empty_fallback_writes_nothing_and_a_bar_after_the_first_is_fallback_text() {
        assert_eq!(fill("a{x|}b", json!({})), "ab");
        assert_eq!(fill("{x|1|2}", json!({})), "1|2");
    }

    #[test]
    fn an_unclosed_brace_is_text() {
        assert_eq!(fill("x{model}y{z", json!({})), "xm-1y{z");
    }

    #[test]
    fn a_template_without_placeholders_is_the_key() {
        assert_eq!(
            fill("midjourney@video", json!({"a": 1})),
            "midjourney@video"
        );
    }
}
