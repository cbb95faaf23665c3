//! `models` and `schema`: what the specs offer, without any request.
//!
//! Owns loading the registry for these two commands and the unknown-model
//! message of `schema` (on stderr, exit 1). It must not format JSON or tables
//! itself (`output` does) and must not name any particular model.

use std::io::Write;

use anyhow::Context;

use crate::Exit;
use crate::cli::{ModelsArgs, SchemaArgs};
use crate::output;
use crate::registry;

/// `vidspec models`: lists every model.
pub fn models(args: &ModelsArgs) -> anyhow::Result<Exit> {
    let dir = args.specs.specs.as_deref();
    let registry = registry::load_for(dir)?;
    let mut out = std::io::stdout().lock();
    output::write_models(&mut out, registry.models(), args.format)
        .and_then(|()| out.flush())
        .context("cannot write to standard output")?;
    Ok(Exit::Valid)
}

/// `vidspec schema MODEL`: prints the model's request schema.
pub fn schema(args: &SchemaArgs) -> anyhow::Result<Exit> {
    let dir = args.specs.specs.as_deref();
    let registry = registry::load_for(dir)?;
    let model = match registry::find(&registry, &args.model) {
        Ok(model) => model,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(Exit::Invalid);
        }
    };
    let mut out = std::io::stdout().lock();
    output::write_schema(&mut out, model)
        .and_then(|()| out.flush())
        .context("cannot write to standard output")?;
    Ok(Exit::Valid)
}
