//! The `mode` condition: the request selects one of the named modes (mode
//! priority applied). Mode conditions may not name modes.
//!
//! Owns its compile step and its words.

use serde_json::Value;

use super::{Context, any};
use crate::words::{Style, names_or};

/// The schema that holds when the request selects one of `names`.
pub(crate) fn compile(context: &Context<'_>, names: &[String]) -> Value {
    any::of(
        names
            .iter()
            .map(|name| context.mode_condition(name))
            .collect(),
    )
}

/// `in first_last_frame mode`.
pub fn words(names: &[String], style: Style) -> String {
    format!("in {} mode", names_or(names, style))
}
