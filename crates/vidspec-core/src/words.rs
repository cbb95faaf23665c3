//! The words of the spec language: how values, lists, conditions and actions
//! read, for error messages and for `docs/models.md` alike.
//!
//! One `Style` decides how a name or a value is set: bare in messages, as
//! inline code in Markdown. Compound conditions are grouped: a part that is
//! itself an `any` inside an `all` (or the other way round) is put in
//! parentheses, so "a is given and (b is big or c is given)" reads one way only.
//! It owns wording only; it must not decide anything about a request.

use serde_json::Value;

use crate::spec::{Action, Bounds, Condition};

/// How names and values are set in text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Bare, for messages on a terminal.
    Plain,
    /// As Markdown inline code, for generated documentation.
    Markdown,
}

impl Style {
    /// A field, model or mode name.
    pub fn name(self, text: &str) -> String {
        match self {
            Style::Plain => text.to_owned(),
            Style::Markdown => code(text),
        }
    }

    /// A JSON value.
    pub fn value(self, value: &Value) -> String {
        match self {
            Style::Plain => show(value),
            Style::Markdown => match value {
                Value::String(text) if text.is_empty() => code("\"\""),
                other => code(&show(other)),
            },
        }
    }

    fn names(self, names: &[String]) -> Vec<String> {
        names.iter().map(|name| self.name(name)).collect()
    }
}

/// Inline code, with a longer fence when the text holds a backtick.
fn code(text: &str) -> String {
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

/// A value as a person reads it: strings bare, everything else as JSON.
pub fn show(value: &Value) -> String {
    match value {
        Value::String(text) if text.is_empty() => "\"\"".to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `a`, `a and b`, `a, b and c`.
pub(crate) fn join_and<S: AsRef<str>>(items: &[S]) -> String {
    join_with(items, "and")
}

/// `a`, `a or b`, `a, b or c`.
pub(crate) fn join_or<S: AsRef<str>>(items: &[S]) -> String {
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

/// Item counts: `1 item`, `0, 1 or 3 items`.
pub(crate) fn item_counts(counts: &[u64]) -> String {
    match counts {
        [1] => "1 item".to_owned(),
        _ => format!(
            "{} items",
            join_or(&counts.iter().map(u64::to_string).collect::<Vec<_>>())
        ),
    }
}

/// A condition as a scope, for messages: `when a is given and (b is y or c
/// is given)`, `in first_last_frame mode`, `for viduq3`.
pub(crate) fn scope(condition: &Condition) -> String {
    match condition {
        Condition::Mode(_) | Condition::Variant(_) => condition_words(condition, Style::Plain),
        other => format!("when {}", condition_words(other, Style::Plain)),
    }
}

/// A condition in words, without a leading "when": `a is given and b is x`
/// (each condition kind words itself in its `construct` module).
pub fn condition_words(condition: &Condition, style: Style) -> String {
    crate::construct::condition_words(condition, style)
}

/// A part of a compound condition, in parentheses when it is a compound of
/// the other kind (`any` inside `all`, `all` inside `any`) or a negation.
pub(crate) fn grouped(part: &Condition, inside_all: bool, style: Style) -> String {
    let parenthesise = match part {
        Condition::Any(parts) => inside_all && parts.len() > 1,
        Condition::All(parts) => !inside_all && parts.len() > 1,
        _ => false,
    };
    let words = condition_words(part, style);
    if parenthesise {
        format!("({words})")
    } else {
        words
    }
}

/// What a rule's `then` demands, in words: `require a and b`, `exactly one of a or b`.
pub fn action_words(action: &Action, style: Style) -> String {
    crate::construct::action_words(action, style)
}

/// Bounds in words: `one of 5 or 8`, `1 to 15`, `at most 7 items`.
pub fn bounds_words(bounds: &Bounds, style: Style) -> Vec<String> {
    crate::construct::field::bounds_words(bounds, style)
}

/// A list of names: `a, b and c` (`Style::Plain`) or `` `a`, `b`, `c` ``.
pub(crate) fn names_and(names: &[String], style: Style) -> String {
    join_and(&style.names(names))
}

/// A list of names joined with `or`.
pub(crate) fn names_or(names: &[String], style: Style) -> String {
    join_or(&style.names(names))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Condition {
        serde_saphyr::from_str(yaml).expect("a condition")
    }

    #[test]
    fn an_any_inside_an_all_is_grouped() {
        let condition = parse("all: [{present: a}, {any: [{equals: {b: big}}, {present: c}]}]");
        assert_eq!(
            scope(&condition),
            "when a is given and (b is big or c is given)"
        );
    }

    #[test]
    fn a_negation_reads_as_not_with_its_condition_in_parentheses() {
        let condition = parse("any: [{equals: {b: big}}, {not: {present: c}}]");
        assert_eq!(scope(&condition), "when b is big or not (c is given)");
    }

    #[test]
    fn an_all_inside_an_any_is_grouped() {
        let condition = parse("any: [{all: [{present: a}, {present: b}]}, {present: c}]");
        assert_eq!(
            condition_words(&condition, Style::Markdown),
            "(`a` is given and `b` is given) or `c` is given"
        );
    }
}
