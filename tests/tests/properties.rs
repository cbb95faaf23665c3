//! Property tests: random and mutated inputs for the engine, seeded and
//! deterministic so every failure reproduces.
//!
//! Owns three properties: `Model::prepare` never panics on any JSON value; the
//! spec loader (`Registry::from_sources`) never panics, and stays fast, on
//! mutated spec files and YAML token soup; and for requests near the valid
//! space the engine's verdict equals the verdict of the exported schema run by
//! `jsonschema` alone. The coverage-guided versions of the first two are the
//! cargo-fuzz targets in `fuzz/` (`cargo xtask fuzz`); these are the CI fallback.
//!
//! `VIDSPEC_PROPTEST_CASES=N` sets the number of cases (per model for the
//! request properties, in all for the loader); `VIDSPEC_PROPTEST_SEED=N` the
//! base seed. A failure prints the seed, the case and the input.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use serde_json::{Map, Number, Value, json};
use vidspec_core::spec::{Action, Field, FieldType, Scheme};
use vidspec_core::{Diagnostics, Model, Plan, Registry, Source};
use vidspec_tests::Rng;
use vidspec_tests::registry;

/// The default base seed; any `u64` works.
const DEFAULT_SEED: u64 = 0x5eed_01d5_bec0_0001;

/// The seed of one case, from the base seed, a stream (model) and the case index.
fn case_seed(base: u64, stream: u64, index: u64) -> u64 {
    base ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ index.wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
}

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
    .or_else(|| panic!("{name}={text} is not a number"))
}

fn base_seed() -> u64 {
    env_u64("VIDSPEC_PROPTEST_SEED").unwrap_or(DEFAULT_SEED)
}

fn cases(default: u64) -> u64 {
    env_u64("VIDSPEC_PROPTEST_CASES").unwrap_or(default)
}

/// The start of a long text, for failure messages.
fn clip(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        text.to_owned()
    } else {
        let head: String = text.chars().take(limit).collect();
        format!("{head}… ({} chars in all)", text.chars().count())
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a non-string panic payload)".to_owned())
}

/// Runs `prepare` and reads every view of the plan it makes (effective values,
/// charge, pre-flight checks, the serialised plan), turning a panic into a
/// failure message naming the input.
fn prepare_or_report(model: &Model, request: &Value, case: &str) -> Result<Plan, Diagnostics> {
    let run = || {
        let result = model.prepare(request.clone());
        if let Ok(plan) = &result {
            let _ = (
                plan.billing(),
                plan.effective().to_map(),
                plan.preconditions(),
            );
            let _ = serde_json::to_vec(plan);
        }
        result
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(result) => result,
        Err(payload) => panic!(
            "prepare panicked for {} ({case}): {}\ninput: {}",
            model.id(),
            panic_message(payload.as_ref()),
            clip(&request.to_string(), 4000)
        ),
    }
}

// ---------------------------------------------------------------------------
// Random JSON.
// ---------------------------------------------------------------------------

const STRINGS: &[&str] = &[
    "",
    " ",
    "a",
    "0",
    "-1",
    "true",
    "null",
    "16:9",
    "720p",
    "720P",
    "4K",
    "http://",
    "https://example.com/a.png",
    "data:image/png;base64,AAAA",
    "ftp://example.com/a.png",
    "é",
    "日本語のプロンプト",
    "🦊🦊🦊",
    "\u{0}",
    "\u{feff}",
    "a\nb\tc\r",
    "\\",
    "\"",
    "%s%n{}",
    "{model}",
    "../../etc/passwd",
    "\u{202e}reversed",
];

/// A string of any length (up to 20 000 characters), often a tricky one.
fn random_string(rng: &mut Rng) -> String {
    if rng.percent(15) {
        let length = *rng.pick(&[255, 256, 2047, 2048, 2049, 4999, 5000, 5001, 20_000]);
        let unit = *rng.pick(&["a", "é", "🦊", " "]);
        return unit.repeat(length);
    }
    short_string(rng)
}

/// A string of at most a few dozen characters.
fn short_string(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 | 1 => (*rng.pick(STRINGS)).to_owned(),
        2 => {
            let length = rng.below(40);
            (0..length)
                .map(|_| {
                    let code = match rng.below(4) {
                        0 => 0x20 + rng.below(0x5f) as u32,
                        1 => rng.below(0x80) as u32,
                        2 => 0x80 + rng.below(0x780) as u32,
                        _ => rng.below(0x11_0000) as u32,
                    };
                    char::from_u32(code).unwrap_or('\u{fffd}')
                })
                .collect()
        }
        3 => format!(
            "{}{}",
            rng.pick(&[
                "http://",
                "https://",
                "ftp://",
                "data:image/png;base64,",
                "HTTPS://",
                ""
            ]),
            rng.pick(&[
                "example.com/x.png",
                "",
                " ",
                "a b",
                "x",
                "%00",
                "例え.jp/画像.png"
            ])
        ),
        _ => format!("{}", rng.next_u64()),
    }
}

fn random_number(rng: &mut Rng) -> Value {
    match rng.below(9) {
        0 => json!(rng.below(20) as i64 - 5),
        1 => json!(rng.next_u64()),
        2 => json!(-((rng.next_u64() >> 1) as i64)),
        3 => json!(*rng.pick(&[i64::MIN, i64::MAX, -1, 0, 1, 2_147_483_647, 2_147_483_648])),
        4 => json!(*rng.pick(&[u64::MAX, 4_294_967_295, 4_294_967_296])),
        5 => json!(*rng.pick(&[0.5, -0.0, 1e-300, 1e300, -1e300, 8.0, 6.000_000_000_1, 2.5])),
        6 => json!(f64::from_bits(rng.next_u64())), // NaN and infinities become null
        7 => json!((rng.below(40) as f64) / 4.0),
        _ => Value::Number(Number::from(rng.below(16) as u64)),
    }
}

/// A random value of any type; `depth` bounds the nesting.
fn random_value(rng: &mut Rng, depth: usize, names: &[String]) -> Value {
    let leaf = depth == 0;
    match rng.below(if leaf { 4 } else { 6 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.percent(50)),
        2 => random_number(rng),
        3 => Value::String(random_string(rng)),
        4 => {
            let length = rng.below(5);
            Value::Array(
                (0..length)
                    .map(|_| random_value(rng, depth - 1, names))
                    .collect(),
            )
        }
        _ => random_object(rng, depth - 1, names),
    }
}

fn random_key(rng: &mut Rng, names: &[String]) -> String {
    match rng.below(10) {
        0..=5 if !names.is_empty() => rng.pick(names).clone(),
        6 if !names.is_empty() => {
            // A near miss: one character dropped or changed, or another case.
            let name = rng.pick(names).clone();
            match rng.below(3) {
                0 => name.to_uppercase(),
                1 => {
                    let mut chars: Vec<char> = name.chars().collect();
                    if !chars.is_empty() {
                        chars.remove(rng.below(chars.len()));
                    }
                    chars.into_iter().collect()
                }
                _ => format!("{name}_"),
            }
        }
        // Long keys are rare: each costs a did-you-mean search.
        7 if rng.percent(10) => random_string(rng),
        _ => short_string(rng),
    }
}

fn random_object(rng: &mut Rng, depth: usize, names: &[String]) -> Value {
    let length = rng.below(8);
    let mut object = Map::new();
    for _ in 0..length {
        let key = random_key(rng, names);
        object.insert(key, random_value(rng, depth, names));
    }
    Value::Object(object)
}

/// `depth` levels of arrays or objects around a value.
fn deeply_nested(rng: &mut Rng, depth: usize, names: &[String]) -> Value {
    let mut value = random_value(rng, 0, names);
    for _ in 0..depth {
        value = if rng.percent(50) {
            Value::Array(vec![value])
        } else {
            let mut object = Map::new();
            object.insert(random_key(rng, names), value);
            Value::Object(object)
        };
    }
    value
}

/// Every key a request for `model` may use: field names, aliases and `model`.
fn known_names(model: &Model) -> Vec<String> {
    let mut names = vec!["model".to_owned()];
    for (name, field) in model.fields() {
        names.push(name.clone());
        names.extend(field.alias.clone());
        for nested in field.fields.keys() {
            names.push(nested.clone());
        }
    }
    names
}

#[test]
fn random_json_never_panics_prepare() {
    let registry = registry();
    let base = base_seed();
    let per_model = cases(4000);
    let started = Instant::now();
    let mut accepted = 0;
    let mut total = 0;
    for (stream, model) in registry.models().enumerate() {
        let names = known_names(model);
        for index in 0..per_model {
            let seed = case_seed(base, stream as u64, index);
            let mut rng = Rng::new(seed);
            let request = match rng.below(10) {
                0 => random_value(&mut rng, 3, &names),
                1 => {
                    let mut request = random_object(&mut rng, 2, &names);
                    let depth = 90 + rng.below(20);
                    let nested = deeply_nested(&mut rng, depth, &names);
                    request
                        .as_object_mut()
                        .expect("an object")
                        .insert(random_key(&mut rng, &names), nested);
                    request
                }
                2 => {
                    let depth = 90 + rng.below(20);
                    deeply_nested(&mut rng, depth, &names)
                }
                _ => {
                    let mut request = random_object(&mut rng, 2, &names);
                    if rng.percent(70) {
                        request
                            .as_object_mut()
                            .expect("an object")
                            .insert("model".into(), json!(model.id()));
                    }
                    request
                }
            };
            let case =
                format!("VIDSPEC_PROPTEST_SEED={base:#x}, case {index}, case seed {seed:#x}");
            accepted += usize::from(prepare_or_report(model, &request, &case).is_ok());
            total += 1;
        }
    }
    println!(
        "random_json_never_panics_prepare: {total} requests over {} models ({accepted} accepted) in {:.2?}",
        registry.ids().len(),
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------
// Random YAML.
// ---------------------------------------------------------------------------

const YAML_TOKENS: &[&str] = &[
    "&a ",
    "*a",
    "<<: *a",
    "<<: ",
    "\t",
    ": ",
    "- ",
    "\"",
    "'",
    "[",
    "]",
    "{",
    "}",
    ",",
    "#",
    "|",
    ">-",
    "? ",
    "~",
    "null",
    "!!binary ",
    "!!str ",
    "!tag ",
    "!!map ",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "%TAG ! tag:x,2000:\n",
    "\u{feff}",
    "\u{0}",
    "\r",
    "\n",
    "1e999",
    "-0",
    "0x1F",
    ".inf",
    ".nan",
    "99999999999999999999999999",
    "-99999999999999999999999999",
    "yes",
    "no",
    "on",
    "true",
    "1.5",
    "é🦊",
    "type: ",
    "enum: ",
    "in: ",
    "when: ",
    "fields:",
    "models:",
    "min: ",
    "max: ",
    "count: ",
    "pattern: \"(\"",
    "pattern: \"^(a+)+$\"",
    "present: ",
    "  ",
    "    ",
];

fn long_line(rng: &mut Rng) -> String {
    let unit = *rng.pick(&["x", "é", "a: ", "- ", "[", "{a: "]);
    unit.repeat(1000 + rng.below(20_000))
}

fn deep_flow(rng: &mut Rng) -> String {
    let depth = 50 + rng.below(400);
    let (open, close) = *rng.pick(&[("[", "]"), ("{a: ", "}"), ("- ", "")]);
    let closing = rng.percent(70);
    let mut text = open.repeat(depth);
    text.push('x');
    if closing {
        text.push_str(&close.repeat(depth));
    }
    text
}

fn alias_bomb(rng: &mut Rng) -> String {
    let levels = 3 + rng.below(8);
    let width = 3 + rng.below(8);
    let mut text = format!("bomb0: &b0 [{}]\n", vec!["lol"; width].join(", "));
    for level in 1..levels {
        let refs = vec![format!("*b{}", level - 1); width].join(", ");
        text.push_str(&format!("bomb{level}: &b{level} [{refs}]\n"));
    }
    text
}

fn random_insert(rng: &mut Rng) -> String {
    match rng.below(20) {
        0 => long_line(rng),
        1 => deep_flow(rng),
        2 => alias_bomb(rng),
        _ => (*rng.pick(YAML_TOKENS)).to_owned(),
    }
}

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let mutations = if rng.percent(50) { 1 } else { 2 + rng.below(4) };
    for _ in 0..mutations {
        let at = rng.below(lines.len());
        match rng.below(13) {
            0 => {
                if lines.len() > 1 {
                    lines.remove(at);
                }
            }
            1 => {
                let line = lines[at].clone();
                lines.insert(at, line);
            }
            2 => {
                let other = rng.below(lines.len());
                lines.swap(at, other);
            }
            3 | 4 => {
                // Flip a character.
                let mut chars: Vec<char> = lines[at].chars().collect();
                if !chars.is_empty() {
                    let index = rng.below(chars.len());
                    chars[index] = *rng.pick(&[
                        ' ', '\t', ':', '-', '#', '&', '*', '!', '|', '>', '"', '\'', '[', ']',
                        '{', '}', ',', '?', '%', '@', '`', 'x', '0', '9', 'é', '\u{0}',
                    ]);
                }
                lines[at] = chars.into_iter().collect();
            }
            5 | 6 => {
                // Insert a token inside a line.
                let mut chars: Vec<char> = lines[at].chars().collect();
                let index = rng.below(chars.len() + 1);
                let token: Vec<char> = random_insert(rng).chars().collect();
                chars.splice(index..index, token);
                lines[at] = chars.into_iter().collect();
            }
            7 => {
                let line = random_insert(rng);
                lines.insert(at, line);
            }
            8 => {
                // Replace a mapping value.
                if let Some(colon) = lines[at].find(": ") {
                    let head = lines[at][..colon + 2].to_owned();
                    lines[at] = format!("{head}{}", random_insert(rng));
                }
            }
            9 | 10 => {
                // Put the value of another line here: real words, numbers and
                // lists in the wrong place reach lint and compile.
                let donor = lines[rng.below(lines.len())].clone();
                if let (Some(colon), Some(from)) = (lines[at].find(": "), donor.find(": ")) {
                    let head = lines[at][..colon + 2].to_owned();
                    lines[at] = format!("{head}{}", &donor[from + 2..]);
                }
            }
            11 => {
                // Indent or dedent.
                let spaces = rng.below(5);
                if rng.percent(50) {
                    lines[at] = format!("{}{}", " ".repeat(spaces), lines[at]);
                } else {
                    let trimmed = lines[at].trim_start().to_owned();
                    lines[at] = trimmed;
                }
            }
            _ => {
                // Truncate.
                lines.truncate(at + 1);
            }
        }
    }
    let mut text = lines.join(if rng.percent(90) { "\n" } else { "\r\n" });
    if rng.percent(80) {
        text.push('\n');
    }
    text
}

fn token_soup(rng: &mut Rng) -> String {
    let count = rng.below(200);
    let mut text = String::new();
    for _ in 0..count {
        text.push_str(&random_insert(rng));
        let separator: &&str = rng.pick(&[" ", "", "\n", "\n  ", "\n- "]);
        text.push_str(separator);
    }
    text
}

#[test]
fn random_yaml_never_panics_the_loader() {
    let sources = Registry::embedded_sources();
    let (vocabularies, specs): (Vec<Source>, Vec<Source>) = sources
        .into_iter()
        .partition(|source| source.stem() == "vocabulary");
    assert!(!specs.is_empty() && !vocabularies.is_empty());
    let base = base_seed();
    let total = cases(3000);
    let started = Instant::now();
    let mut accepted = 0;
    let mut slowest = (Duration::ZERO, 0);
    for index in 0..total {
        let seed = case_seed(base, u64::MAX, index);
        let mut rng = Rng::new(seed);
        let spec = rng.pick(&specs).clone();
        let (input, named) = match rng.below(10) {
            0 => {
                // A mutated vocabulary beside one real spec.
                let vocabulary = rng.pick(&vocabularies).clone();
                let text = mutate(&mut rng, &vocabulary.text);
                let mutated = Source::new(vocabulary.name.clone(), text.clone());
                (vec![mutated, spec], (vocabulary.name, text))
            }
            1 => {
                let text = token_soup(&mut rng);
                let soup = Source::new("specs/soup.yaml", text.clone());
                let mut input = vocabularies.clone();
                input.push(soup);
                (input, ("specs/soup.yaml".to_owned(), text))
            }
            _ => {
                let text = mutate(&mut rng, &spec.text);
                let mut input = vocabularies.clone();
                input.push(Source::new(spec.name.clone(), text.clone()));
                (input, (spec.name, text))
            }
        };
        let case_started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| Registry::from_sources(input)));
        let took = case_started.elapsed();
        match outcome {
            Ok(result) => accepted += usize::from(result.is_ok()),
            Err(payload) => panic!(
                "Registry::from_sources panicked (VIDSPEC_PROPTEST_SEED={base:#x}, case {index}, case seed {seed:#x}): {}\n{}:\n{}",
                panic_message(payload.as_ref()),
                named.0,
                clip(&named.1, 8000)
            ),
        }
        if took > slowest.0 {
            slowest = (took, index);
        }
        assert!(
            took < Duration::from_secs(5),
            "loading took {took:.2?} (VIDSPEC_PROPTEST_SEED={base:#x}, case {index}, case seed {seed:#x})\n{}:\n{}",
            named.0,
            clip(&named.1, 8000)
        );
    }
    println!(
        "random_yaml_never_panics_the_loader: {total} texts ({accepted} loaded) in {:.2?}; slowest case {} took {:.2?}",
        started.elapsed(),
        slowest.1,
        slowest.0
    );
}

// ---------------------------------------------------------------------------
// Requests near the valid space: engine verdict == exported schema verdict.
// ---------------------------------------------------------------------------

/// Values the spec suggests for a field (`one_of`, bounds ± 1, `also`, the
/// default, values named by `constrain` rules), any type.
fn suggested_numbers(field: &Field, extra: &[Value]) -> Vec<Value> {
    let mut values: Vec<Value> = Vec::new();
    values.extend(field.values.iter().flatten().cloned());
    values.extend(field.also.iter().cloned().map(Value::Number));
    values.extend(extra.iter().cloned());
    if let Some(default) = &field.default {
        values.push(default.value.clone());
    }
    for bound in [&field.min, &field.max].into_iter().flatten() {
        if let Some(n) = bound.as_i64() {
            for delta in -1..=1 {
                values.push(json!(n.saturating_add(delta)));
            }
        } else if let Some(n) = bound.as_u64() {
            values.push(json!(n));
            values.push(json!(n - 1));
            values.push(json!(n as f64 + 1.0));
        } else if let Some(n) = bound.as_f64() {
            values.extend([json!(n), json!(n - 0.5), json!(n + 0.5)]);
        }
    }
    values
}

/// Whether a number lies within the field's `min`..`max` (or is one of `also`).
fn fits_bounds(field: &Field, value: &Value) -> bool {
    let Some(number) = value.as_f64() else {
        return false;
    };
    let above = field
        .min
        .as_ref()
        .and_then(Number::as_f64)
        .is_none_or(|min| number >= min);
    let below = field
        .max
        .as_ref()
        .and_then(Number::as_f64)
        .is_none_or(|max| number <= max);
    (above && below) || field.also.iter().any(|also| also.as_f64() == Some(number))
}

fn in_range(rng: &mut Rng, field: &Field) -> Value {
    let min = field.min.as_ref().and_then(Number::as_i64).unwrap_or(-100);
    let max = field
        .max
        .as_ref()
        .and_then(Number::as_i64)
        .unwrap_or(min.saturating_add(100));
    let span = max.saturating_sub(min).clamp(0, 1000) as usize;
    json!(min.saturating_add(rng.below(span + 1) as i64))
}

fn flip_case(rng: &mut Rng, text: &str) -> String {
    text.chars()
        .map(|c| {
            if rng.percent(50) {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

fn string_of_length(rng: &mut Rng, length: usize) -> String {
    let unit = *rng.pick(&["a", "é", "🦊", " ", "字"]);
    unit.repeat(length)
}

fn url_value(rng: &mut Rng, schemes: &[Scheme], conform: bool) -> Value {
    let allowed: Vec<&str> = schemes
        .iter()
        .map(|scheme| match scheme {
            Scheme::Http => "http://",
            Scheme::Https => "https://",
            Scheme::DataImage => "data:image/png;base64,",
        })
        .collect();
    let any = [
        "http://",
        "https://",
        "HTTPS://",
        "ftp://",
        "data:image/png;base64,",
        "data:image/jpeg;base64,",
        "data:text/plain;base64,",
        "data:image/png,",
        "file:///",
        "//",
        "",
        "javascript:",
    ];
    let scheme = if conform && !allowed.is_empty() {
        *rng.pick(&allowed)
    } else {
        *rng.pick(&any)
    };
    let rest = if scheme.starts_with("data:") {
        *rng.pick(&["iVBORw0KGgo=", "AAAA", "", "not base64!", "AA AA"])
    } else if conform {
        *rng.pick(&[
            "example.com/a.png",
            "cdn.example.org/x/y.jpg?sig=1",
            "127.0.0.1:8080/i.webp",
        ])
    } else {
        *rng.pick(&[
            "example.com/a.png",
            "",
            " ",
            "a b.png",
            "/nohost",
            "例え.jp/画像.png",
        ])
    };
    json!(format!("{scheme}{rest}"))
}

/// A value for `field`: from its spec when `conform` holds (mostly), anything near
/// it otherwise; sometimes of the wrong type.
fn field_value(rng: &mut Rng, field: &Field, extra: &[Value], corrupt: u64, depth: usize) -> Value {
    if rng.percent(corrupt / 3) {
        return random_value(rng, 1, &[]);
    }
    let conform = !rng.percent(corrupt);
    match field.kind {
        FieldType::Boolean => match &field.values {
            Some(values) if conform => rng.pick(values).clone(),
            _ => json!(rng.percent(50)),
        },
        FieldType::Integer | FieldType::Number => {
            let mut suggested = suggested_numbers(field, extra);
            if conform {
                suggested.retain(|value| fits_bounds(field, value));
            }
            let value = match rng.below(4) {
                _ if field.values.is_some() && conform && !field.open => rng
                    .pick(field.values.as_deref().unwrap_or_default())
                    .clone(),
                0 | 1 if !suggested.is_empty() => rng.pick(&suggested).clone(),
                _ if conform => in_range(rng, field),
                2 => in_range(rng, field),
                _ => random_number(rng),
            };
            match (value.as_i64(), rng.below(12)) {
                // The same number written as a float, or as a string.
                (Some(n), 0) => json!(n as f64),
                (Some(n), 1) if !conform => json!(n.to_string()),
                (Some(n), 2) if field.kind == FieldType::Number => json!(n as f64 + 0.5),
                _ => value,
            }
        }
        FieldType::String => {
            if let Some(values) = &field.values
                && (conform || rng.percent(50))
            {
                let mut value = rng.pick(values).clone();
                if let Some(text) = value.as_str()
                    && (field.case_insensitive || !conform)
                    && rng.percent(30)
                {
                    value = json!(flip_case(rng, text));
                }
                if !field.value_aliases.is_empty() && rng.percent(20) {
                    let aliases: Vec<&String> = field.value_aliases.keys().collect();
                    value = json!(rng.pick(&aliases).as_str());
                }
                return value;
            }
            if field.pattern.is_some() && rng.percent(60) {
                // The only pattern in the specs is width:height; others just miss.
                let width = rng.below(40);
                let height = rng.below(40);
                return json!(match rng.below(5) {
                    0 => format!("{width}x{height}"),
                    1 => format!("{width}:{height} "),
                    _ => format!("{width}:{height}"),
                });
            }
            let min = field.min_length.unwrap_or(0) as usize;
            let max = field.max_length.map(|max| max as usize);
            let mut lengths = vec![min, min + 1, min + 3, 10];
            if min > 0 {
                lengths.push(min - 1);
            }
            if let Some(max) = max {
                lengths.extend([max.saturating_sub(1), max, max + 1]);
            }
            if conform {
                lengths.retain(|length| *length >= min && max.is_none_or(|max| *length <= max));
                lengths.push(min.max(1).min(max.unwrap_or(usize::MAX)));
            }
            let length = *rng.pick(&lengths);
            if !conform && rng.percent(20) {
                json!(random_string(rng))
            } else {
                json!(string_of_length(rng, length))
            }
        }
        FieldType::Url => url_value(rng, &field.schemes, conform),
        FieldType::Array => {
            let mut counts: Vec<usize> = vec![0, 1, 2];
            for bound in [field.min_items, field.max_items].into_iter().flatten() {
                let bound = bound as usize;
                counts.extend([bound.saturating_sub(1), bound, bound + 1]);
            }
            counts.extend(field.count_in.iter().flatten().map(|count| *count as usize));
            let count = if conform {
                let min = field.min_items.unwrap_or(0) as usize;
                let max = field.max_items.map(|max| max as usize).unwrap_or(min + 4);
                let fitting: Vec<usize> = match &field.count_in {
                    Some(set) => set.iter().map(|count| *count as usize).collect(),
                    None => (min..=max.max(min)).collect(),
                };
                *rng.pick(&fitting)
            } else {
                *rng.pick(&counts)
            };
            let items = (0..count)
                .map(|_| match &field.items {
                    Some(items) if depth < 4 => {
                        field_value(rng, &items.value, &[], corrupt / 2, depth + 1)
                    }
                    _ => random_value(rng, 1, &[]),
                })
                .collect();
            Value::Array(items)
        }
        FieldType::Object => {
            let mut object = Map::new();
            for (name, nested) in &field.fields {
                if (nested.value.required && !rng.percent(corrupt / 2)) || rng.percent(50) {
                    let value = if depth < 4 {
                        field_value(rng, &nested.value, &[], corrupt, depth + 1)
                    } else {
                        Value::Null
                    };
                    object.insert(name.clone(), value);
                }
            }
            if rng.percent(corrupt / 4) {
                object.insert(random_string(rng), random_value(rng, 1, &[]));
            }
            Value::Object(object)
        }
    }
}

/// Values `constrain` rules name for each field (`duration: {one_of: [5, 8]}`).
fn rule_values(model: &Model, name: &str) -> Vec<Value> {
    let mut values = Vec::new();
    for rule in &model.spec().rules {
        if let Action::Constrain(constraints) = &rule.value.then
            && let Some(constraint) = constraints.get(name)
        {
            values.extend(constraint.values.iter().flatten().cloned());
            values.extend(constraint.min.iter().cloned().map(Value::Number));
            values.extend(constraint.max.iter().cloned().map(Value::Number));
        }
    }
    values
}

/// One request near the valid space of `model`.
fn near_valid_request(rng: &mut Rng, model: &Model, other_ids: &[&str]) -> Value {
    let corrupt = *rng.pick(&[0, 0, 2, 5, 10, 25, 60]);
    let optional = *rng.pick(&[15, 45, 70]);
    let mut request = Map::new();
    match rng.below(100) {
        0..=5 => {}
        6..=11 => {
            let wrong = match rng.below(4) {
                0 if !other_ids.is_empty() => json!(rng.pick(other_ids)),
                1 => json!(model.id().to_uppercase()),
                2 => json!(format!("{} ", model.id())),
                _ => random_value(rng, 0, &[]),
            };
            request.insert("model".into(), wrong);
        }
        _ => {
            request.insert("model".into(), json!(model.id()));
        }
    }
    for (name, field) in model.fields() {
        let include = if field.required {
            !rng.percent(corrupt / 2 + 2)
        } else {
            rng.percent(optional)
        };
        if !include {
            continue;
        }
        let value = field_value(rng, field, &rule_values(model, name), corrupt, 0);
        match &field.alias {
            Some(alias) if rng.percent(30) => {
                request.insert(alias.clone(), value);
                if rng.percent(15) {
                    let again = field_value(rng, field, &[], corrupt, 0);
                    request.insert(name.clone(), again);
                }
            }
            _ => {
                request.insert(name.clone(), value);
            }
        }
    }
    if rng.percent(5 + corrupt / 4) {
        let names: Vec<String> = model.fields().keys().cloned().collect();
        let key = random_key(rng, &names);
        request.insert(key, random_value(rng, 1, &[]));
    }
    Value::Object(request)
}

/// One step from an invalid request towards a valid one, led by where the
/// diagnostics point: a field that is there is dropped or given a conforming
/// value, a field that is missing is added; a whole-request problem adds or
/// drops a random field.
fn repair(rng: &mut Rng, model: &Model, request: &mut Value, diagnostics: &Diagnostics) {
    let object = request.as_object_mut().expect("requests are objects");
    let key = if diagnostics.errors.is_empty() {
        String::new()
    } else {
        let path = &rng.pick(&diagnostics.errors).path;
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        first.replace("~1", "/").replace("~0", "~")
    };
    if key == "model" {
        object.insert("model".into(), json!(model.id()));
        return;
    }
    let field = model.fields().get(&key);
    if key.is_empty() || (field.is_none() && !object.contains_key(&key)) {
        let present: Vec<String> = object
            .keys()
            .filter(|key| *key != "model")
            .cloned()
            .collect();
        let absent: Vec<(&String, &Field)> = model
            .fields()
            .iter()
            .filter(|(name, _)| !object.contains_key(*name))
            .collect();
        if !absent.is_empty() && (present.is_empty() || rng.percent(50)) {
            let (name, field) = *rng.pick(&absent);
            let value = field_value(rng, field, &rule_values(model, name), 0, 0);
            object.insert(name.clone(), value);
        } else if !present.is_empty() {
            object.remove(rng.pick(&present));
        }
        return;
    }
    match field {
        Some(field) if !object.contains_key(&key) || rng.percent(50) => {
            let value = field_value(rng, field, &rule_values(model, &key), 0, 0);
            object.insert(key, value);
        }
        _ => {
            object.remove(&key);
        }
    }
}

#[test]
fn engine_verdict_equals_the_exported_schema_verdict() {
    let registry = registry();
    let base = base_seed();
    let per_model = cases(5000);
    let started = Instant::now();
    let ids = registry.ids();
    let mut report = Vec::new();
    for (stream, model) in registry.models().enumerate() {
        let validator = jsonschema::draft202012::new(model.json_schema()).unwrap_or_else(|error| {
            panic!("{}: the exported schema compiles: {error}", model.id())
        });
        let other_ids: Vec<&str> = ids.iter().copied().filter(|id| *id != model.id()).collect();
        let (mut valid, mut invalid) = (0u64, 0u64);
        for index in 0..per_model {
            let seed = case_seed(base, 1000 + stream as u64, index);
            let mut rng = Rng::new(seed);
            let mut request = near_valid_request(&mut rng, model, &other_ids);
            // An invalid request is often walked towards validity (`repair`),
            // each step checked: requests on both sides of the boundaries of
            // the cross-field rules.
            for step in 0..8 {
                let case = format!(
                    "VIDSPEC_PROPTEST_SEED={base:#x}, case {index} step {step}, case seed {seed:#x}"
                );
                let engine = prepare_or_report(model, &request, &case);
                let schema = validator.is_valid(&request);
                if engine.is_ok() != schema {
                    panic!(
                        "{}: the engine says {} but the exported schema says {} ({case})\nrequest: {}\nengine: {}",
                        model.id(),
                        if schema { "invalid" } else { "valid" },
                        if schema { "valid" } else { "invalid" },
                        clip(&request.to_string(), 4000),
                        engine
                            .err()
                            .map(|errors| errors.to_string())
                            .unwrap_or_default()
                    );
                }
                let Err(diagnostics) = engine else {
                    valid += 1;
                    break;
                };
                invalid += 1;
                if rng.percent(20) {
                    break;
                }
                repair(&mut rng, model, &mut request, &diagnostics);
            }
        }
        report.push(format!("{}: {valid} valid, {invalid} invalid", model.id()));
        let total = valid + invalid;
        assert!(
            valid * 10 >= total && invalid * 10 >= total,
            "{}: the generator is too one-sided to mean much: {valid} valid, {invalid} invalid of {total}",
            model.id()
        );
    }
    println!(
        "engine_verdict_equals_the_exported_schema_verdict ({:.2?}):\n  {}",
        started.elapsed(),
        report.join("\n  ")
    );
}
