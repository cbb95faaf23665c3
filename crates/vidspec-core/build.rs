//! Embeds every YAML file of the workspace's `specs/` folder and of its
//! `specs/gateways/` folder (the shared gateway blocks), without naming any.

use std::fmt::Write;
use std::path::PathBuf;

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let specs = manifest.join("../../specs");
    let gateways = specs.join("gateways");
    println!("cargo:rerun-if-changed={}", specs.display());
    println!("cargo:rerun-if-changed={}", gateways.display());
    let yaml_files = |folder: &PathBuf| -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.path())
                    .collect()
            })
            .unwrap_or_default();
        files.retain(|path| path.extension().is_some_and(|ext| ext == "yaml"));
        files.sort();
        files
    };
    let files = yaml_files(&specs)
        .into_iter()
        .map(|path| ("specs", path))
        .chain(
            yaml_files(&gateways)
                .into_iter()
                .map(|path| ("specs/gateways", path)),
        );
    let mut out = String::from(
        "/// The spec files embedded at build time: (name, text).\npub static EMBEDDED_SPECS: &[(&str, &str)] = &[\n",
    );
    for (folder, path) in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = format!(
            "{folder}/{}",
            path.file_name()
                .and_then(|name| name.to_str())
                .unwrap_or_default()
        );
        let absolute = path.canonicalize().unwrap_or(path);
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
    std::fs::write(target, out).expect("write embedded_specs.rs");
}
