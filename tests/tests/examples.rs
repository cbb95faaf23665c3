//! The request files in `examples/` (used by the README) stay truthful: the
//! valid ones prepare, `*-invalid.json` ones are refused.

use std::path::Path;

use serde_json::Value;
use vidspec_tests::registry;

#[test]
fn examples_give_the_verdict_their_names_promise() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir)
        .expect("examples/ exists")
        .filter_map(Result::ok)
    {
        let path = entry.path();
        let stem = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or_default()
            .to_owned();
        let request: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("JSON");
        // The body's model, else the model id the file name starts with (for
        // endpoints without a model field).
        let model = request
            .get("model")
            .and_then(Value::as_str)
            .and_then(|id| registry().model(id))
            .or_else(|| {
                registry()
                    .models()
                    .find(|model| stem.starts_with(model.id()))
            })
            .unwrap_or_else(|| panic!("{}: no model in the body or the file name", path.display()));
        let valid = model.prepare(request.clone()).is_ok();
        assert_eq!(valid, !stem.ends_with("-invalid"), "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 5, "examples/ should hold a request per family");
}
