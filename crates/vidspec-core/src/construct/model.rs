//! The `model` key of a request: it names the model id the schema checks.
//!
//! Owns the node, its message and its words.

use serde_json::{Value, json};

use super::{Annotation, Failure, Kind};

/// The `model` property's schema for model `id`.
pub(crate) fn compile(id: &str, sent: bool, rule: Option<String>) -> Value {
    let annotation = Annotation {
        field: Some("model".into()),
        rule,
        ..Annotation::of(Kind::Model { id: id.to_owned() })
    };
    json!({
        "const": id,
        "description": if sent {
            "The model id (sent)."
        } else {
            "Selects the model; not sent: this endpoint takes no model field."
        },
        "x-vidspec": annotation.to_json(),
    })
}

/// `this request names model X but is checked as Y; fix model`. Neutral:
/// a front end that chose Y for the request adds how to choose otherwise.
pub(crate) fn message(failure: &Failure<'_>, id: &str) -> String {
    format!(
        "this request names model {} but is checked as {id}; fix model",
        failure.value()
    )
}
