//! Which specs the command uses, and finding a model in them by id.
//!
//! Owns the choice between the embedded registry and `--specs DIR` (whose
//! lint warnings it prints to stderr, each line escaped), and the "unknown
//! model" message with its did-you-mean suggestion. It must not decide exit
//! codes, and must not know any particular model: the ids it mentions all
//! come from the registry.

use std::path::Path;

use vidspec_core::{Model, Registry, SpecErrors};

/// The registry of a run: the embedded one (built once, shared), or one
/// built for `--specs DIR`. Reads as a [`Registry`].
#[derive(Debug)]
pub enum Loaded {
    /// The embedded specs alone.
    Embedded(&'static Registry),
    /// The embedded specs with a directory's added.
    Dir(Box<Registry>),
}

impl std::ops::Deref for Loaded {
    type Target = Registry;

    fn deref(&self) -> &Registry {
        match self {
            Loaded::Embedded(registry) => registry,
            Loaded::Dir(registry) => registry,
        }
    }
}

/// The registry for this run: the embedded specs, plus `dir` when given.
pub fn load(dir: Option<&Path>) -> Result<Loaded, SpecErrors> {
    match dir {
        Some(dir) => Registry::load_dir(dir).map(|registry| Loaded::Dir(Box::new(registry))),
        None => Ok(Loaded::Embedded(Registry::embedded())),
    }
}

/// The registry for a command's `--specs`, with the context that names the
/// directory when it is broken.
/// The lint warnings of a `--specs` directory are printed to stderr.
pub fn load_for(dir: Option<&Path>) -> anyhow::Result<Loaded> {
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
    match vidspec_core::suggest::did_you_mean(id, &ids) {
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
