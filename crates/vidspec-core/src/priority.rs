//! Priority between fields outside modes (`takes_priority_over`): when the
//! winning field has an effective value, each field it takes priority over
//! loses — it leaves the body and the effective values, its default too — and
//! a loser the request gave is named in a warning.
//!
//! Owns the pairs (read once when the model compiles) and the decision for one
//! request. It must not change values: `shape` drops what it names, as it does
//! for fields that lost dispatch. The exported schema says the same thing
//! through `construct::Context::overruled`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::diagnostics::Warning;
use crate::plan::default_in;
use crate::spec::Field;

/// One "`winner` takes priority over `loser`", with the names each may be given under.
#[derive(Debug, Clone)]
pub(crate) struct Pair {
    winner: String,
    loser: String,
    /// The loser's own name and its alias.
    loser_spellings: Vec<String>,
    /// The winner's seed-rules number, cited in the warning.
    rule: Option<String>,
}

/// Every pair of a model's top-level fields, in field order.
pub(crate) fn pairs(fields: &BTreeMap<String, Field>) -> Vec<Pair> {
    let mut out = Vec::new();
    for (winner, field) in fields {
        for loser in &field.takes_priority_over {
            let mut loser_spellings = vec![loser.clone()];
            loser_spellings.extend(fields.get(loser).and_then(|field| field.alias.clone()));
            out.push(Pair {
                winner: winner.clone(),
                loser: loser.clone(),
                loser_spellings,
                rule: field.rule.clone(),
            });
        }
    }
    out
}

/// What one request needs for the decision.
pub(crate) struct Request<'a> {
    pub fields: &'a BTreeMap<String, Field>,
    pub request: &'a Map<String, Value>,
    /// The mode's defaults, name-sorted.
    pub defaults: &'a [(String, Value)],
}

impl Request<'_> {
    /// Whether `name` is carried under its name or its alias.
    fn carried(&self, name: &str) -> bool {
        self.request.contains_key(name)
            || self
                .fields
                .get(name)
                .and_then(|field| field.alias.as_ref())
                .is_some_and(|alias| self.request.contains_key(alias))
    }

    /// Whether `name` has a value in the request as given (carried, or
    /// defaulted) that no field taking priority over it takes away — what the
    /// compiled schema reads (`construct::Context::overruled`), so the two
    /// agree even when dispatch later drops the winner.
    fn has_value(&self, pairs: &[Pair], name: &str, depth: usize) -> bool {
        if depth > pairs.len() {
            return false;
        }
        (self.carried(name) || default_in(self.defaults, name).is_some())
            && !pairs
                .iter()
                .filter(|pair| pair.loser == name)
                .any(|pair| self.has_value(pairs, &pair.winner, depth + 1))
    }
}

/// Adds to `losing` every field a winner with an effective value takes
/// priority over, with a warning for each one the request gave.
pub(crate) fn apply(
    pairs: &[Pair],
    request: &Request<'_>,
    losing: &mut Vec<String>,
    warnings: &mut Vec<Warning>,
) {
    if pairs.is_empty() {
        return;
    }
    for pair in pairs {
        if losing.contains(&pair.loser) || !request.has_value(pairs, &pair.winner, 0) {
            continue;
        }
        losing.push(pair.loser.clone());
        let Some(given) = pair
            .loser_spellings
            .iter()
            .find(|spelling| request.request.contains_key(spelling.as_str()))
        else {
            continue;
        };
        let rule = pair
            .rule
            .as_ref()
            .map(|rule| format!(" ({rule})"))
            .unwrap_or_default();
        warnings.push(Warning {
            path: format!("/{}", crate::compile::escape(given)),
            message: format!(
                "{given} is ignored and not sent: {} takes priority over {}{rule}; remove {given} or {}",
                pair.winner, pair.loser, pair.winner
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(yaml: &str) -> BTreeMap<String, Field> {
        serde_saphyr::from_str(yaml).expect("fields")
    }

    fn losers(fields: &BTreeMap<String, Field>, request: Value) -> (Vec<String>, Vec<Warning>) {
        let Value::Object(request) = request else {
            return (Vec::new(), Vec::new());
        };
        let (mut losing, mut warnings) = (Vec::new(), Vec::new());
        apply(
            &pairs(fields),
            &Request {
                fields,
                request: &request,
                defaults: &[("c".to_owned(), json!(1))],
            },
            &mut losing,
            &mut warnings,
        );
        (losing, warnings)
    }

    #[test]
    fn in_a_chain_only_a_field_whose_winner_keeps_its_value_loses() {
        let chain = fields(
            "a: {type: string, takes_priority_over: [b]}\nb: {type: string, takes_priority_over: [c]}\nc: {type: integer}\n",
        );
        // a takes b away, so b takes nothing from c.
        let (losing, warnings) = losers(&chain, json!({"a": "x", "b": "y"}));
        assert_eq!(losing, ["b"]);
        assert_eq!(warnings.len(), 1);
        // b given alone takes c away, its default too, silently.
        let (losing, warnings) = losers(&chain, json!({"b": "y"}));
        assert_eq!(losing, ["c"]);
        assert!(warnings.is_empty());
        // Without winners nothing changes.
        assert_eq!(losers(&chain, json!({"c": 2})).0, Vec::<String>::new());
    }
}
