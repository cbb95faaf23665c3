//! Engine benchmarks (divan): loading and compiling every embedded spec,
//! `Model::prepare` per model id on a typical valid and a typical invalid
//! request, `Model::is_valid`, and raw `jsonschema` validation of the very same
//! requests against the very same exported schema, so the engine's own overhead
//! over plain schema validation is visible.
//!
//! Run with `cargo bench -p vidspec-core`. The requests are the spec cases of
//! `tests/cases/<family>/{ok,err}/`, embedded at build time. Targets (2-core
//! machine): `prepare` of a typical valid request ≤ 3 µs median, engine overhead
//! ≤ 2× raw schema validation, loading and compiling all specs ≤ 5 ms.

use std::sync::LazyLock;

use divan::{Bencher, black_box};
use serde_json::Value;
use vidspec_core::{Model, Registry};

fn main() {
    divan::main();
}

/// One model id with a typical valid and a typical invalid request.
struct Requests {
    id: &'static str,
    valid: &'static str,
    invalid: &'static str,
}

macro_rules! case {
    ($path:literal) => {
        include_str!(concat!("../../../tests/cases/", $path, ".json"))
    };
}

/// Every embedded model id, with requests taken from the spec cases.
const REQUESTS: &[Requests] = &[
    Requests {
        id: "Omni-Flash-Ext",
        valid: case!("omni-flash-ext/ok/seed-curl-example"),
        invalid: case!("omni-flash-ext/err/O3-duration-7"),
    },
    Requests {
        id: "midjourney-video",
        valid: case!("midjourney-video/ok/seed-curl-example"),
        invalid: case!("midjourney-video/err/M6-motion-medium"),
    },
    Requests {
        id: "pixverse-v6",
        valid: case!("pixverse-v6/ok/seed-curl-example"),
        invalid: case!("pixverse-v6/err/P4-duration-16"),
    },
    Requests {
        id: "veo3.1-fast-official",
        valid: case!("veo-3.1/ok/seed-curl-example"),
        invalid: case!("veo-3.1/err/E5-aspect-1-1"),
    },
    Requests {
        id: "veo3.1-quality-official",
        valid: case!("veo-3.1/ok/seed-5-with-audio"),
        // The case names the fast variant; its model is rewritten below.
        invalid: case!("veo-3.1/err/E5-aspect-1-1"),
    },
    Requests {
        id: "viduq3",
        valid: case!("vidu-q3/ok/seed-curl-example"),
        invalid: case!("vidu-q3/err/V6-aspect-21-9"),
    },
    Requests {
        id: "viduq3-mix",
        valid: case!("vidu-q3/ok/seed-2-viduq3-mix"),
        invalid: case!("vidu-q3/err/V5-mix-540p"),
    },
];

/// The model ids the per-model benches run over.
const IDS: &[&str] = &[
    "Omni-Flash-Ext",
    "midjourney-video",
    "pixverse-v6",
    "veo3.1-fast-official",
    "veo3.1-quality-official",
    "viduq3",
    "viduq3-mix",
];

/// Everything a per-model bench needs, built once outside the timings.
struct Fixture {
    model: &'static Model,
    /// The exported schema compiled the way a user of `jsonschema` would.
    raw: jsonschema::Validator,
    valid: Value,
    invalid: Value,
}

static FIXTURES: LazyLock<Vec<Fixture>> = LazyLock::new(|| {
    assert_eq!(
        Registry::embedded().ids().len(),
        REQUESTS.len(),
        "every embedded model needs requests here: {:?}",
        Registry::embedded().ids()
    );
    REQUESTS
        .iter()
        .map(|requests| {
            let model = Registry::embedded()
                .model(requests.id)
                .unwrap_or_else(|| panic!("{} is not an embedded model", requests.id));
            let parse = |text: &str| -> Value {
                let mut value: Value = serde_json::from_str(text).expect("case files are JSON");
                if let Some(object) = value.as_object_mut()
                    && object.contains_key("model")
                {
                    object.insert("model".into(), Value::String(requests.id.into()));
                }
                value
            };
            let (valid, invalid) = (parse(requests.valid), parse(requests.invalid));
            assert!(
                model.prepare(valid.clone()).is_ok(),
                "{}: the valid request is refused",
                requests.id
            );
            assert!(
                model.prepare(invalid.clone()).is_err(),
                "{}: the invalid request is accepted",
                requests.id
            );
            let raw = jsonschema::draft202012::options()
                .should_validate_formats(true)
                .build(model.json_schema())
                .expect("the exported schema compiles");
            assert!(raw.is_valid(&valid) && !raw.is_valid(&invalid));
            Fixture {
                model,
                raw,
                valid,
                invalid,
            }
        })
        .collect()
});

fn fixture(id: &str) -> &'static Fixture {
    FIXTURES
        .iter()
        .find(|fixture| fixture.model.id() == id)
        .unwrap_or_else(|| panic!("no requests for {id}"))
}

/// Parsing, linting and compiling every embedded spec (every model's schema and
/// its mode, advice, derive and billing sub-schemas).
#[divan::bench(sample_count = 200)]
fn load_and_compile_all_specs(bencher: Bencher) {
    bencher
        .with_inputs(Registry::embedded_sources)
        .bench_values(|sources| Registry::from_sources(sources).expect("embedded specs load"));
}

/// `Registry::embedded()` once the registry is built: the static hands out
/// the same registry, so this is a pointer read (before it was a static, each
/// call parsed and compiled every spec, as `load_and_compile_all_specs` does).
#[divan::bench]
fn embedded_registry_after_the_first_call(bencher: Bencher) {
    black_box(Registry::embedded());
    bencher.bench(Registry::embedded);
}

/// `Model::prepare`: validate, dispatch, shape, bill.
mod prepare {
    use super::*;

    /// A typical valid request: the whole pipeline, ending in a `Plan`. The
    /// request is handed over as parsed (`prepare` takes it by value and
    /// reshapes it into the body); making the input is not timed, nor is
    /// dropping the plan.
    #[divan::bench(args = IDS, sample_size = 64)]
    fn valid(bencher: Bencher, id: &str) {
        let fixture = fixture(id);
        bencher
            .with_inputs(|| fixture.valid.clone())
            .bench_values(|request| fixture.model.prepare(request));
    }

    /// The valid request prepared and then billed: the charge is worked out
    /// on the first `plan.billing()`, so this adds the billing key and
    /// multiplier (what `check` prints) to `valid`.
    #[divan::bench(args = IDS, sample_size = 64)]
    fn valid_and_billed(bencher: Bencher, id: &str) {
        let fixture = fixture(id);
        bencher
            .with_inputs(|| fixture.valid.clone())
            .bench_values(|request| {
                let plan = fixture.model.prepare(request);
                if let Ok(plan) = &plan {
                    black_box(plan.billing());
                }
                plan
            });
    }

    /// The same, from a borrowed request: a caller who keeps its request pays
    /// for the copy (`prepare(request.clone())`), timed here.
    #[divan::bench(args = IDS, sample_size = 64)]
    fn valid_from_borrowed(bencher: Bencher, id: &str) {
        let fixture = fixture(id);
        bencher.bench(|| fixture.model.prepare(black_box(&fixture.valid).clone()));
    }

    /// A typical invalid request: validation and every diagnostic, worded.
    #[divan::bench(args = IDS, sample_size = 64)]
    fn invalid(bencher: Bencher, id: &str) {
        let fixture = fixture(id);
        bencher
            .with_inputs(|| fixture.invalid.clone())
            .bench_values(|request| fixture.model.prepare(request));
    }
}

/// `Model::is_valid`: the verdict alone.
mod is_valid {
    use super::*;

    /// The typical valid request.
    #[divan::bench(args = IDS, sample_size = 64)]
    fn valid(bencher: Bencher, id: &str) {
        let fixture = fixture(id);
        bencher.bench(|| fixture.model.is_valid(black_box(&fixture.valid)));
    }

    /// The typical invalid request.
    #[divan::bench(args = IDS, sample_size = 64)]
    fn invalid(bencher: Bencher, id: &str) {
        let fixture = fixture(id);
        bencher.bench(|| fixture.model.is_valid(black_box(&fixture.invalid)));
    }
}

/// Plain `jsonschema` (draft 2020-12, formats checked) on `model.json_schema()`:
/// what a user validating with the exported schema pays.
mod raw_schema {
    use super::*;

    /// `is_valid` of the typical valid request.
    #[divan::bench(args = IDS, sample_size = 64)]
    fn valid(bencher: Bencher, id: &str) {
        let fixture = fixture(id);
        bencher.bench(|| fixture.raw.is_valid(black_box(&fixture.valid)));
    }

    /// `is_valid` of the typical invalid request (stops at the first failure).
    #[divan::bench(args = IDS, sample_size = 64)]
    fn invalid(bencher: Bencher, id: &str) {
        let fixture = fixture(id);
        bencher.bench(|| fixture.raw.is_valid(black_box(&fixture.invalid)));
    }

    /// Every error of the typical invalid request (what `prepare` must find too).
    #[divan::bench(args = IDS, sample_size = 64)]
    fn invalid_all_errors(bencher: Bencher, id: &str) {
        let fixture = fixture(id);
        bencher.bench(|| {
            fixture
                .raw
                .iter_errors(black_box(&fixture.invalid))
                .map(|error| error.to_string())
                .collect::<Vec<_>>()
        });
    }
}
