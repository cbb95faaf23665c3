//! Running the compiled schema and reading its failures as the spec's words.
//!
//! Owns the walk over a `jsonschema` failure list: the nearest `x-vidspec`
//! annotation above each failing schema node names the construct that made
//! the node (its `kind`), and that construct's module words the message
//! (`construct::message`). Unknown keys are read here, with did-you-mean. It
//! never prints a whole request (prompts stay out of messages) and must not
//! decide validity itself: the schema does.

use std::collections::BTreeMap;

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::construct::{self, Annotation, Failure};
use crate::diagnostics::{Diagnostic, Diagnostics, MAX_LISTED_ERRORS};
use crate::words::show;

/// Schema failures looked at for one request; past this many the count of
/// errors not shown is a lower bound (a request of a million bad array items
/// costs no more than this).
const MAX_EXAMINED_FAILURES: usize = 10_000;

/// What the mapper needs: the model id, its schema and the annotations in it.
pub(crate) struct Mapper<'a> {
    pub model: &'a str,
    pub schema: &'a Value,
    pub annotations: &'a BTreeMap<String, Annotation>,
}

/// Unknown keys found by one `additionalProperties` failure: where, which
/// schema node lists the known ones, the first few names and how many there are.
struct UnknownKeys {
    instance_path: String,
    schema_parent: String,
    names: Vec<String>,
    count: usize,
}

impl Mapper<'_> {
    /// The failures of `request` against `validator`, as diagnostics: at most
    /// `MAX_LISTED_ERRORS` listed (sorted by path), then, when there were more,
    /// one entry saying how many more (see `Diagnostic::more_not_shown`).
    ///
    /// The work is bounded: failures other than unknown keys are mapped while
    /// fewer than the limit are held and only counted after, unknown keys are
    /// counted from jsonschema's list and only the first few are named (the
    /// did-you-mean search runs for those only), and at most
    /// `MAX_EXAMINED_FAILURES` schema failures are looked at.
    pub fn diagnose(&self, validator: &jsonschema::Validator, request: &Value) -> Diagnostics {
        let mut out = Vec::new();
        let mut unknown: Vec<UnknownKeys> = Vec::new();
        let mut named_unknown = 0usize;
        let mut not_shown = 0u64;
        let mut counted_all = true;
        for (index, error) in validator.iter_errors(request).enumerate() {
            if index == MAX_EXAMINED_FAILURES {
                counted_all = false;
                break;
            }
            if let ValidationErrorKind::AdditionalProperties { unexpected } = error.kind() {
                let take = unexpected.len().min(MAX_LISTED_ERRORS - named_unknown);
                named_unknown += take;
                unknown.push(UnknownKeys {
                    instance_path: error.instance_path().as_str().to_owned(),
                    schema_parent: parent(error.schema_path().as_str()).to_owned(),
                    names: unexpected[..take].to_vec(),
                    count: unexpected.len(),
                });
                continue;
            }
            if out.len() >= MAX_LISTED_ERRORS {
                not_shown += 1;
                continue;
            }
            out.push(self.map(
                error.instance_path().as_str(),
                error.schema_path().as_str(),
                error.kind(),
                error.instance().as_ref(),
            ));
        }
        // Unknown keys fill the places the other failures left.
        let mut room = MAX_LISTED_ERRORS.saturating_sub(out.len());
        for keys in &unknown {
            let known: Vec<String> = self
                .schema
                .pointer(&keys.schema_parent)
                .and_then(|node| node.get("properties"))
                .and_then(Value::as_object)
                .map(|properties| properties.keys().cloned().collect())
                .unwrap_or_default();
            let shown = keys.names.len().min(room);
            room -= shown;
            not_shown += (keys.count - shown) as u64;
            for name in &keys.names[..shown] {
                out.push(self.unknown_field(&keys.instance_path, name, &known));
            }
        }
        out.sort_by(|left, right| {
            left.path
                .cmp(&right.path)
                .then(left.message.cmp(&right.message))
        });
        out.dedup();
        if !counted_all {
            not_shown = not_shown.max(1);
        }
        if not_shown > 0 {
            out.push(Diagnostic::more_not_shown(not_shown, counted_all));
        }
        Diagnostics {
            errors: out,
            warnings: Vec::new(),
            not_shown,
            count_is_lower_bound: !counted_all,
        }
    }

    /// The diagnostic of an unknown key `name` in the object at `instance_path`
    /// whose known keys are `known`.
    fn unknown_field(&self, instance_path: &str, name: &str, known: &[String]) -> Diagnostic {
        let model = self.model;
        let shown = short_text(name);
        let message = match crate::suggest::did_you_mean(name, known) {
            Some(close) => match crate::text::look_alike_note(name, &[&close]) {
                note if note.is_empty() => {
                    format!("unknown field {shown} for {model}; did you mean {close}?")
                }
                note => format!("unknown field {shown} for {model}{note}"),
            },
            None => format!(
                "unknown field {shown} for {model}; remove it (known fields: {})",
                known.join(", ")
            ),
        };
        Diagnostic {
            path: format!("{instance_path}/{}", crate::compile::escape(name)),
            rule: None,
            code: None,
            message,
        }
    }

    /// The nearest annotation at or above `schema_path`.
    fn annotation_at(&self, schema_path: &str) -> Option<&Annotation> {
        let mut pointer = schema_path;
        loop {
            if let Some(annotation) = self.annotations.get(pointer) {
                return Some(annotation);
            }
            match pointer.rfind('/') {
                Some(index) if index > 0 => pointer = &pointer[..index],
                _ => return None,
            }
        }
    }

    /// One failure as a diagnostic, worded by the construct that made the node.
    fn map(
        &self,
        instance_path: &str,
        schema_path: &str,
        kind: &ValidationErrorKind,
        instance: &Value,
    ) -> Diagnostic {
        let Some(annotation) = self.annotation_at(schema_path) else {
            let place = if instance_path.is_empty() {
                "this request".to_owned()
            } else {
                instance_path.to_owned()
            };
            return Diagnostic {
                path: instance_path.to_owned(),
                rule: None,
                code: None,
                message: format!("{place} is not valid for {}", self.model),
            };
        };
        let said = construct::message(&Failure {
            model: self.model,
            annotation,
            error: kind,
            instance,
        });
        let path = match &said.key {
            // A key may be a path to a sub-field (`metadata.resolution`).
            Some(key) => format!("{instance_path}{}", crate::field_path::pointer(key)),
            None => instance_path.to_owned(),
        };
        Diagnostic {
            path,
            rule: annotation.rule.clone(),
            code: annotation.error_code.clone(),
            message: said.message,
        }
    }
}

fn parent(pointer: &str) -> &str {
    match pointer.rfind('/') {
        Some(index) => &pointer[..index],
        None => "",
    }
}

/// A value for a message: strings as `short_text` shows them, arrays and
/// objects by their size, long numbers cut.
pub(crate) fn short(value: &Value) -> String {
    match value {
        Value::String(text) => short_text(text),
        Value::Array(items) => format!("[{} item(s)]", items.len()),
        Value::Object(_) => "an object".to_owned(),
        other => cut(show(other)),
    }
}

/// A request string or key for a message (`crate::text::short`): cut, and
/// quoted with control and invisible characters escaped when need be, so
/// nothing from a request reaches a terminal raw.
pub(crate) fn short_text(text: &str) -> String {
    crate::text::short(text)
}

fn cut(text: String) -> String {
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> &'static crate::Model {
        crate::Registry::embedded()
            .model("Omni-Flash-Ext")
            .expect("an embedded model")
    }

    /// A request of the test model with `count` unknown keys and, optionally,
    /// a duration it does not allow.
    fn with_unknown_keys(count: usize, bad_duration: bool) -> Value {
        let mut request = serde_json::Map::new();
        request.insert("model".into(), "Omni-Flash-Ext".into());
        request.insert("prompt".into(), "a fox".into());
        if bad_duration {
            request.insert("duration".into(), 7.into());
        }
        for index in 0..count {
            request.insert(format!("unknown_{index:07}"), 0.into());
        }
        Value::Object(request)
    }

    #[test]
    fn a_request_with_many_unknown_keys_lists_the_first_hundred_errors_and_counts_the_rest() {
        let diagnostics = model()
            .prepare(with_unknown_keys(250_000, false))
            .expect_err("unknown keys are errors");
        assert_eq!(diagnostics.errors.len(), MAX_LISTED_ERRORS + 1);
        assert_eq!(diagnostics.not_shown, 250_000 - MAX_LISTED_ERRORS as u64);
        assert_eq!(diagnostics.total(), 250_000);
        let last = diagnostics.errors.last().expect("an entry");
        assert_eq!(
            last,
            &Diagnostic {
                path: String::new(),
                rule: None,
                code: None,
                message: "249,900 more error(s) not shown: only the first 100 are listed; \
                          fix those and check again"
                    .into(),
            }
        );
        assert_eq!(diagnostics.errors[0].path, "/unknown_0000000");
    }

    #[test]
    fn errors_other_than_unknown_keys_are_listed_before_unknown_keys_take_the_remaining_places() {
        let diagnostics = model()
            .prepare(with_unknown_keys(1_000, true))
            .expect_err("invalid");
        assert!(
            diagnostics
                .errors
                .iter()
                .any(|error| error.path == "/duration"),
            "{:?}",
            &diagnostics.errors[..3]
        );
        assert_eq!(diagnostics.errors.len(), MAX_LISTED_ERRORS + 1);
        assert_eq!(diagnostics.total(), 1_001);
    }

    #[test]
    fn past_ten_thousand_schema_failures_counting_stops_and_the_count_says_at_least() {
        let request = serde_json::json!({
            "model": "Omni-Flash-Ext",
            "prompt": "a fox",
            "image_urls": vec!["ftp://x"; 20_000],
        });
        let diagnostics = model().prepare(request).expect_err("invalid");
        assert!(diagnostics.count_is_lower_bound);
        assert_eq!(diagnostics.errors.len(), MAX_LISTED_ERRORS + 1);
        let last = &diagnostics.errors[MAX_LISTED_ERRORS].message;
        assert!(last.starts_with("at least "), "{last}");
    }

    #[test]
    fn a_request_with_fewer_errors_than_the_limit_lists_them_all_and_no_count() {
        let diagnostics = model()
            .prepare(with_unknown_keys(3, true))
            .expect_err("invalid");
        assert_eq!(diagnostics.errors.len(), 4);
        assert_eq!(diagnostics.not_shown, 0);
    }

    #[test]
    fn a_value_that_looks_like_an_allowed_one_is_explained_by_code_point_and_shown_escaped() {
        for (given, shown, note) in [
            (
                "720p\u{200b}",
                "\"720p\\u{200b}\"",
                "it differs from 720p at character 5: U+200B ZERO WIDTH SPACE",
            ),
            (
                "720\u{440}",
                "720\u{440}",
                "it differs from 720p at character 4: U+0440 CYRILLIC SMALL LETTER ER",
            ),
            (
                "720p\u{a0}",
                "\"720p\\u{a0}\"",
                "it differs from 720p at character 5: U+00A0 NO-BREAK SPACE",
            ),
            (
                "\u{ff17}20p",
                "\u{ff17}20p",
                "it differs from 720p at character 1: U+FF17 FULLWIDTH DIGIT SEVEN",
            ),
        ] {
            let request = serde_json::json!({
                "model": "Omni-Flash-Ext", "prompt": "a fox", "resolution": given
            });
            let diagnostics = model().prepare(request).expect_err("not an allowed value");
            let message = &diagnostics.errors[0].message;
            assert!(
                message.starts_with(&format!("{shown} is not allowed")),
                "{message}"
            );
            assert!(message.ends_with(note), "{message}");
        }
    }

    #[test]
    fn control_characters_in_values_and_unknown_keys_never_reach_a_message_raw() {
        let request = serde_json::json!({
            "model": "Omni-Flash-Ext",
            "prompt": "a fox",
            "resolution": "\u{1b}[2J\u{7}",
            "k\u{1b}]0;owned\u{7}\r\u{202e}": 1
        });
        let diagnostics = model().prepare(request).expect_err("invalid");
        let printed = diagnostics.to_string();
        assert_eq!(diagnostics.errors.len(), 2, "{printed}");
        for error in &diagnostics.errors {
            assert!(
                !error.message.chars().any(crate::text::is_hidden),
                "{:?}",
                error.message
            );
        }
        for line in printed.lines() {
            assert!(!line.chars().any(crate::text::is_hidden), "{line:?}");
        }
        assert!(printed.contains("\\u{1b}"), "{printed}");
    }

    #[test]
    fn short_values_cut_long_prompts() {
        let long = Value::String("x".repeat(200));
        assert!(short(&long).chars().count() <= 60);
    }
}
