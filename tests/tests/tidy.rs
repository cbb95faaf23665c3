//! Invariants checked by `cargo test`, not by reviewers (the rust-analyzer
//! `tidy` habit): module docs everywhere, no model ids in engine code, and a
//! dependency graph without what must stay out of it — read from the resolved
//! graph of `cargo metadata --locked` (table-form and transitive dependencies
//! included), never from manifest text.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, PackageId};

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
        "crates/vidspec-webhook/src",
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

/// The workspace's resolved dependency graph (`cargo metadata --locked`).
fn metadata() -> &'static Metadata {
    static METADATA: OnceLock<Metadata> = OnceLock::new();
    METADATA.get_or_init(|| {
        MetadataCommand::new()
            .manifest_path(root().join("Cargo.toml"))
            .other_options(vec!["--locked".to_owned()])
            .exec()
            .unwrap_or_else(|error| panic!("cargo metadata --locked: {error}"))
    })
}

fn workspace_member(name: &str) -> &'static PackageId {
    let metadata = metadata();
    metadata
        .workspace_packages()
        .into_iter()
        .find(|package| *package.name == *name)
        .map(|package| &package.id)
        .unwrap_or_else(|| panic!("{name} is not a workspace member"))
}

/// Every package `name` needs to build and run, transitively: its normal and
/// build dependencies, on every platform, and theirs (dev-dependencies of
/// `name` left out; the graph lists none for packages outside the workspace).
fn needed_by(name: &str) -> BTreeSet<&'static str> {
    let metadata = metadata();
    let resolve = metadata
        .resolve
        .as_ref()
        .expect("cargo metadata resolves dependencies");
    let nodes: HashMap<&PackageId, _> = resolve.nodes.iter().map(|node| (&node.id, node)).collect();
    let names: HashMap<&PackageId, &str> = metadata
        .packages
        .iter()
        .map(|package| (&package.id, package.name.as_str()))
        .collect();
    let mut seen: BTreeSet<&PackageId> = BTreeSet::new();
    let mut pending = vec![workspace_member(name)];
    while let Some(id) = pending.pop() {
        let Some(node) = nodes.get(id) else { continue };
        for dependency in &node.deps {
            let needed = dependency
                .dep_kinds
                .iter()
                .any(|info| info.kind != DependencyKind::Development);
            if needed && seen.insert(&dependency.pkg) {
                pending.push(&dependency.pkg);
            }
        }
    }
    seen.into_iter()
        .filter_map(|id| names.get(id).copied())
        .collect()
}

#[test]
fn the_core_crate_does_no_network_io() {
    let needed = needed_by("vidspec-core");
    for forbidden in ["reqwest", "tokio", "hyper", "axum"] {
        assert!(
            !needed.contains(forbidden),
            "vidspec-core must not depend on {forbidden}, even transitively: it does no I/O beyond reading specs"
        );
    }
}

#[test]
fn the_simulator_depends_on_nothing_of_ours() {
    let ours: BTreeSet<&str> = metadata()
        .workspace_packages()
        .into_iter()
        .map(|package| package.name.as_str())
        .collect();
    let needed = needed_by("vidspec-sim");
    let offenders: Vec<&&str> = needed.intersection(&ours).collect();
    assert!(
        offenders.is_empty(),
        "vidspec-sim must judge requests with its own code, independent of the engine; it needs {offenders:?}"
    );
}

/// serde_yaml is unmaintained and accepts what the spec loader refuses
/// (serde-saphyr reads YAML); OpenSSL is a C library to install (reqwest uses
/// rustls). Neither may come back, directly or through another crate.
#[test]
fn serde_yaml_and_openssl_are_nowhere_in_the_resolved_graph() {
    let found: Vec<&str> = metadata()
        .packages
        .iter()
        .map(|package| package.name.as_str())
        .filter(|name| matches!(*name, "serde_yaml" | "openssl" | "openssl-sys"))
        .collect();
    assert!(
        found.is_empty(),
        "these crates must not be in the dependency graph: {found:?}"
    );
}
