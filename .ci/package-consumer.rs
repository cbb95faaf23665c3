//! The packaged `vidspec-core`, used as a crate from outside the workspace,
//! still serves every seed model: `.ci/package-check` builds this program in a
//! temporary crate that depends on the unpacked `vidspec-core-VERSION` by
//! path. Usage: `package-consumer REPO_ROOT`.
//!
//! It asserts that `Registry::embedded()` knows the model id of every
//! `schemas/models/*.json` (the file stem) and that every `examples/*.json`
//! gets the verdict its name promises (`*-invalid.json` refused, the others
//! prepared). It reads the repository only for those lists; the specs come
//! from the package.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;
use vidspec_core::Registry;

fn json_files(folder: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(folder).map_err(|error| format!("{}: {error}", folder.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|error| format!("{}: {error}", folder.display()))?
            .path();
        if path.extension().is_some_and(|ext| ext == "json") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn check(root: &Path) -> Result<(), Vec<String>> {
    let registry = Registry::embedded();
    let mut problems = Vec::new();

    let schemas = json_files(&root.join("schemas/models")).map_err(|error| vec![error])?;
    let ids: Vec<String> = schemas.iter().map(|path| stem(path)).collect();
    if ids.is_empty() {
        problems.push("schemas/models holds no model schema".to_owned());
    }
    for id in &ids {
        if registry.model(id).is_none() {
            problems.push(format!(
                "the packaged vidspec-core does not know model {id} (schemas/models/{id}.json)"
            ));
        }
    }

    let examples = json_files(&root.join("examples")).map_err(|error| vec![error])?;
    if examples.is_empty() {
        problems.push("examples/ holds no request".to_owned());
    }
    for path in &examples {
        let name = stem(path);
        let request: Value = match std::fs::read_to_string(path)
            .map_err(|error| error.to_string())
            .and_then(|text| serde_json::from_str(&text).map_err(|error| error.to_string()))
        {
            Ok(request) => request,
            Err(error) => {
                problems.push(format!("{}: {error}", path.display()));
                continue;
            }
        };
        // The body's model, else the model id the file name starts with (for
        // endpoints without a model field), as tests/tests/examples.rs does.
        let model = request
            .get("model")
            .and_then(Value::as_str)
            .and_then(|id| registry.model(id))
            .or_else(|| registry.models().find(|model| name.starts_with(model.id())));
        let Some(model) = model else {
            problems.push(format!(
                "{}: the packaged vidspec-core knows no model for it",
                path.display()
            ));
            continue;
        };
        let valid = model.prepare(request).is_ok();
        if valid == name.ends_with("-invalid") {
            problems.push(format!(
                "{}: {} by the packaged vidspec-core",
                path.display(),
                if valid { "prepared" } else { "refused" }
            ));
        }
    }

    if problems.is_empty() {
        println!(
            "package-consumer: the packaged vidspec-core knows all {} models of schemas/models and gives all {} examples their verdict",
            ids.len(),
            examples.len()
        );
        Ok(())
    } else {
        Err(problems)
    }
}

fn main() -> ExitCode {
    let Some(root) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: package-consumer REPO_ROOT");
        return ExitCode::from(2);
    };
    match check(&root) {
        Ok(()) => ExitCode::SUCCESS,
        Err(problems) => {
            for problem in problems {
                eprintln!("package-consumer: {problem}");
            }
            ExitCode::FAILURE
        }
    }
}
