//! `type: url` with `schemes:`: a string that is a URL of an allowed scheme
//! (http and https when none are named; `data-image` for inline images).
//!
//! Owns the pattern, the node, its message and its words.

use serde_json::{Map, Value, json};

use super::{Failure, Kind, Tag, annotated, field};
use crate::spec::{Field, Scheme};
use crate::words::join_or;

/// The annotated URL node.
pub(crate) fn compile(name: &str, field: &Field, tag: &Tag) -> Value {
    let mut keywords = Map::new();
    keywords.insert("pattern".into(), json!(scheme_pattern(&field.schemes)));
    let annotation = field::about(
        name,
        field,
        Kind::Url {
            expected: words(&field.schemes),
        },
        tag,
    );
    annotated(keywords, &annotation)
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

/// `ftp://x is not a public http:// or https:// URL`.
pub(crate) fn message(failure: &Failure<'_>, expected: &str) -> String {
    let message = failure.or_generated(|| format!("{} is not {expected}", failure.value()));
    field::with_hint(failure, message)
}

/// How people name the schemes (`a public http:// or https:// URL`).
pub fn words(schemes: &[Scheme]) -> String {
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
