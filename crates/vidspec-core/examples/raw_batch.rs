//! The floor under `vidspec check --batch`: what the Rust `jsonschema` crate
//! alone does with the same lines, the same work `bench/py_validate.py` does
//! in Python. Each line is parsed into a `serde_json::Value`, its `model`
//! picks `SCHEMA_DIR/<model>.json` (compiled once, formats checked, as the
//! engine does) and `is_valid` gives the verdict; `1` or `0` is printed per
//! line. No diagnostics, no mode, no body, no result object: `bench/compare.sh`
//! times it beside vidspec so the cost of everything vidspec adds is visible.
//!
//!     cargo run --release -p vidspec-core --example raw_batch -- FILE.jsonl schemas/models

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

use jsonschema::Validator;
use serde_json::Value;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, schemas] = args.as_slice() else {
        eprintln!("usage: raw_batch FILE.jsonl SCHEMA_DIR");
        return ExitCode::from(2);
    };
    match run(Path::new(file), Path::new(schemas)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("raw_batch: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(file: &Path, schemas: &Path) -> Result<(), String> {
    let input =
        std::fs::File::open(file).map_err(|error| format!("{}: {error}", file.display()))?;
    let mut input = BufReader::with_capacity(1 << 16, input);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut validators: HashMap<String, Option<Validator>> = HashMap::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = input
            .read_until(b'\n', &mut line)
            .map_err(|error| format!("{}: {error}", file.display()))?;
        if read == 0 {
            break;
        }
        let valid = match serde_json::from_slice::<Value>(&line) {
            Ok(request) => match request.get("model") {
                Some(Value::String(model)) => {
                    if !validators.contains_key(model) {
                        let validator = compile(&schemas.join(format!("{model}.json")), model);
                        validators.insert(model.clone(), validator);
                    }
                    validators[model]
                        .as_ref()
                        .is_some_and(|validator| validator.is_valid(&request))
                }
                _ => false,
            },
            Err(_) => false,
        };
        out.write_all(if valid { b"1\n" } else { b"0\n" })
            .map_err(|error| format!("standard output: {error}"))?;
    }
    out.flush()
        .map_err(|error| format!("standard output: {error}"))
}

/// The validator for `model`, or none when it has no schema file (as in
/// `py_validate.py`, such a line is invalid).
fn compile(path: &Path, model: &str) -> Option<Validator> {
    if model.contains('/') {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let schema: Value = serde_json::from_str(&text).ok()?;
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .ok()
}
