//! Running the compiled schema and reading its failures as the spec's words.
//!
//! Owns the mapping from a `jsonschema` failure (instance path, schema path,
//! keyword) to a `Diagnostic`: the nearest `x-vidspec` annotation above the
//! failing schema node gives the field, rule, upstream code and fixed message;
//! the failing keyword and the request value fill in the rest. It never prints
//! a whole request (prompts stay out of messages) and must not decide validity
//! itself: the schema does.

use std::collections::BTreeMap;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use crate::compile::Annotation;
use crate::compile::condition::{join_or, show};
use crate::diagnostics::{Diagnostic, Diagnostics, MAX_LISTED_ERRORS};

/// Schema failures looked at for one request; past this many the count of
/// errors not shown is a lower bound (a request of a million bad array items
/// costs no more than this).
const MAX_EXAMINED_FAILURES: usize = 10_000;

/// Stands in for a failing node no `x-vidspec` annotation covers.
static NO_ANNOTATION: std::sync::LazyLock<Annotation> =
    std::sync::LazyLock::new(Annotation::default);

/// What the mapper needs: the model id, the annotations of its schema and
/// what messages quote of its nodes.
pub(crate) struct Mapper<'a> {
    pub model: &'a str,
    pub annotations: &'a BTreeMap<String, Annotation>,
    pub nodes: &'a BTreeMap<String, NodeFacts>,
}

/// What messages quote of one schema node: its bounds, the alternatives of
/// its `anyOf` in words, and its property names. Gathered once per model, so
/// a message never walks the schema.
#[derive(Debug, Default)]
pub(crate) struct NodeFacts {
    minimum: Option<Value>,
    maximum: Option<Value>,
    any_of: Option<Vec<String>>,
    properties: Option<Vec<String>>,
}

/// The facts of every schema node that has any, by JSON pointer.
pub(crate) fn node_facts(schema: &Value) -> BTreeMap<String, NodeFacts> {
    let mut out = BTreeMap::new();
    crate::compile::each_schema_object(schema, &mut |pointer, object| {
        let facts = NodeFacts {
            minimum: object.get("minimum").cloned(),
            maximum: object.get("maximum").cloned(),
            any_of: object
                .get("anyOf")
                .and_then(Value::as_array)
                .map(|options| options.iter().map(describe_option).collect()),
            properties: object
                .get("properties")
                .and_then(Value::as_object)
                .map(|properties| properties.keys().cloned().collect()),
        };
        if facts.minimum.is_some()
            || facts.maximum.is_some()
            || facts.any_of.is_some()
            || facts.properties.is_some()
        {
            out.insert(pointer.to_owned(), facts);
        }
    });
    out
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
            self.map(
                error.instance_path().as_str(),
                error.schema_path().as_str(),
                error.kind(),
                error.instance().as_ref(),
                &mut out,
            );
        }
        // Unknown keys fill the places the other failures left.
        let mut room = MAX_LISTED_ERRORS.saturating_sub(out.len());
        for keys in &unknown {
            let known: &[String] = self
                .node(&keys.schema_parent)
                .and_then(|node| node.properties.as_deref())
                .unwrap_or_default();
            let shown = keys.names.len().min(room);
            room -= shown;
            not_shown += (keys.count - shown) as u64;
            for name in &keys.names[..shown] {
                out.push(self.unknown_field(&keys.instance_path, name, known));
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
        let message = match did_you_mean(name, known) {
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

    /// The nearest annotation at or above `schema_path`, and where it is.
    fn annotation_at<'p>(&self, schema_path: &'p str) -> (Option<&Annotation>, &'p str) {
        let mut pointer = schema_path;
        loop {
            if let Some(annotation) = self.annotations.get(pointer) {
                return (Some(annotation), pointer);
            }
            match pointer.rfind('/') {
                Some(index) if index > 0 => pointer = &pointer[..index],
                _ => return (None, ""),
            }
        }
    }

    fn node(&self, pointer: &str) -> Option<&NodeFacts> {
        self.nodes.get(pointer)
    }

    fn map(
        &self,
        instance_path: &str,
        schema_path: &str,
        kind: &ValidationErrorKind,
        instance: &Value,
        out: &mut Vec<Diagnostic>,
    ) {
        let model = self.model;
        if let ValidationErrorKind::Required { property } = kind {
            let name = show(property);
            let (annotation, _) = self.annotation_at(schema_path);
            let from_rule = annotation
                .filter(|annotation| annotation.rule.is_some() && annotation.field.is_none());
            let (rule, code, message) = match from_rule {
                Some(annotation) => {
                    let message = match (&annotation.message, &annotation.scope) {
                        (Some(message), _) => format!("{message} ({name} is missing)"),
                        (None, Some(scope)) => format!("give {name} {scope}"),
                        (None, None) => format!("give {name}"),
                    };
                    (annotation.rule.clone(), annotation.code.clone(), message)
                }
                None => {
                    let field = self.annotations.get(&format!(
                        "{}/properties/{}",
                        parent(schema_path),
                        crate::compile::escape(&name)
                    ));
                    let message = format!("{name} is required for {model}: add it");
                    (
                        field.and_then(|field| field.rule.clone()),
                        None,
                        with_hint(message, field),
                    )
                }
            };
            out.push(Diagnostic {
                path: format!("{instance_path}/{}", crate::compile::escape(&name)),
                rule,
                code,
                message,
            });
            return;
        }

        let (annotation, annotated_at) = self.annotation_at(schema_path);
        let annotation = annotation.unwrap_or(&NO_ANNOTATION);
        let scope = annotation
            .scope
            .as_ref()
            .map(|scope| format!(" {scope}"))
            .unwrap_or_default();
        let value = short(instance);
        let field = annotation.field.as_deref().unwrap_or("the value");
        // Looked up only for the messages that quote the schema (a pointer walk
        // through the schema is not free).
        let node = || {
            self.node(parent(schema_path))
                .or_else(|| self.node(annotated_at))
        };
        let message = match kind {
            ValidationErrorKind::Constant { expected_value } if field == "model" => format!(
                "this request names model {value} but is checked as {}; fix model or choose the model with --model",
                show(expected_value)
            ),
            ValidationErrorKind::Enum { .. }
            | ValidationErrorKind::Constant { .. }
            | ValidationErrorKind::Pattern { .. }
                if annotation.allowed.is_some() =>
            {
                let words = &annotation.allowed_words;
                // A value drawn like an allowed one is explained character by
                // character; else a near miss is suggested.
                let look_alike = instance
                    .as_str()
                    .map(|text| crate::text::look_alike_note(text, words))
                    .unwrap_or_default();
                let close = if look_alike.is_empty() {
                    instance
                        .as_str()
                        .and_then(|text| close_value(text, words))
                        .map(|close| format!(" (did you mean {close}?)"))
                        .unwrap_or_default()
                } else {
                    look_alike.clone()
                };
                match annotation.message.clone() {
                    Some(message) => message + &look_alike,
                    // The commonest messages are joined, not formatted.
                    None if words.len() == 1 => [
                        value.as_str(),
                        " is not allowed for ",
                        model,
                        &scope,
                        "; use ",
                        &words[0],
                        &close,
                    ]
                    .concat(),
                    None => [
                        value.as_str(),
                        " is not allowed for ",
                        model,
                        &scope,
                        "; use one of ",
                        &annotation.allowed_joined,
                        &close,
                    ]
                    .concat(),
                }
            }
            ValidationErrorKind::Pattern { pattern } => match &annotation.expected {
                Some(expected) => format!("{value} is not {expected}"),
                None => format!("{value} does not match the pattern {pattern}"),
            },
            ValidationErrorKind::Type { kind } => {
                let expected = type_words(kind);
                let hint = match (instance, expected.as_str()) {
                    (Value::String(text), "an integer" | "a number")
                        if text.trim().parse::<f64>().is_ok() =>
                    {
                        format!(" (write {} without quotes)", text.trim())
                    }
                    (Value::String(text), "a boolean")
                        if matches!(text.as_str(), "true" | "false") =>
                    {
                        format!(" (write {text} without quotes)")
                    }
                    _ => String::new(),
                };
                format!(
                    "{field} must be {expected}, not {}{hint}",
                    crate::diagnostics::type_words(instance)
                )
            }
            ValidationErrorKind::Minimum { .. }
            | ValidationErrorKind::Maximum { .. }
            | ValidationErrorKind::ExclusiveMinimum { .. }
            | ValidationErrorKind::ExclusiveMaximum { .. } => {
                range_message(&value, model, &scope, node())
            }
            ValidationErrorKind::AnyOf { .. } if annotation.count_message.is_some() => format!(
                "{}{scope}, not {}",
                annotation.count_message.clone().unwrap_or_default(),
                instance.as_array().map(Vec::len).unwrap_or(0)
            ),
            ValidationErrorKind::AnyOf { .. }
                if annotation.message.is_none() && node().is_some() =>
            {
                let words = node()
                    .and_then(|node| node.any_of.as_deref())
                    .unwrap_or_default();
                format!(
                    "{value} is not allowed for {model}{scope}; use {}",
                    join_or(words)
                )
            }
            ValidationErrorKind::MinLength { limit } => {
                if *limit <= 1 {
                    format!("{field} must not be empty")
                } else {
                    format!(
                        "{field} is {} characters long; it needs at least {limit}",
                        char_count(instance)
                    )
                }
            }
            ValidationErrorKind::MaxLength { limit } => format!(
                "{field} is {} characters long; at most {limit} are allowed for {model}{scope}",
                char_count(instance)
            ),
            ValidationErrorKind::MinItems { limit } => match &annotation.message {
                Some(message) => message.clone(),
                None => format!(
                    "{field} holds {} item(s); at least {limit} needed{scope}",
                    instance.as_array().map(Vec::len).unwrap_or(0)
                ),
            },
            ValidationErrorKind::MaxItems { limit } => match &annotation.message {
                Some(message) => message.clone(),
                None => format!(
                    "{field} holds {} item(s); at most {limit} allowed for {model}{scope}",
                    instance.as_array().map(Vec::len).unwrap_or(0)
                ),
            },
            ValidationErrorKind::OneOfNotValid { .. } => format!(
                "{} (none given)",
                annotation
                    .message
                    .clone()
                    .unwrap_or_else(|| "give exactly one of the alternatives".into())
            ),
            ValidationErrorKind::OneOfMultipleValid { .. } => format!(
                "{} (more than one given)",
                annotation
                    .message
                    .clone()
                    .unwrap_or_else(|| "give exactly one of the alternatives".into())
            ),
            _ => annotation
                .message
                .clone()
                .unwrap_or_else(|| format!("{field} is not valid for {model}{scope}")),
        };
        let path = match (kind, &annotation.field) {
            (ValidationErrorKind::Not { .. }, Some(name)) if instance_path.is_empty() => {
                format!("/{}", crate::compile::escape(name))
            }
            _ => instance_path.to_owned(),
        };
        out.push(Diagnostic {
            path,
            rule: annotation.rule.clone(),
            code: annotation.code.clone(),
            message: with_hint(message, Some(annotation)),
        });
    }
}

fn with_hint(message: String, annotation: Option<&Annotation>) -> String {
    match annotation.and_then(|annotation| annotation.hint.as_ref()) {
        Some(hint) => format!("{message}; {hint}"),
        None => message,
    }
}

fn range_message(value: &str, model: &str, scope: &str, node: Option<&NodeFacts>) -> String {
    let min = node.and_then(|node| node.minimum.as_ref()).map(show);
    let max = node.and_then(|node| node.maximum.as_ref()).map(show);
    match (min, max) {
        (Some(min), Some(max)) => [
            value,
            " is out of range for ",
            model,
            scope,
            "; use ",
            &min,
            " to ",
            &max,
        ]
        .concat(),
        (Some(min), None) => format!("{value} is too small for {model}{scope}; use {min} or more"),
        (None, Some(max)) => format!("{value} is too large for {model}{scope}; use {max} or less"),
        (None, None) => format!("{value} is out of range for {model}{scope}"),
    }
}

fn describe_option(option: &Value) -> String {
    if let Some(values) = option.get("enum").and_then(Value::as_array) {
        return join_or(&values.iter().map(show).collect::<Vec<_>>());
    }
    let min = option.get("minimum").map(show);
    let max = option.get("maximum").map(show);
    match (min, max) {
        (Some(min), Some(max)) => format!("{min} to {max}"),
        (Some(min), None) => format!("{min} or more"),
        (None, Some(max)) => format!("{max} or less"),
        (None, None) => "another value".to_owned(),
    }
}

fn parent(pointer: &str) -> &str {
    match pointer.rfind('/') {
        Some(index) => &pointer[..index],
        None => "",
    }
}

fn type_words(kind: &TypeKind) -> String {
    let name = match kind {
        TypeKind::Single(single) => single.to_string(),
        TypeKind::Multiple(set) => set
            .iter()
            .map(|single| single.to_string())
            .collect::<Vec<_>>()
            .join(" or "),
    };
    match name.as_str() {
        "integer" => "an integer".to_owned(),
        "array" => "an array".to_owned(),
        "object" => "an object".to_owned(),
        other => format!("a {other}"),
    }
}

fn char_count(value: &Value) -> usize {
    value.as_str().map(|text| text.chars().count()).unwrap_or(0)
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

/// The closest candidate to `name`, when it is close enough to be a typo
/// (letter case ignored).
pub(crate) fn did_you_mean<S: AsRef<str>>(name: &str, candidates: &[S]) -> Option<String> {
    let name_length = name.chars().count();
    let mut row = Vec::new();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let candidate = candidate.as_ref();
        let candidate_length = candidate.chars().count();
        let limit = (candidate_length.max(name_length) / 3).max(1);
        // Lengths that differ by more than the limit cannot be that close:
        // skip the quadratic comparison (an unknown key may be megabytes long).
        if name_length.abs_diff(candidate_length) > limit {
            continue;
        }
        let distance = edit_distance_with(name, candidate, &mut row);
        if distance <= limit && best.is_none_or(|(smallest, _)| distance < smallest) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate.to_owned())
}

/// A close enum value: the same but for case, or one edit away in a longer word.
fn close_value(text: &str, values: &[String]) -> Option<String> {
    values
        .iter()
        .find(|value| value.eq_ignore_ascii_case(text))
        .or_else(|| {
            let length = text.chars().count();
            let mut row = Vec::new();
            values.iter().find(|value| {
                let value_length = value.chars().count();
                value_length >= 5
                    && length.abs_diff(value_length) <= 1
                    && edit_distance_with(text, value, &mut row) <= 1
            })
        })
        .cloned()
}

#[cfg(test)]
fn edit_distance(left: &str, right: &str) -> usize {
    edit_distance_with(left, right, &mut Vec::new())
}

/// Levenshtein distance ignoring letter case, in one row (on the stack for
/// short words, else in `row`; on bytes for ASCII, on lower-cased characters
/// otherwise).
fn edit_distance_with(left: &str, right: &str, row: &mut Vec<usize>) -> usize {
    if left.is_ascii() && right.is_ascii() {
        let (left, right) = (left.as_bytes(), right.as_bytes());
        let mut stack = [0usize; 48];
        let row: &mut [usize] = if right.len() < stack.len() {
            &mut stack[..=right.len()]
        } else {
            row.resize(right.len() + 1, 0);
            &mut row[..]
        };
        levenshtein(left, right, row, u8::eq_ignore_ascii_case)
    } else {
        let left: Vec<char> = left.to_lowercase().chars().collect();
        let right: Vec<char> = right.to_lowercase().chars().collect();
        row.resize(right.len() + 1, 0);
        levenshtein(&left, &right, &mut row[..], |left, right| left == right)
    }
}

/// Levenshtein distance in `row` (exactly `right.len() + 1` long).
fn levenshtein<T>(
    left: &[T],
    right: &[T],
    row: &mut [usize],
    same: impl Fn(&T, &T) -> bool,
) -> usize {
    for (column, cell) in row.iter_mut().enumerate() {
        *cell = column;
    }
    for (index, left_item) in left.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = index + 1;
        for (column, right_item) in right.iter().enumerate() {
            let substitution = diagonal + usize::from(!same(left_item, right_item));
            diagonal = row[column + 1];
            row[column + 1] = substitution.min(diagonal + 1).min(row[column] + 1);
        }
    }
    row[right.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_finds_a_one_letter_typo() {
        assert_eq!(
            did_you_mean("durtion", &["duration", "resolution"]),
            Some("duration".into())
        );
    }

    #[test]
    fn did_you_mean_stays_quiet_for_unrelated_names() {
        assert_eq!(did_you_mean("colour", &["duration", "seed"]), None);
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("durtion", "duration"), 1);
        assert_eq!(edit_distance("größe", "grösse"), 2);
        assert_eq!(edit_distance("Duration", "dURATION"), 0);
        assert_eq!(edit_distance("GRÖSSE", "größe"), 2);
    }

    fn model() -> &'static crate::Model {
        static REGISTRY: std::sync::LazyLock<crate::Registry> =
            std::sync::LazyLock::new(crate::Registry::embedded);
        REGISTRY.model("Omni-Flash-Ext").expect("an embedded model")
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
