//! Which specs the command uses, and finding a model in them by id.
//!
//! Owns the choice between the embedded registry and `--specs DIR` (whose
//! lint warnings it prints to stderr, each line escaped). Finding a model by
//! id, and the "unknown model" message with its did-you-mean, are the
//! library's (`Registry::lookup`). It must not decide exit
//! codes, and must not know any particular model: the ids it mentions all
//! come from the registry.

use std::path::Path;

use vidspec_core::{Model, Registry, SharedRegistry, SpecErrors};

/// The registry for this run: the embedded specs, plus `dir` when given.
pub fn load(dir: Option<&Path>) -> Result<SharedRegistry, SpecErrors> {
    match dir {
        Some(dir) => Registry::load_dir(dir).map(SharedRegistry::from),
        None => Ok(SharedRegistry::Embedded(Registry::embedded())),
    }
}

/// The registry for a command's `--specs`, with the context that names the
/// directory when it is broken.
/// The lint warnings of a `--specs` directory are printed to stderr.
pub fn load_for(dir: Option<&Path>) -> anyhow::Result<SharedRegistry> {
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
/// closest id and listing the known ones (the library's words).
pub fn find<'r>(registry: &'r Registry, id: &str) -> Result<&'r Model, String> {
    registry.lookup(id).map_err(|error| error.to_string())
}
