//! The `variant` condition: the request is for one of the named model ids.
//! Each schema serves one model id, so it is decided when the spec compiles.
//!
//! Owns its compile step and its words.

use serde_json::Value;

use super::Context;
use crate::words::{Style, names_or};

/// `true` or `false`: whether the compiled model is one of `ids`.
pub(crate) fn compile(context: &Context<'_>, ids: &[String]) -> Value {
    Value::Bool(ids.iter().any(|id| id == context.variant))
}

/// `for viduq3`.
pub fn words(ids: &[String], style: Style) -> String {
    format!("for {}", names_or(ids, style))
}
