//! The task lifecycle: the five normalised statuses a task moves through
//! (`queued`, `running`, `succeeded`, `failed`, `cancelled`) and the one
//! reading of a raw status spelling into them.
//!
//! Owns the lifecycle's names (the keys `statuses:` may use in the
//! vocabulary and in a spec, and the `status` a `refers_to_task` may name)
//! and [`normalise`]. It must not hold any raw spelling: those are data, in
//! `specs/vocabulary.yaml` and a spec's `task.statuses`, so a gateway that
//! says `generating` is taught by a line of YAML, never by Rust.

use std::collections::{BTreeMap, HashMap};

use serde::de::IgnoredAny;
use serde_saphyr::Spanned;

use crate::diagnostics::Problem;
use crate::load::Source;
use crate::spec::Vocabulary;

/// A normalised task status: where in its life a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lifecycle {
    /// Accepted, not started.
    Queued,
    /// Generating.
    Running,
    /// Finished with a result.
    Succeeded,
    /// Finished without a result.
    Failed,
    /// Cancelled.
    Cancelled,
}

impl Lifecycle {
    /// Every normalised status, in the order a task lives them.
    pub const ALL: [Lifecycle; 5] = [
        Lifecycle::Queued,
        Lifecycle::Running,
        Lifecycle::Succeeded,
        Lifecycle::Failed,
        Lifecycle::Cancelled,
    ];

    /// The name specs use (`succeeded`).
    pub fn name(self) -> &'static str {
        match self {
            Lifecycle::Queued => "queued",
            Lifecycle::Running => "running",
            Lifecycle::Succeeded => "succeeded",
            Lifecycle::Failed => "failed",
            Lifecycle::Cancelled => "cancelled",
        }
    }

    /// The status of a name specs use, exactly as written; `None` for any
    /// other word.
    pub fn from_name(name: &str) -> Option<Lifecycle> {
        Lifecycle::ALL
            .into_iter()
            .find(|status| status.name() == name)
    }

    /// Whether a task in this status will not change any more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Lifecycle::Succeeded | Lifecycle::Failed | Lifecycle::Cancelled
        )
    }

    /// The names, joined for messages (`queued, running, …`).
    pub fn names() -> String {
        Lifecycle::ALL.map(Lifecycle::name).join(", ")
    }
}

/// The normalised status a raw spelling stands for, matched regardless of
/// case, from `statuses` (normalised name → spellings: the vocabulary's
/// merged under a spec's own). `None` when no spelling matches, or when the
/// spelling sits under a key that is no lifecycle name (lint refuses those).
pub fn normalise(statuses: &BTreeMap<String, Vec<String>>, raw: &str) -> Option<Lifecycle> {
    statuses.iter().find_map(|(name, spellings)| {
        spellings
            .iter()
            .any(|spelling| spelling.eq_ignore_ascii_case(raw))
            .then(|| Lifecycle::from_name(name))
            .flatten()
    })
}

/// A problem for each key of the vocabulary's `statuses:` that is no
/// lifecycle name, at the key's line (its spellings could never be read).
pub(crate) fn unknown_status_keys(source: &Source, vocabulary: &Vocabulary) -> Vec<Problem> {
    #[derive(serde::Deserialize)]
    struct StatusesAt {
        #[serde(default)]
        statuses: HashMap<Spanned<String>, IgnoredAny>,
    }
    let unknown: Vec<&String> = vocabulary
        .statuses
        .keys()
        .filter(|name| Lifecycle::from_name(name).is_none())
        .collect();
    if unknown.is_empty() {
        return Vec::new();
    }
    // The vocabulary type holds the keys without their place in the file:
    // read the places again, only when a key is wrong.
    let places: Vec<Spanned<String>> = serde_saphyr::from_str::<StatusesAt>(&source.text)
        .map(|at| at.statuses.into_keys().collect())
        .unwrap_or_default();
    unknown
        .into_iter()
        .map(|name| {
            let place = places.iter().find(|place| &place.value == name);
            Problem {
                file: source.name.clone(),
                line: place.map_or(0, |place| place.referenced.line()),
                column: place.map_or(0, |place| place.referenced.column()),
                message: format!(
                    "statuses: {name} is not one of {} (the lifecycle is the engine's; list a new spelling under one of them)",
                    Lifecycle::names()
                ),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lifecycle_name_reads_back_as_its_status_and_nothing_else_does() {
        for status in Lifecycle::ALL {
            assert_eq!(Lifecycle::from_name(status.name()), Some(status));
        }
        assert_eq!(Lifecycle::from_name("Succeeded"), None);
        assert_eq!(Lifecycle::from_name("completed"), None);
    }

    #[test]
    fn a_raw_spelling_is_read_through_the_data_regardless_of_case() {
        let statuses = BTreeMap::from([("running".to_owned(), vec!["generating".to_owned()])]);
        assert_eq!(normalise(&statuses, "GENERATING"), Some(Lifecycle::Running));
        assert_eq!(normalise(&statuses, "processing"), None);
    }
}
