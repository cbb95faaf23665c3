//! Which billing placeholders may have no value: a `{field}` of a key
//! template whose field a valid request can leave without an effective value
//! (not required, no default, not guaranteed by the mode or the billing case
//! that picks the template) would bill under a key with `-` in it
//! (`sora-2@-s`). Such a placeholder needs a fallback (`{duration|4}`).
//!
//! Owns that judgement only, per model id and per mode; `lint` reports what
//! it finds. It must not compile or run requests, and reads no field by name.

use crate::billing::placeholders_with_fallbacks;
use crate::compile::resolve_fields;
use crate::spec::{Action, Condition, Spec};

/// Every billing placeholder without a fallback whose field may have no
/// value, as messages (one per template, field and model id; the first mode
/// found is named).
pub(crate) fn placeholders_that_may_be_empty(spec: &Spec) -> Vec<String> {
    let billing = &spec.billing.value;
    let mut templates: Vec<(&str, Option<&Condition>)> = vec![(billing.key.as_str(), None)];
    templates.extend(
        billing
            .cases
            .iter()
            .map(|case| (case.key.as_str(), Some(&case.when))),
    );
    // Rules without a condition that require a field: it always has a value.
    let always_required: Vec<&String> = spec
        .rules
        .iter()
        .filter(|rule| rule.value.when.is_none())
        .filter_map(|rule| match &rule.value.then {
            Action::Require(names) => Some(names),
            _ => None,
        })
        .flatten()
        .collect();
    let mut found = Vec::new();
    for variant in &spec.models {
        let id = &variant.value.id;
        let fields = resolve_fields(spec, id);
        // No modes: one implicit mode that ignores nothing.
        let modes: Vec<(Option<&str>, Option<&Condition>, &[String])> = if spec.modes.is_empty() {
            vec![(None, None, &[])]
        } else {
            spec.modes
                .iter()
                .map(|mode| {
                    let mode = &mode.value;
                    (
                        Some(mode.name.as_str()),
                        mode.when.as_ref(),
                        mode.ignores.as_slice(),
                    )
                })
                .collect()
        };
        for (template, case) in &templates {
            for (name, fallback) in placeholders_with_fallbacks(template) {
                if fallback.is_some() || name == "model" {
                    continue;
                }
                let Some(field) = fields.get(&name) else {
                    continue; // an unknown field is reported on its own
                };
                if field.required || always_required.contains(&&name) {
                    continue;
                }
                let empty_in = modes.iter().find(|(mode, when, ignores)| {
                    let case_applies = match (case, mode) {
                        (Some(case), Some(mode)) => may_hold_in_mode(case, mode),
                        _ => true,
                    };
                    let defaulted = field.default.is_some() && !ignores.contains(&name);
                    let by_mode = when.is_some_and(|when| guarantees(when, &name));
                    let by_case = case.is_some_and(|case| guarantees(case, &name));
                    case_applies && !defaulted && !by_mode && !by_case
                });
                if let Some((mode, _, _)) = empty_in {
                    let place = match mode {
                        Some(mode) => format!(" in mode {mode}"),
                        None => String::new(),
                    };
                    found.push(format!(
                        "billing key {template}: {{{name}}} may have no value for {id}{place} ({name} is not required and has no default there), so the key would read -; give it a fallback ({{{name}|…}}), a default, or make it required"
                    ));
                }
            }
        }
    }
    found.dedup();
    found
}

/// Whether `condition` holding means field `name` has a value.
fn guarantees(condition: &Condition, name: &str) -> bool {
    match condition {
        Condition::Present(names) => names.as_slice().iter().any(|named| named == name),
        Condition::Equals(values) => values.contains_key(name),
        Condition::In(values) => values.contains_key(name),
        Condition::All(parts) => parts.iter().any(|part| guarantees(part, name)),
        Condition::Any(parts) => {
            !parts.is_empty() && parts.iter().all(|part| guarantees(part, name))
        }
        _ => false,
    }
}

/// Whether a billing case's condition can hold in mode `mode` (it cannot when
/// it names only other modes).
fn may_hold_in_mode(condition: &Condition, mode: &str) -> bool {
    match condition {
        Condition::Mode(names) => names.as_slice().iter().any(|named| named == mode),
        Condition::All(parts) => parts.iter().all(|part| may_hold_in_mode(part, mode)),
        _ => true,
    }
}
