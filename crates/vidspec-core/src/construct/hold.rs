//! The `hold` action: a condition itself must hold (for advice, or a rule no
//! other action fits).
//!
//! Owns the compile step, the message and the words.

use serde_json::Value;

use super::{Annotation, Context, Failure, Kind, Tag, wrap};
use crate::spec::Condition;
use crate::words::{Style, condition_words};

/// The node that holds when `inner` holds.
pub(crate) fn compile(context: &Context<'_>, inner: &Condition, tag: &Tag) -> Value {
    let annotation = Annotation::of(Kind::Hold {
        words: condition_words(inner, Style::Plain),
    })
    .tagged(tag);
    wrap(super::condition(context, inner), &annotation)
}

/// The author's message, or `this request breaks rule X: it must hold that …`.
pub(crate) fn message(failure: &Failure<'_>, words: &str) -> String {
    failure.or_generated(|| {
        format!(
            "this request breaks rule {}: it must hold that {words}",
            failure.annotation.rule.as_deref().unwrap_or("?")
        )
    })
}

/// `must hold: a is given`.
pub fn words(inner: &Condition, style: Style) -> String {
    format!("must hold: {}", condition_words(inner, style))
}
