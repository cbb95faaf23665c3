//! Differential test: the engine's verdict against the simulator's own request
//! checks (`crates/vidspec-sim/src/checks.rs`), the one judge that shares
//! nothing with vidspec-core, on thousands of generated near-valid requests.
//!
//! The requests start from the valid case files (`tests/cases/<family>/ok`)
//! and are mutated by a deterministic generator with a fixed seed: a field
//! dropped, set to a neighbouring or wrong-typed value or to null, a field of
//! another mode added, an array made longer or shorter, the model id changed.
//! The simulator runs in-process on loopback (its checks are private to it):
//! - a request the engine accepts is judged by the simulator on the body the
//!   gateway receives, `plan.body()`, posted to the plan's endpoint: the
//!   simulator must accept it;
//! - a request the engine refuses is posted raw to the model's endpoint: the
//!   simulator must refuse it too, unless every error the engine found cites
//!   a rule the simulator deliberately does not check
//!   (`NOT_CHECKED_BY_THE_SIMULATOR`, each with its seed-rules number).
//!
//! This file must not judge requests itself, read the exported schemas as a
//! judge, or talk to any address but the simulator's loopback port.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Map, Value, json};
use vidspec_core::{Diagnostic, Diagnostics, Model};
use vidspec_sim::{Sim, SimConfig};
use vidspec_tests::{Case, Rng, registry};

/// The generator's fixed seed; any `u64` gives another deterministic run.
/// (…0c since the generator is fastrand's: …11 no longer drew a request of
/// the rare "empty start frame beside the other" class.)
const SEED: u64 = 0xd1ff_5eed_0000_000c;

/// Randomly mutated requests per model, after the one-field-at-a-time ones
/// (seven models: several thousand requests in all).
const REQUESTS_PER_MODEL: usize = 700;

/// An engine error the simulator deliberately does not check: the engine
/// refuses, the simulator accepts, and that is by design. The simulator checks
/// only what the gateway is documented to answer with a 400 (see its
/// `checks.rs`): the model id, a non-empty prompt, Omni-Flash-Ext's coded errors
/// (duration, resolution, two images) and Midjourney's input rules M1–M7.
struct NotChecked {
    /// The seed-rules number the engine cites (`-`: an error citing none).
    rule: &'static str,
    /// Why the simulator does not check it.
    reason: &'static str,
    /// Whether this engine error is the unchecked part of the rule (`always`
    /// for a rule the simulator does not check at all).
    applies: fn(&Value, &Diagnostic) -> bool,
}

fn always(_: &Value, _: &Diagnostic) -> bool {
    true
}

/// The error is about one top-level key the request has (not the request as a
/// whole, nor something inside a value).
fn about_a_top_level_key(request: &Value, error: &Diagnostic) -> bool {
    error
        .path
        .strip_prefix('/')
        .is_some_and(|key| !key.contains('/') && request.get(key).is_some())
}

/// The prompt is a string with something besides spaces in it: what is wrong
/// is its length, which the simulator does not check.
fn prompt_is_not_blank(request: &Value, _: &Diagnostic) -> bool {
    request
        .get("prompt")
        .and_then(Value::as_str)
        .is_some_and(|prompt| !prompt.trim().is_empty())
}

/// `image_urls` holds four or more strings.
fn four_or_more_images(request: &Value, _: &Diagnostic) -> bool {
    request
        .get("image_urls")
        .and_then(Value::as_array)
        .is_some_and(|images| images.len() >= 4 && images.iter().all(Value::is_string))
}

/// The error is about `image_urls` itself (its count or an item's URL), not
/// about which of `image_urls` and `task_id` is given.
fn about_the_start_frames(_: &Value, error: &Diagnostic) -> bool {
    error.path.starts_with("/image_urls")
}

/// The request has no `task_id` (M3's "index goes with task_id").
fn has_no_task_id(request: &Value, _: &Diagnostic) -> bool {
    request.get("task_id").is_none_or(Value::is_null)
}

#[rustfmt::skip]
const NOT_CHECKED_BY_THE_SIMULATOR: &[NotChecked] = &[
    // Errors citing no rule: an unknown field (the gateway ignores what it does not
    // know), or a wrong model id on Midjourney's route, which reads no model.
    NotChecked { rule: "-", reason: "an unknown top-level key, or a model id on a route that reads none", applies: about_a_top_level_key },
    // PixVerse v6: the simulator checks only the model id (P1) and a non-empty prompt.
    NotChecked { rule: "P2", reason: "prompt length is not checked, only that it is not empty", applies: prompt_is_not_blank },
    NotChecked { rule: "P3", reason: "resolution enum", applies: always },
    NotChecked { rule: "P4", reason: "duration enum and its first/last-frame limit", applies: always },
    NotChecked { rule: "P5", reason: "size enum", applies: always },
    NotChecked { rule: "P6", reason: "seed range", applies: always },
    NotChecked { rule: "P7", reason: "negative_prompt type and length", applies: always },
    NotChecked { rule: "P8", reason: "audio type", applies: always },
    NotChecked { rule: "P9", reason: "watermark type", applies: always },
    NotChecked { rule: "P10", reason: "motion_mode enum", applies: always },
    NotChecked { rule: "P11", reason: "generate_multi_clip_switch type", applies: always },
    NotChecked { rule: "P12", reason: "image_urls count", applies: always },
    NotChecked { rule: "P13", reason: "first and last frame together", applies: always },
    NotChecked { rule: "P14", reason: "img_references count", applies: always },
    NotChecked { rule: "P15", reason: "extend_from_task_id not empty", applies: always },
    NotChecked { rule: "P17", reason: "image URL schemes", applies: always },
    // Vidu Q3: only the model id (V1) and a non-empty prompt.
    NotChecked { rule: "V2", reason: "prompt length is not checked, only that it is not empty", applies: prompt_is_not_blank },
    NotChecked { rule: "V3", reason: "image_urls presence, count and schemes", applies: always },
    NotChecked { rule: "V4", reason: "duration range per model", applies: always },
    NotChecked { rule: "V5", reason: "resolution enum per model", applies: always },
    NotChecked { rule: "V6", reason: "aspect_ratio enum", applies: always },
    NotChecked { rule: "V7", reason: "seed type", applies: always },
    // Omni-Flash-Ext: the simulator checks its page's coded errors O3, O4 and O7's two images.
    NotChecked { rule: "O5", reason: "aspect_ratio shape (no coded error on the page)", applies: always },
    NotChecked { rule: "O6", reason: "size given beside its alias aspect_ratio", applies: always },
    NotChecked { rule: "O7", reason: "four or more images are untested and discouraged, not a documented 400", applies: four_or_more_images },
    // Veo 3.1: only the model id (E1) and a non-empty prompt.
    NotChecked { rule: "E3", reason: "negative_prompt type", applies: always },
    NotChecked { rule: "E4", reason: "duration enum", applies: always },
    NotChecked { rule: "E5", reason: "aspect_ratio enum", applies: always },
    NotChecked { rule: "E6", reason: "resolution enum", applies: always },
    NotChecked { rule: "E7", reason: "first/last frame URLs and their pairing", applies: always },
    NotChecked { rule: "E8", reason: "seed range", applies: always },
    NotChecked { rule: "E9", reason: "sample_count range", applies: always },
    NotChecked { rule: "E10", reason: "generate_audio type", applies: always },
    NotChecked { rule: "E11", reason: "person_generation enum", applies: always },
    NotChecked { rule: "E12", reason: "resize_mode enum", applies: always },
    NotChecked { rule: "E13", reason: "enhance_prompt must not be false", applies: always },
    // Midjourney: the simulator checks M1–M7 as its page states them.
    NotChecked { rule: "M1", reason: "it checks which of image_urls and task_id is given, not the count of start frames or their URL schemes", applies: about_the_start_frames },
    NotChecked { rule: "M3", reason: "it checks index 0–3, not that index goes with task_id", applies: has_no_task_id },
    NotChecked { rule: "M8", reason: "end_url is not checked", applies: always },
];

/// The simulator reads JSON `null` as "absent" (as the Go backends behind such
/// gateways do) where the engine refuses `null` as a value of the wrong type:
/// an engine error about a field whose value is `null` is not a disagreement.
fn value_is_null(request: &Value, error: &Diagnostic) -> bool {
    request.pointer(&error.path).is_some_and(Value::is_null)
}

/// The entry of `NOT_CHECKED_BY_THE_SIMULATOR` that excuses this engine error.
fn not_checked_entry(request: &Value, error: &Diagnostic) -> Option<&'static NotChecked> {
    NOT_CHECKED_BY_THE_SIMULATOR
        .iter()
        .find(|entry| entry.rule == rule_of_error(error) && (entry.applies)(request, error))
}

/// The excuse of a request whose model id no seed spec defines.
const GENERIC: &str = "generic";

/// The request names, as a string, a model id no seed spec defines: the
/// simulator takes it for a model added as data and gives it a generic task
/// without judging anything else, so the engine's errors have no judge.
fn names_a_model_added_as_data(request: &Value) -> bool {
    request
        .get("model")
        .and_then(Value::as_str)
        .is_some_and(|id| registry().model(id).is_none())
}

/// Which seed-rule an engine error stands for in `NOT_CHECKED_BY_THE_SIMULATOR`.
fn rule_of_error(error: &Diagnostic) -> &str {
    error.rule.as_deref().unwrap_or("-")
}

/// Known disagreements, by class (an `xfail` list: each must still occur, so
/// the fix of one fails this test until its entry is removed).
#[rustfmt::skip]
const KNOWN_DISAGREEMENTS: &[(&str, &str)] = &[
    ("blank prompt", "engine accepts, simulator refuses; likely engine gap: a prompt of spaces only passes the engine (min length 1); the pages make an empty prompt a 400 (O2/O9, P2, V2, E2, M2) and the simulator trims before it checks; whether the gateway trims is undocumented"),
    ("blank task_id", "engine accepts, simulator refuses; likely engine gap: Midjourney's task_id of spaces only counts as given for the engine (M1, M2, M5), the simulator reads it as absent"),
    ("empty start frame beside the other", "engine refuses (M1: both given), simulator accepts: an empty image_urls beside task_id, or a blank task_id beside image_urls, counts as given for the engine and as absent for the simulator; the page does not say which reading the gateway takes; the engine's is the safe one"),
];

/// The text is a string of spaces only (or empty).
fn is_blank(request: &Value, name: &str) -> bool {
    request
        .get(name)
        .and_then(Value::as_str)
        .is_some_and(|text| text.trim().is_empty())
}

/// The known class of a body the engine accepts and the simulator refuses.
fn known_class_of_accepted(body: &Value) -> Option<&'static str> {
    if is_blank(body, "task_id") {
        Some("blank task_id")
    } else if is_blank(body, "prompt") {
        Some("blank prompt")
    } else {
        None
    }
}

/// The known class of a request the engine refuses and the simulator accepts.
fn known_class_of_refused(request: &Value) -> Option<&'static str> {
    let images = request.get("image_urls").and_then(Value::as_array);
    let empty_images = images.is_some_and(Vec::is_empty);
    let some_images = images.is_some_and(|images| !images.is_empty());
    let task = request.get("task_id").and_then(Value::as_str);
    let blank_task = task.is_some_and(|task| task.trim().is_empty());
    let real_task = task.is_some_and(|task| !task.trim().is_empty());
    ((empty_images && real_task) || (blank_task && some_images))
        .then_some("empty start frame beside the other")
}

// ---------------------------------------------------------------------------
// Where generated values come from.
// ---------------------------------------------------------------------------

/// Values of every JSON type, for "wrong-typed" mutations.
fn wrong_typed_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(""),
        json!(" "),
        json!("x"),
        json!("https://example.com/a.png"),
        json!([]),
        json!(["https://example.com/a.png"]),
        json!({}),
    ]
}

/// Everything a model's requests may draw values from, by field name: values
/// of the valid cases of its family, and the enum values, constants and bounds
/// (± 1) its exported schema names for the field (read as a value source only).
fn value_pool(model: &Model, seeds: &[Map<String, Value>]) -> BTreeMap<String, Vec<Value>> {
    let mut pool: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut add = |name: &str, value: &Value| {
        pool.entry(name.to_owned())
            .or_default()
            .insert(value.to_string());
    };
    for seed in seeds {
        for (name, value) in seed {
            add(name, value);
        }
    }
    fn walk(schema: &Value, add: &mut dyn FnMut(&str, &Value)) {
        match schema {
            Value::Object(object) => {
                if let Some(Value::Object(properties)) = object.get("properties") {
                    for (name, property) in properties {
                        for value in property
                            .get("enum")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                        {
                            add(name, value);
                        }
                        if let Some(value) = property.get("const") {
                            add(name, value);
                        }
                        for bound in ["minimum", "maximum"] {
                            if let Some(number) = property.get(bound).and_then(Value::as_i64) {
                                for near in [number - 1, number, number + 1] {
                                    add(name, &json!(near));
                                }
                            }
                        }
                    }
                }
                for child in object.values() {
                    walk(child, add);
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk(item, add);
                }
            }
            _ => {}
        }
    }
    walk(model.json_schema(), &mut add);
    pool.into_iter()
        .map(|(name, texts)| {
            let values = texts
                .iter()
                .filter_map(|text| serde_json::from_str(text).ok())
                .collect();
            (name, values)
        })
        .collect()
}

/// A value near `value`: a number moved by one or doubled, a string with its
/// case flipped, blanked or repeated, an array shortened or lengthened.
fn neighbour_of(rng: &mut Rng, value: &Value) -> Value {
    match value {
        Value::Number(number) => {
            let n = number.as_f64().unwrap_or(0.0);
            match rng.below(6) {
                0 => json!(n as i64 + 1),
                1 => json!(n as i64 - 1),
                2 => json!(n as i64 * 2),
                3 => json!(n + 0.5),
                4 => json!(0),
                _ => json!(n.to_string()),
            }
        }
        Value::String(text) => match rng.below(6) {
            0 => json!(text.to_uppercase()),
            1 => json!(""),
            2 => json!("   "),
            3 => json!(text.repeat(400)),
            4 => json!(format!("{text} ")),
            _ => json!(text.to_lowercase()),
        },
        Value::Array(items) => resized(rng, items),
        Value::Bool(flag) => json!(!flag),
        other => other.clone(),
    }
}

/// `items` with a different count: empty, one fewer, one or several more
/// (copies of its own items, or a URL when it had none).
fn resized(rng: &mut Rng, items: &[Value]) -> Value {
    let filler = items
        .first()
        .cloned()
        .unwrap_or_else(|| json!("https://example.com/b.png"));
    let target = match rng.below(5) {
        0 => 0,
        1 => items.len().saturating_sub(1),
        2 => items.len() + 1,
        3 => items.len() + 2,
        _ => rng.below(9),
    };
    let mut resized: Vec<Value> = items.iter().take(target).cloned().collect();
    while resized.len() < target {
        resized.push(filler.clone());
    }
    Value::Array(resized)
}

/// One model's generator inputs.
struct Generator<'a> {
    model: &'a Model,
    /// Valid case requests of the family, addressed to this model.
    seeds: Vec<Map<String, Value>>,
    /// Field names the model's spec declares.
    field_names: Vec<String>,
    /// Values by field name.
    pool: BTreeMap<String, Vec<Value>>,
    /// Every model id the registry knows.
    model_ids: Vec<String>,
}

impl Generator<'_> {
    /// One near-valid request: a seed with one to three mutations.
    fn request(&self, rng: &mut Rng) -> Value {
        let mut request = rng.pick(&self.seeds).clone();
        let mutations = 1 + rng.below(3);
        for _ in 0..mutations {
            self.mutate(rng, &mut request);
        }
        Value::Object(request)
    }

    /// Every field in turn, on a valid case (the cases taken in rotation):
    /// dropped, set to each wrong-typed value and to each value of its pool.
    fn one_field_at_a_time(&self) -> Vec<Value> {
        let mut requests = Vec::new();
        for (index, name) in self.field_names.iter().enumerate() {
            let seed = &self.seeds[index % self.seeds.len()];
            let mut dropped = seed.clone();
            if dropped.remove(name).is_some() {
                requests.push(Value::Object(dropped));
            }
            let pool = self.pool.get(name).cloned().unwrap_or_default();
            for value in wrong_typed_values().into_iter().chain(pool) {
                let mut request = seed.clone();
                request.insert(name.clone(), value);
                requests.push(Value::Object(request));
            }
        }
        requests
    }

    fn mutate(&self, rng: &mut Rng, request: &mut Map<String, Value>) {
        let present: Vec<String> = request.keys().cloned().collect();
        let absent: Vec<&String> = self
            .field_names
            .iter()
            .filter(|name| !request.contains_key(*name))
            .collect();
        match rng.below(11) {
            // Drop a field.
            0 if !present.is_empty() => {
                request.remove(rng.pick(&present));
            }
            // A field set to another value it may take somewhere.
            1 | 8 if !present.is_empty() => {
                let name = rng.pick(&present).clone();
                if let Some(values) = self.pool.get(&name).filter(|values| !values.is_empty()) {
                    request.insert(name, rng.pick(values).clone());
                }
            }
            // A field set to a neighbouring value.
            2 | 9 if !present.is_empty() => {
                let name = rng.pick(&present).clone();
                let near = neighbour_of(rng, &request[&name]);
                request.insert(name, near);
            }
            // A field set to a value of another type (or null).
            3 if !present.is_empty() => {
                let name = rng.pick(&present).clone();
                request.insert(name, rng.pick(&wrong_typed_values()).clone());
            }
            // A field the request does not have (of another mode, say).
            4 if !absent.is_empty() => {
                let name = rng.pick(&absent).to_string();
                let value = match self.pool.get(&name).filter(|values| !values.is_empty()) {
                    Some(values) => rng.pick(values).clone(),
                    None => rng.pick(&wrong_typed_values()).clone(),
                };
                request.insert(name, value);
            }
            // An array with another count.
            5 => {
                let arrays: Vec<String> = request
                    .iter()
                    .filter(|(_, value)| value.is_array())
                    .map(|(name, _)| name.clone())
                    .collect();
                if !arrays.is_empty() {
                    let name = rng.pick(&arrays).clone();
                    let items = request[&name].as_array().cloned().unwrap_or_default();
                    request.insert(name, resized(rng, &items));
                }
            }
            // Another model id, or a near miss of this one.
            6 => {
                let id = match rng.below(3) {
                    0 => self.model.id().to_uppercase(),
                    _ => rng.pick(&self.model_ids).clone(),
                };
                request.insert("model".to_owned(), json!(id));
            }
            // A key no spec declares.
            7 => {
                request.insert("promt".to_owned(), json!("a typo"));
            }
            // A mutation that found nothing to change: the request stays as it is.
            _ => {}
        }
    }
}

/// The valid case requests of `model`'s family, addressed to `model` when the
/// case names a model.
fn seeds_for(model: &Model) -> Vec<Map<String, Value>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("cases")
        .join(model.family())
        .join("ok");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .filter_map(|path| {
            let mut request = Case::read(path).request.as_object()?.clone();
            if request.contains_key("model") {
                request.insert("model".to_owned(), json!(model.id()));
            }
            Some(request)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The simulator as a judge.
// ---------------------------------------------------------------------------

/// The simulator's verdict: `Ok(())` for 200, `Err(message)` for 400.
async fn simulator_verdict(
    client: &reqwest::Client,
    base: &reqwest::Url,
    path: &str,
    body: &Value,
) -> Result<(), String> {
    let url = base
        .join(path)
        .unwrap_or_else(|error| panic!("{path}: not a path below the simulator's URL: {error}"));
    let response = client
        .post(url)
        .bearer_auth(SimConfig::default().api_key)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|error| panic!("the simulator answers: {error}"));
    let status = response.status().as_u16();
    let answer: Value = response
        .json()
        .await
        .unwrap_or_else(|error| panic!("the simulator answers JSON: {error}"));
    match status {
        200 => Ok(()),
        400 => Err(answer["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()),
        other => panic!("the simulator answered {other} to {body}: {answer}"),
    }
}

/// One kind of disagreement, with how often it was seen and the first example.
#[derive(Default)]
struct Disagreement {
    count: usize,
    example: String,
}

/// What one run found.
#[derive(Default)]
struct Findings {
    requests: usize,
    engine_valid: usize,
    engine_invalid: usize,
    both_refuse: usize,
    /// Engine errors excused on a simulator-accepted request, by
    /// `NOT_CHECKED_BY_THE_SIMULATOR` rule (or `null`).
    excused: BTreeMap<String, usize>,
    /// Engine-accepts, simulator-refuses requests of a `KNOWN_DISAGREEMENTS` class.
    known: BTreeMap<&'static str, usize>,
    /// Disagreements to fix, by class.
    disagreements: BTreeMap<String, Disagreement>,
}

impl Findings {
    fn disagree(&mut self, class: String, example: String) {
        let entry = self.disagreements.entry(class).or_default();
        if entry.count == 0 {
            entry.example = example;
        }
        entry.count += 1;
    }
}

fn describe(diagnostics: &Diagnostics) -> String {
    diagnostics
        .errors
        .iter()
        .map(|error| format!("[{}] {error}", rule_of_error(error)))
        .collect::<Vec<_>>()
        .join("; ")
}

async fn judge_all(sim: &Sim) -> Findings {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap_or_else(|error| panic!("a loopback client: {error}"));
    let base = reqwest::Url::parse(&sim.base_url())
        .unwrap_or_else(|error| panic!("the simulator's base URL parses: {error}"));
    let registry = registry();
    let model_ids: Vec<String> = registry.ids().into_iter().map(str::to_owned).collect();
    let mut findings = Findings::default();
    for (stream, model) in registry.models().enumerate() {
        let seeds = seeds_for(model);
        assert!(!seeds.is_empty(), "{}: no valid cases", model.family());
        let generator = Generator {
            model,
            pool: value_pool(model, &seeds),
            seeds,
            field_names: model.fields().keys().cloned().collect(),
            model_ids: model_ids.clone(),
        };
        let mut rng = Rng::new(SEED ^ (stream as u64).wrapping_mul(0x9e37_79b9));
        let mut requests = generator.one_field_at_a_time();
        requests.extend((0..REQUESTS_PER_MODEL).map(|_| generator.request(&mut rng)));
        for request in requests {
            // A request naming another known model is that model's request (as
            // `vidspec check` reads it without `--model`).
            let model = request
                .get("model")
                .and_then(Value::as_str)
                .and_then(|id| registry.model(id))
                .unwrap_or(model);
            findings.requests += 1;
            match model.prepare(request.clone()) {
                Ok(plan) => {
                    findings.engine_valid += 1;
                    let body = Value::Object(plan.body().clone());
                    if let Err(message) =
                        simulator_verdict(&client, &base, &plan.endpoint().path, &body).await
                    {
                        if let Some(class) = known_class_of_accepted(&body) {
                            *findings.known.entry(class).or_default() += 1;
                            continue;
                        }
                        findings.disagree(
                            format!(
                                "{}: the engine accepts, the simulator refuses the plan body: {}",
                                model.family(),
                                message_shape(&message)
                            ),
                            format!("request {request} → body {body} → {message}"),
                        );
                    }
                }
                Err(diagnostics) => {
                    findings.engine_invalid += 1;
                    let verdict =
                        simulator_verdict(&client, &base, &model.endpoint().path, &request).await;
                    if verdict.is_err() {
                        findings.both_refuse += 1;
                        continue;
                    }
                    if names_a_model_added_as_data(&request) {
                        *findings.excused.entry(GENERIC.to_owned()).or_default() += 1;
                        continue;
                    }
                    let mut unexcused = BTreeSet::new();
                    for error in &diagnostics.errors {
                        let excuse = if value_is_null(&request, error) {
                            Some("null")
                        } else {
                            not_checked_entry(&request, error).map(|entry| entry.rule)
                        };
                        match excuse {
                            Some(excuse) => {
                                *findings.excused.entry(excuse.to_owned()).or_default() += 1;
                            }
                            None => {
                                unexcused.insert(rule_of_error(error).to_owned());
                            }
                        }
                    }
                    if !unexcused.is_empty()
                        && let Some(class) = known_class_of_refused(&request)
                    {
                        *findings.known.entry(class).or_default() += 1;
                        continue;
                    }
                    for rule in unexcused {
                        findings.disagree(
                            format!("rule {rule}: the engine refuses, the simulator accepts"),
                            format!("request {request} → {}", describe(&diagnostics)),
                        );
                    }
                }
            }
        }
    }
    findings
}

/// A simulator message without the value it quotes, so one class gathers
/// every request refused for the same reason.
fn message_shape(message: &str) -> String {
    message
        .split(' ')
        .map(|word| {
            if word.chars().any(|c| c.is_ascii_digit() || c == '"') {
                "…"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn engine_and_simulator_agree_on_thousands_of_near_valid_requests() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|error| panic!("a tokio runtime: {error}"));
    let findings = runtime.block_on(async {
        let config = SimConfig {
            speed: 1000.0,
            task_seconds: 1.0,
            ..SimConfig::default()
        };
        let addr = "127.0.0.1:0"
            .parse()
            .unwrap_or_else(|error| panic!("a loopback address: {error}"));
        let sim = Sim::start(addr, config)
            .await
            .unwrap_or_else(|error| panic!("the simulator starts: {error}"));
        let findings = judge_all(&sim).await;
        sim.shutdown().await;
        findings
    });
    eprintln!(
        "{} requests: engine valid {}, engine invalid {} (simulator also refuses {})",
        findings.requests, findings.engine_valid, findings.engine_invalid, findings.both_refuse
    );
    eprintln!("engine errors on simulator-accepted requests, excused:");
    for entry in NOT_CHECKED_BY_THE_SIMULATOR {
        let count = findings.excused.get(entry.rule).copied().unwrap_or(0);
        eprintln!("  {} ×{count}: {}", entry.rule, entry.reason);
    }
    let nulls = findings.excused.get("null").copied().unwrap_or(0);
    eprintln!("  null ×{nulls}: the simulator reads null as absent");
    let generic = findings.excused.get(GENERIC).copied().unwrap_or(0);
    eprintln!(
        "  {GENERIC} ×{generic}: a model id no seed spec defines gets the simulator's generic task"
    );
    for (class, reason) in KNOWN_DISAGREEMENTS {
        let count = findings.known.get(class).copied().unwrap_or(0);
        eprintln!("known disagreement {class} ×{count}: {reason}");
    }
    for (class, disagreement) in &findings.disagreements {
        eprintln!(
            "DISAGREE ×{}: {class}\n    e.g. {}",
            disagreement.count, disagreement.example
        );
    }
    assert!(
        findings.disagreements.is_empty(),
        "{} classes of disagreement (listed above): fix the engine or the simulator, or \
         excuse a rule the simulator deliberately does not check",
        findings.disagreements.len()
    );
    let stale_excuses: Vec<&str> = NOT_CHECKED_BY_THE_SIMULATOR
        .iter()
        .filter(|entry| !findings.excused.contains_key(entry.rule))
        .map(|entry| entry.rule)
        .collect();
    assert!(
        stale_excuses.is_empty(),
        "NOT_CHECKED_BY_THE_SIMULATOR entries no generated request needed: {stale_excuses:?}"
    );
    let fixed: Vec<&str> = KNOWN_DISAGREEMENTS
        .iter()
        .map(|(class, _)| *class)
        .filter(|class| !findings.known.contains_key(class))
        .collect();
    assert!(
        fixed.is_empty(),
        "known disagreements no longer seen (fixed? remove them from KNOWN_DISAGREEMENTS): {fixed:?}"
    );
    assert!(
        findings.requests >= 3000 && findings.engine_valid >= 500 && findings.both_refuse >= 500,
        "the generator must give thousands of requests, many valid and many refused by both"
    );
}
