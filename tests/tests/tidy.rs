//! Invariants checked by `cargo test`, not by reviewers (the rust-analyzer
//! `tidy` habit): module docs everywhere, no model ids in engine code, and a
//! core crate free of network dependencies.

use std::path::{Path, PathBuf};

use vidspec_tests::registry;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|name| name == "target" || name == "snapshots")
            {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

fn all_rust_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "tests"] {
        rust_files(&root().join(dir), &mut files);
    }
    files
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let missing: Vec<String> = all_rust_files()
        .into_iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a `//!` module doc saying what they own: {missing:?}"
    );
}

/// Engine and CLI code names no model id or family: models are data.
#[test]
fn no_model_id_appears_in_engine_code() {
    let mut names: Vec<String> = Vec::new();
    for model in registry().models() {
        names.push(model.id().to_owned());
        names.push(model.family().to_owned());
    }
    let mut offenders = Vec::new();
    let mut files = Vec::new();
    for dir in [
        "crates/vidspec-core/src",
        "crates/vidspec-cli/src",
        "crates/vidspec-workflow/src",
        "crates/vidspec-core/build.rs",
    ] {
        let path = root().join(dir);
        if path.is_file() {
            files.push(path);
        } else {
            rust_files(&path, &mut files);
        }
    }
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (number, line) in code.lines().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") {
                continue; // docs and doctests are examples, not engine logic
            }
            for name in &names {
                if line.contains(&format!("\"{name}\"")) || line.contains(&format!("\"{name}@")) {
                    offenders.push(format!("{}:{}: {name}", path.display(), number + 1));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "model ids in engine code (move the logic into a spec): {offenders:?}"
    );
}

#[test]
fn the_core_crate_does_no_network_io() {
    let manifest = std::fs::read_to_string(root().join("crates/vidspec-core/Cargo.toml"))
        .expect("core manifest");
    for forbidden in ["reqwest", "tokio", "hyper", "axum"] {
        assert!(
            !manifest.contains(forbidden),
            "vidspec-core must not depend on {forbidden}: it does no I/O beyond reading specs"
        );
    }
}

#[test]
fn the_simulator_depends_on_nothing_of_ours() {
    let manifest = std::fs::read_to_string(root().join("crates/vidspec-sim/Cargo.toml"))
        .expect("sim manifest");
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("[dev-dependencies]").next())
        .unwrap_or_default();
    assert!(
        !dependencies
            .lines()
            .any(|line| line.trim_start().starts_with("vidspec-")),
        "vidspec-sim must judge requests with its own code, independent of the engine"
    );
}
