//! Which specs the command uses, and finding a model in them by id.
//!
//! Owns the choice between the embedded registry and `--specs DIR` (whose
//! lint warnings it prints to stderr, each line escaped), and the "unknown
//! model" message with its did-you-mean suggestion. It must not decide exit
//! codes, and must not know any particular model: the ids it mentions all
//! come from the registry.

use std::path::Path;

use vidspec_core::{Model, Registry, SpecErrors};

/// The registry for this run: the embedded specs, plus `dir` when given.
pub fn load(dir: Option<&Path>) -> Result<Registry, SpecErrors> {
    match dir {
        Some(dir) => Registry::load_dir(dir),
        None => Ok(Registry::embedded()),
    }
}

/// The registry for a command's `--specs`, with the context that names the
/// directory when it is broken.
/// The lint warnings of a `--specs` directory are printed to stderr.
pub fn load_for(dir: Option<&Path>) -> anyhow::Result<Registry> {
    use anyhow::Context;
    let registry = load(dir)
        .map_err(anyhow::Error::new)
        .with_context(|| match dir {
            Some(dir) => format!("cannot use the specs in {}", dir.display()),
            None => "cannot use the built-in specs".to_owned(),
        })?;
    for warning in registry.warnings() {
        let line = format!("warning: {warning}");
        eprintln!("{}", crate::output::terminal(&line));
    }
    Ok(registry)
}

/// The model with this id, or a sentence saying it is unknown, suggesting the
/// closest id and listing the known ones.
pub fn find<'r>(registry: &'r Registry, id: &str) -> Result<&'r Model, String> {
    registry
        .model(id)
        .ok_or_else(|| unknown_model(registry, id))
}

/// The message for an unknown model id.
pub fn unknown_model(registry: &Registry, id: &str) -> String {
    let ids = registry.ids();
    // The id may come from a request: quoted with control characters escaped, cut.
    let shown = vidspec_core::text::quote_short(id);
    match closest(id, &ids) {
        Some(near) => format!(
            "unknown model {shown}: did you mean \"{near}\"? (known: {})",
            known(registry)
        ),
        None => format!("unknown model {shown} (known: {})", known(registry)),
    }
}

/// The known model ids as a comma-separated list.
pub fn known(registry: &Registry) -> String {
    let ids = registry.ids();
    if ids.is_empty() {
        "none".to_owned()
    } else {
        ids.join(", ")
    }
}

/// The id `wanted` most likely meant (core's one did-you-mean policy).
fn closest(wanted: &str, candidates: &[&str]) -> Option<String> {
    vidspec_core::suggest::did_you_mean(wanted, candidates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_prefers_a_case_insensitive_match() {
        assert_eq!(
            closest("alpha-one", &["Alpha-One", "alpha-onx"]),
            Some("Alpha-One".to_owned())
        );
    }

    #[test]
    fn closest_accepts_a_small_typo() {
        assert_eq!(
            closest("alpah-one", &["beta", "alpha-one"]),
            Some("alpha-one".to_owned())
        );
    }

    #[test]
    fn closest_completes_the_only_name_that_starts_with_it() {
        assert_eq!(
            closest("VEO-fast", &["veo-fast-official", "veo-quality-official"]),
            Some("veo-fast-official".to_owned())
        );
    }

    #[test]
    fn closest_does_not_complete_a_prefix_of_several_names_or_a_short_one() {
        assert_eq!(
            closest("veo-", &["veo-fast-official", "veo-quality-official"]),
            None
        );
        assert_eq!(closest("ve", &["veo-fast-official"]), None);
    }

    #[test]
    fn closest_rejects_a_far_name() {
        assert_eq!(closest("zzz", &["alpha-one", "beta-two"]), None);
    }
}
