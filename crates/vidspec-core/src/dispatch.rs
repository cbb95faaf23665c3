//! Mode dispatch: the first mode whose condition holds wins; fields that would
//! have triggered a later mode lose and are named in a warning — unless the
//! winning mode uses them (its triggers, its `uses`, the fields its scoped
//! rules name): a winning mode keeps its inputs.
//!
//! Owns mode priority and the "losing fields" rule. It must not change values:
//! `shape` drops what dispatch names.

use serde_json::Value;

use crate::compile::CompiledMode;
use crate::diagnostics::Warning;

/// The outcome of dispatch.
pub(crate) struct Dispatch {
    /// Index of the winning mode.
    pub mode: usize,
    /// Fields to drop because a higher-priority mode won.
    pub losing: Vec<String>,
    /// One warning per losing field.
    pub warnings: Vec<Warning>,
}

/// Picks the mode for `request`; `holds(i)` says whether mode `i`'s condition
/// holds. Later modes are asked only when one of their trigger fields is in the
/// request and could lose, so a plain request costs one condition per mode
/// before the winner.
pub(crate) fn dispatch(
    modes: &[CompiledMode],
    request: &Value,
    holds: impl Fn(usize) -> bool,
) -> Option<Dispatch> {
    let winner = (0..modes.len()).find(|&index| holds(index))?;
    let winning = &modes[winner];
    let mut losing: Vec<String> = Vec::new();
    let mut warnings = Vec::new();
    let could_lose = |field: &String, losing: &[String]| {
        crate::field_path::get_in(request, field).is_some()
            && !winning.uses.contains(field)
            && !losing.contains(field)
    };
    for (index, loser) in modes.iter().enumerate().skip(winner + 1) {
        if !loser
            .triggers
            .iter()
            .any(|field| could_lose(field, &losing))
            || !holds(index)
        {
            continue;
        }
        for field in &loser.triggers {
            if could_lose(field, &losing) {
                losing.push(field.clone());
                let rule = winning
                    .rule
                    .as_ref()
                    .map(|rule| format!(" ({rule})"))
                    .unwrap_or_default();
                warnings.push(Warning {
                    path: crate::field_path::pointer(field),
                    message: format!(
                        "{field} is ignored and not sent: {} takes priority over {}{rule}; remove {field} or the inputs of {}",
                        winning.name, loser.name, winning.name
                    ),
                });
            }
        }
    }
    Some(Dispatch {
        mode: winner,
        losing,
        warnings,
    })
}
