//! Embeds every YAML file of the crate's `specs/` folder and of its
//! `specs/gateways/` folder (the shared gateway blocks), without naming any.
//!
//! In the repository `crates/vidspec-core/specs` is a relative symlink to the
//! top-level `specs/` folder; `cargo package` follows it and ships the files
//! themselves, so the published crate embeds the same specs.
//!
//! It fails the build, naming the folder, when the specs cannot be read or the
//! folder holds no spec: a registry that silently knows no model is worse than
//! a build that stops.

use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The one file of `specs/` that is not a family spec.
const VOCABULARY_FILE: &str = "vocabulary.yaml";

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let specs = manifest.join("specs");
    let gateways = specs.join("gateways");
    println!("cargo:rerun-if-changed={}", specs.display());
    println!("cargo:rerun-if-changed={}", gateways.display());

    let spec_files = yaml_files(&specs).unwrap_or_else(|error| {
        panic!(
            "vidspec-core embeds its model specs from {}, which cannot be read ({error}); \
             in a checkout it is a symlink to the top-level specs/ folder \
             (on Windows, enable symlinks in git: `git config core.symlinks true`, then check out again)",
            specs.display()
        )
    });
    let family_specs = spec_files
        .iter()
        .filter(|path| path.file_name().is_some_and(|name| name != VOCABULARY_FILE))
        .count();
    assert!(
        family_specs > 0,
        "vidspec-core embeds its model specs from {}, which holds no spec (no `<family>.yaml`); \
         Registry::embedded() would know no model",
        specs.display()
    );
    let gateway_files = match yaml_files(&gateways) {
        Ok(files) => files,
        // A specs folder without shared gateway blocks is legal.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => panic!(
            "vidspec-core embeds the gateway blocks from {}, which cannot be read ({error})",
            gateways.display()
        ),
    };

    let files = spec_files.into_iter().map(|path| ("specs", path)).chain(
        gateway_files
            .into_iter()
            .map(|path| ("specs/gateways", path)),
    );
    let mut out = String::from(
        "/// The spec files embedded at build time: (name, text).\npub static EMBEDDED_SPECS: &[(&str, &str)] = &[\n",
    );
    for (folder, path) in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let Some(file_name) = path.file_name().and_then(|name| name.to_str()) else {
            panic!(
                "{}: a spec file name must be UTF-8 (it becomes the spec's name)",
                path.display()
            );
        };
        let name = format!("{folder}/{file_name}");
        let absolute = path.canonicalize().unwrap_or_else(|error| {
            panic!(
                "{}: cannot resolve this spec file ({error})",
                path.display()
            )
        });
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            absolute.display().to_string()
        )
        .expect("write to string");
    }
    out.push_str("];\n");
    let target = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("embedded_specs.rs");
    std::fs::write(&target, out)
        .unwrap_or_else(|error| panic!("cannot write {} ({error})", target.display()));
}

/// The `.yaml` files directly in `folder`, sorted; any read error is returned.
fn yaml_files(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "yaml") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
