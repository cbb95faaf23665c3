//! The `exclusive` action: at most one of the named fields, except the listed
//! pairs. One node per forbidden pair.
//!
//! Owns the compile step, the message and the words.

use serde_json::Value;

use super::{Annotation, Context, Failure, Kind, Said, Tag, all, not, present, wrap};
use crate::spec::Exclusive;
use crate::words::{Style, names_or};

/// One node per pair of fields that may not be given together.
pub(crate) fn compile(context: &Context<'_>, exclusive: &Exclusive, tag: &Tag) -> Vec<Value> {
    let mut out = Vec::new();
    for (index, first) in exclusive.fields.iter().enumerate() {
        for second in &exclusive.fields[index + 1..] {
            let allowed = exclusive.allow.iter().any(|pair| {
                (&pair[0] == first && &pair[1] == second)
                    || (&pair[0] == second && &pair[1] == first)
            });
            if allowed {
                continue;
            }
            let annotation = Annotation {
                field: Some(second.clone()),
                ..Annotation::of(Kind::Exclusive {
                    first: first.clone(),
                    second: second.clone(),
                })
            }
            .tagged(tag);
            let both = all::of(vec![
                present::one(context, first),
                present::one(context, second),
            ]);
            out.push(wrap(not::of(both), &annotation));
        }
    }
    out
}

/// `a and b cannot be given together: remove one`.
pub(crate) fn message(failure: &Failure<'_>, first: &str, second: &str) -> Said {
    Said {
        message: failure
            .or_generated(|| format!("{first} and {second} cannot be given together: remove one")),
        key: Some(second.to_owned()),
    }
}

/// `at most one of a, b or c, except a with b`.
pub fn words(exclusive: &Exclusive, style: Style) -> String {
    let mut words = format!("at most one of {}", names_or(&exclusive.fields, style));
    if !exclusive.allow.is_empty() {
        let pairs: Vec<String> = exclusive
            .allow
            .iter()
            .map(|[a, b]| format!("{} with {}", style.name(a), style.name(b)))
            .collect();
        words.push_str(&format!(", except {}", pairs.join(", ")));
    }
    words
}
