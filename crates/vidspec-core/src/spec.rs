//! The spec language as Rust types: what a spec file may say, nothing more.
//!
//! These types hold data only. Every struct and enum variant denies unknown keys,
//! so a typo in a spec file (`minimun:`) is an error with its line and column.
//! Interpreting the data (lint, compile to JSON Schema, dispatch, shape, bill)
//! happens in the modules named for those jobs; this module must not grow logic.
//! `schemas/spec.schema.json` is generated from these types with schemars.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Number, Value};
use serde_saphyr::{Location, Spanned};

/// A value with the place in the spec file it came from (line and column).
///
/// The YAML reader's own location type stays inside the crate: a value reads
/// as `value`, its place as [`Located::line`] and [`Located::column`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Located<T> {
    /// The value as written.
    pub value: T,
    /// Where the value is used in its file (for an alias, the alias).
    pub(crate) referenced: Location,
}

impl<T> Located<T> {
    /// `value`, placed at `referenced`.
    pub(crate) fn new(value: T, referenced: Location) -> Located<T> {
        Located { value, referenced }
    }

    /// The 1-based line of the value in its spec file; 0 when unknown.
    pub fn line(&self) -> u64 {
        self.referenced.line()
    }

    /// The 1-based column of the value in its spec file; 0 when unknown.
    pub fn column(&self) -> u64 {
        self.referenced.column()
    }
}

/// Written as its value alone (so a generated schema shows a field's
/// default as the value it is).
impl<T: serde::Serialize> serde::Serialize for Located<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<T>::deserialize(deserializer)?;
        Ok(Located::new(spanned.value, spanned.referenced))
    }
}

/// One spec file: a model family, the models (variants) it serves, their request
/// fields, generation modes, cross-field rules, billing and how to read the task.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Family name; equal to the file stem (`specs/<family>.yaml`).
    #[schemars(with = "String")]
    pub family: Located<String>,
    /// What this family is, in a sentence or two; shown by `vidspec models`.
    pub description: String,
    /// The gateway file whose `endpoint:` and `task:` blocks this family
    /// inherits: `gateways/<name>.yaml` beside the spec files. Keys the spec
    /// writes itself under `endpoint:` or `task:` replace the gateway's.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub gateway: Option<Located<String>>,
    /// Where requests are sent: the keys written in the spec (with
    /// `gateway:`, only those that differ). Read [`Spec::endpoint`], the
    /// blocks merged at load time.
    #[serde(default, rename = "endpoint")]
    pub endpoint_keys: Option<EndpointKeys>,
    /// Where requests are sent, merged at load time from the gateway's
    /// `endpoint:` and the spec's own keys (not a key of the file).
    #[serde(skip)]
    #[schemars(skip)]
    pub endpoint: Endpoint,
    /// The model ids (variants) this family serves, with per-model overrides.
    #[schemars(with = "Vec<Variant>")]
    pub models: Vec<Located<Variant>>,
    /// Request fields by name (the JSON keys of the request body).
    #[schemars(with = "BTreeMap<String, Field>")]
    pub fields: BTreeMap<String, Located<Field>>,
    /// Generation modes in priority order: the first whose `when` holds wins.
    #[serde(default)]
    #[schemars(with = "Vec<Mode>")]
    pub modes: Vec<Located<Mode>>,
    /// Cross-field rules.
    #[serde(default)]
    #[schemars(with = "Vec<Rule>")]
    pub rules: Vec<Located<Rule>>,
    /// Values the gateway derives from others (applied when shaping the body).
    #[serde(default)]
    #[schemars(with = "Vec<Derive>")]
    pub derive: Vec<Located<Derive>>,
    /// How a request is billed.
    #[schemars(with = "Billing")]
    pub billing: Located<Billing>,
    /// How to submit, poll and read the task: the keys written in the spec
    /// (with `gateway:`, only those that differ). Read [`Spec::task`], the
    /// blocks merged at load time.
    #[serde(default, rename = "task")]
    pub task_keys: Option<TaskKeys>,
    /// How to submit, poll and read the task, merged at load time from the
    /// gateway's `task:` and the spec's own keys (not a key of the file).
    #[serde(skip)]
    #[schemars(skip)]
    pub task: Task,
}

/// A gateway file (`gateways/<name>.yaml` beside the specs): the `endpoint:`
/// and `task:` blocks that the families naming it with `gateway: <name>`
/// share. A family's own keys under `endpoint:` and `task:` replace these.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    /// What this gateway is.
    #[serde(default)]
    pub description: Option<String>,
    /// The endpoint keys the families inherit.
    #[serde(default)]
    pub endpoint: Option<EndpointKeys>,
    /// The task keys the families inherit.
    #[serde(default)]
    pub task: Option<TaskKeys>,
}

/// The keys of an `endpoint:` block as written, each optional: a spec's own
/// keys replace its gateway's, and the merged block must have a `path`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointKeys {
    /// HTTP method, normally `POST` (the default).
    #[serde(default)]
    pub method: Option<String>,
    /// Path below the base URL, e.g. `/v1/videos/generations`.
    #[serde(default)]
    pub path: Option<String>,
    /// Whether the body carries a `model` field naming the model id (the
    /// default). When false, a `model` key in a request only selects the
    /// model and is not sent.
    #[serde(default)]
    pub model_field: Option<bool>,
    /// The request header the endpoint reads an idempotency key from, when
    /// it honours one. Absent: submits carry no key and are never resent
    /// once they may have arrived.
    #[serde(default)]
    pub idempotency: Option<Idempotency>,
    /// The top-level body field that takes a callback URL, and the path
    /// segment the gateway appends to it, when the endpoint calls back once
    /// a task ends. Absent: tasks are only polled.
    #[serde(default)]
    pub webhook: Option<Webhook>,
}

/// An endpoint that calls back when a task ends: a base URL given in the
/// top-level body field `field` makes the gateway POST the task to
/// `<base>/<callback>` once the task is finished. The callback is unsigned,
/// so a receiver reads the task again from the API before acting on it.
/// The field is set on a plan after validation (`Plan::with_webhook`); a
/// request never carries it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// The top-level body field that carries the base URL, e.g. `webhook`
    /// (not a field the spec declares, nor `model`).
    pub field: String,
    /// The path segment the gateway appends to the base URL, e.g. `callback`
    /// for `<base>/callback` (one plain segment: letters, digits, `-`, `.`,
    /// `_`, `~`).
    pub callback: String,
}

/// An endpoint that honours idempotency keys: a submit carrying the same key
/// and the same body is answered with the original task (replayed) instead
/// of creating, and charging, a second one. With it the transport resends a
/// submit whose answer was lost, with the same key and body bytes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Idempotency {
    /// The request header that carries the key, e.g. `Idempotency-Key` (an
    /// HTTP header name; not one the client sets itself).
    pub header: String,
}

/// The keys of a `task:` block as written, each optional: a spec's own keys
/// replace its gateway's (a whole key: a spec's `read:` replaces the
/// gateway's `read:`), and the merged block must have every key but
/// `statuses`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskKeys {
    /// JSON pointers to the task id in the submit answer, tried in order.
    #[serde(default)]
    pub submit_task_id: Option<Vec<String>>,
    /// Poll path with `{task_id}`.
    #[serde(default)]
    pub poll_path: Option<String>,
    /// Poll hints.
    #[serde(default)]
    pub poll: Option<PollHints>,
    /// Where the fields of a task snapshot live in the poll answer.
    #[serde(default)]
    pub read: Option<TaskRead>,
    /// Raw status spellings by normalised status; merged over the vocabulary's.
    #[serde(default)]
    pub statuses: Option<BTreeMap<String, Vec<String>>>,
}

/// The HTTP endpoint a request is submitted to.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// HTTP method, normally `POST`.
    #[serde(default = "default_method")]
    pub method: String,
    /// Path below the base URL, e.g. `/v1/videos/generations`.
    pub path: String,
    /// Whether the body carries a `model` field naming the model id. When false,
    /// a `model` key in a request only selects the model and is not sent.
    #[serde(default = "default_true")]
    pub model_field: bool,
    /// The header the endpoint reads an idempotency key from, if it honours one.
    #[serde(default)]
    pub idempotency: Option<Idempotency>,
    /// The body field a callback URL goes in, if the endpoint calls back.
    #[serde(default)]
    pub webhook: Option<Webhook>,
}

fn default_method() -> String {
    "POST".to_owned()
}

fn default_true() -> bool {
    true
}

/// One model id of the family, with what differs for it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// The model id as the gateway spells it (`viduq3-mix`).
    pub id: String,
    /// What sets this model apart.
    #[serde(default)]
    pub description: Option<String>,
    /// The seed-rules number that names the model id (cited when `model` is wrong).
    #[serde(default)]
    pub rule: Option<String>,
    /// Field constraints that replace the family's for this model.
    #[serde(default)]
    pub overrides: BTreeMap<String, Override>,
}

/// The JSON type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// A JSON string.
    String,
    /// A JSON integer (a quoted "8" is an error).
    Integer,
    /// Any JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A string that is a URL with one of the allowed `schemes`.
    Url,
    /// A JSON array; `items` describes each element.
    Array,
    /// A JSON object; `fields` describes its keys.
    Object,
}

/// A URL scheme an image field accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// `http://…`
    Http,
    /// `https://…`
    Https,
    /// `data:image/<type>;base64,…`
    DataImage,
}

/// A request field: its type, constraints, default and how it is shaped.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// JSON type.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// What the field does (shown in docs and `explain`).
    #[serde(default)]
    pub description: Option<String>,
    /// The portable concept this field expresses, from the vocabulary's
    /// `concepts` (`aspect_ratio` for a field named `size`): how the capability
    /// matrix and cross-model tools find "the duration field" of any model.
    #[serde(default)]
    pub concept: Option<String>,
    /// The seed-rules number this field's constraints implement (`O3`).
    #[serde(default)]
    pub rule: Option<String>,
    /// Upstream error code for a value outside the constraints (`invalid_duration`).
    #[serde(default)]
    pub error_code: Option<String>,
    /// Must the request carry it?
    #[serde(default)]
    pub required: bool,
    /// The value the gateway uses when the field is absent.
    #[serde(default)]
    #[schemars(with = "Option<Value>")]
    pub default: Option<Located<Value>>,
    /// Allowed values; with `open: true`, the common values only.
    #[serde(default, rename = "enum")]
    pub values: Option<Vec<Value>>,
    /// `enum` lists common values; others pass with a warning. Needs `pattern`
    /// or a type to bound what passes.
    #[serde(default)]
    pub open: bool,
    /// String enums match regardless of case; the body gets the canonical spelling.
    #[serde(default)]
    pub case_insensitive: bool,
    /// Other spellings of enum values: `landscape: "16:9"`.
    #[serde(default)]
    pub value_aliases: BTreeMap<String, Value>,
    /// Regular expression (ECMA 262) a string must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Numeric lower bound (inclusive).
    #[serde(default)]
    pub min: Option<Number>,
    /// Numeric upper bound (inclusive).
    #[serde(default)]
    pub max: Option<Number>,
    /// Extra integer values allowed outside `min`..`max` (`-1` beside `4..30`).
    #[serde(default)]
    pub also: Vec<Number>,
    /// Minimum string length in characters.
    #[serde(default)]
    pub min_length: Option<u64>,
    /// Maximum string length in characters.
    #[serde(default)]
    pub max_length: Option<u64>,
    /// URL schemes accepted by a `url` field (or `url` items).
    #[serde(default)]
    pub schemes: Vec<Scheme>,
    /// Element description for `array` fields.
    #[serde(default)]
    #[schemars(with = "Option<Field>")]
    pub items: Option<Box<Located<Field>>>,
    /// Minimum number of array items.
    #[serde(default)]
    pub min_items: Option<u64>,
    /// Maximum number of array items.
    #[serde(default)]
    pub max_items: Option<u64>,
    /// Allowed item counts as a set (`[0, 1, 3]`).
    #[serde(default)]
    pub count_in: Option<Vec<u64>>,
    /// For arrays of objects: a key whose (enum) values may each appear at most once.
    #[serde(default)]
    pub unique_by: Option<String>,
    /// Keys of an `object` field (or object items).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Field>")]
    pub fields: BTreeMap<String, Located<Field>>,
    /// Another name the gateway accepts for this field (`size` for `aspect_ratio`).
    /// The body always carries the canonical name; giving both is an error.
    #[serde(default)]
    pub alias: Option<String>,
    /// The seed-rules number of the alias (cited when both names are given).
    #[serde(default)]
    pub alias_rule: Option<String>,
    /// Top-level fields this one takes priority over: when this field has a
    /// value, each of them leaves the body and the effective values (its
    /// default too), with a warning citing this field's `rule`.
    #[serde(default)]
    pub takes_priority_over: Vec<String>,
    /// The gateway uses only the first item: extra items are dropped with a warning.
    #[serde(default)]
    pub only_first: bool,
    /// Extra advice appended to every error about this field.
    #[serde(default)]
    pub hint: Option<String>,
    /// Constraints on the images this URL field points at (checked by pre-flight,
    /// not by the schema; exported under `x-vidspec`).
    #[serde(default)]
    pub image: Option<ImageConstraints>,
    /// Constraints on the videos this URL field points at (checked by
    /// pre-flight, not by the schema; exported under `x-vidspec`).
    #[serde(default)]
    pub video: Option<VideoConstraints>,
    /// Constraints on the audio files this URL field points at (checked by
    /// pre-flight, not by the schema; exported under `x-vidspec`).
    #[serde(default)]
    pub audio: Option<AudioConstraints>,
    /// The value names an earlier task that must be in a given state (a remote
    /// precondition, checked by pre-flight; exported under `x-vidspec`).
    #[serde(default)]
    pub refers_to_task: Option<TaskReference>,
}

impl Field {
    /// The image constraints of this field, or of its items for an array.
    pub fn image_constraints(&self) -> Option<&ImageConstraints> {
        self.image.as_ref().or_else(|| {
            self.items
                .as_ref()
                .and_then(|items| items.value.image.as_ref())
        })
    }

    /// The video constraints of this field, or of its items for an array.
    pub fn video_constraints(&self) -> Option<&VideoConstraints> {
        self.video.as_ref().or_else(|| {
            self.items
                .as_ref()
                .and_then(|items| items.value.video.as_ref())
        })
    }

    /// The audio constraints of this field, or of its items for an array.
    pub fn audio_constraints(&self) -> Option<&AudioConstraints> {
        self.audio.as_ref().or_else(|| {
            self.items
                .as_ref()
                .and_then(|items| items.value.audio.as_ref())
        })
    }
}

/// Bounds a `constrain` rule puts on a field's value, in place of the field's
/// own while the rule applies.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    /// Allowed values.
    #[serde(default, rename = "enum")]
    pub values: Option<Vec<Value>>,
    /// Numeric lower bound.
    #[serde(default)]
    pub min: Option<Number>,
    /// Numeric upper bound.
    #[serde(default)]
    pub max: Option<Number>,
    /// Minimum string length.
    #[serde(default)]
    pub min_length: Option<u64>,
    /// Maximum string length.
    #[serde(default)]
    pub max_length: Option<u64>,
    /// Minimum number of items.
    #[serde(default)]
    pub min_items: Option<u64>,
    /// Maximum number of items.
    #[serde(default)]
    pub max_items: Option<u64>,
    /// Allowed item counts as a set.
    #[serde(default)]
    pub count_in: Option<Vec<u64>>,
}

/// What one model id of a family changes of a field: bounds and the default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Allowed values.
    #[serde(default, rename = "enum")]
    pub values: Option<Vec<Value>>,
    /// Numeric lower bound.
    #[serde(default)]
    pub min: Option<Number>,
    /// Numeric upper bound.
    #[serde(default)]
    pub max: Option<Number>,
    /// Minimum string length.
    #[serde(default)]
    pub min_length: Option<u64>,
    /// Maximum string length.
    #[serde(default)]
    pub max_length: Option<u64>,
    /// Minimum number of items.
    #[serde(default)]
    pub min_items: Option<u64>,
    /// Maximum number of items.
    #[serde(default)]
    pub max_items: Option<u64>,
    /// Allowed item counts as a set.
    #[serde(default)]
    pub count_in: Option<Vec<u64>>,
    /// The value this model uses when the field is absent.
    #[serde(default)]
    pub default: Option<Value>,
}

/// What a pre-flight check may verify about the images behind a URL.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ImageConstraints {
    /// Accepted formats by magic bytes, from the names pre-flight reads
    /// (`media_formats::IMAGE`: `png`, `jpeg`, `webp`, `gif`, `bmp`, `tiff`);
    /// none: any format.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub formats: Vec<String>,
    /// Minimum width in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_width: Option<u64>,
    /// Minimum height in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_height: Option<u64>,
    /// Smallest width/height ratio, as `W:H` (`1:4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_aspect: Option<String>,
    /// Largest width/height ratio, as `W:H` (`4:1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_aspect: Option<String>,
    /// Largest file size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
    /// Seed-rules number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// What a pre-flight check may verify about the videos behind a URL: what
/// the file's first bytes and its `moov` box tell (MP4 and MOV).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct VideoConstraints {
    /// Accepted containers by magic bytes, from the names pre-flight reads
    /// (`media_formats::VIDEO`: `mp4`, `mov`); none: any format.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub formats: Vec<String>,
    /// Largest file size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
    /// Shortest duration in seconds (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_seconds: Option<f64>,
    /// Longest duration in seconds (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_seconds: Option<f64>,
    /// Minimum width in pixels, as displayed (rotation applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_width: Option<u64>,
    /// Minimum height in pixels, as displayed (rotation applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_height: Option<u64>,
    /// Minimum length of the shorter side in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_short_side: Option<u64>,
    /// Smallest width/height ratio, as `W:H` (`1:8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_aspect: Option<String>,
    /// Largest width/height ratio, as `W:H` (`8:1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_aspect: Option<String>,
    /// Lowest average frame rate in frames per second (inclusive: "at least").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_fps: Option<f64>,
    /// A frame rate the average must exceed (exclusive: "more than 8 fps").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fps_above: Option<f64>,
    /// Highest average frame rate in frames per second (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fps: Option<f64>,
    /// Seed-rules number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// What a pre-flight check may verify about the audio behind a URL: format,
/// bytes, and the duration where the header gives it (WAV, FLAC, M4A).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AudioConstraints {
    /// Accepted formats by magic bytes, from the names pre-flight reads
    /// (`media_formats::AUDIO`: `mp3`, `wav`, `m4a`, `aac`, `ogg`, `flac`);
    /// none: any format.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub formats: Vec<String>,
    /// Largest file size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
    /// Shortest duration in seconds (inclusive; checked for WAV, FLAC, M4A).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_seconds: Option<f64>,
    /// Longest duration in seconds (inclusive; checked for WAV, FLAC, M4A).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_seconds: Option<f64>,
    /// Seed-rules number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// A remote precondition: the field names an earlier task.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct TaskReference {
    /// The task must have been made by one of these model ids (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// The normalised status it must have (`succeeded`).
    pub status: String,
    /// What the task must be, for people (`a finished imagine task`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Seed-rules number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// One or several strings (`present: a` or `present: [a, b]`).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A single item.
    One(T),
    /// A list.
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The items as a slice.
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(item) => std::slice::from_ref(item),
            OneOrMany::Many(items) => items,
        }
    }
}

/// A condition on a request: the small closed vocabulary that compiles to JSON
/// Schema (`required`, `const`, `enum`, `minItems`/`maxItems`, `not`, `allOf`, `anyOf`).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// Each named field has a value: given (under any spelling), or by its
    /// default (so `present` on a field with a default always holds).
    Present(OneOrMany<String>),
    /// None of the named fields has a value: not given, and no default (so
    /// `absent` on a field with a default never holds).
    Absent(OneOrMany<String>),
    /// Each named field's effective value equals the value.
    Equals(BTreeMap<String, Value>),
    /// Each named field's effective value is one of the values.
    In(BTreeMap<String, Vec<Value>>),
    /// Each named array field holds one of the given numbers of items
    /// (0 also matches an absent field).
    Count(BTreeMap<String, OneOrMany<u64>>),
    /// The request selects one of these modes.
    Mode(OneOrMany<String>),
    /// The request is for one of these model ids.
    Variant(OneOrMany<String>),
    /// Every condition holds.
    All(Vec<Condition>),
    /// At least one condition holds.
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
}

/// A generation mode: when it is selected and which fields it ignores.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mode {
    /// A name from the shared vocabulary (`specs/vocabulary.yaml`).
    pub name: String,
    /// When the mode is selected; absent means always (a catch-all, put last).
    #[serde(default)]
    pub when: Option<Condition>,
    /// Fields the gateway ignores in this mode: dropped from the body with a warning.
    #[serde(default)]
    pub ignores: Vec<String>,
    /// Fields this mode uses besides those its `when` names: when it wins,
    /// they are sent even if they would also select a lower-priority mode.
    /// Fields named by rules scoped to the mode (`when: {mode: …}`) count too.
    #[serde(default)]
    pub uses: Vec<String>,
    /// Seed-rules number of the mode table.
    #[serde(default)]
    pub rule: Option<String>,
    /// What the mode does.
    #[serde(default)]
    pub description: Option<String>,
    /// Where a request in this mode is sent, when not the family's `endpoint:`
    /// (APIs that post text-to-video and image-to-video to different paths).
    #[serde(default)]
    pub endpoint: Option<ModeEndpoint>,
}

/// The endpoint of one mode: its path, and its method if not the family's.
/// Whether the body carries `model`, whether idempotency keys are honoured
/// and whether the gateway calls back stay the family's
/// (`endpoint.model_field`, `endpoint.idempotency`, `endpoint.webhook`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModeEndpoint {
    /// HTTP method; the family endpoint's when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// Path below the base URL, e.g. `/v1/videos/image2video`.
    pub path: String,
}

/// How bad a broken rule is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The request is invalid (part of the exported schema).
    #[default]
    Error,
    /// The request passes with a warning (advice; not part of the schema).
    Warning,
}

/// A cross-field rule: when `when` holds (always, if absent), `then` must hold.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Seed-rules number (`M5`) or another short id.
    pub rule: String,
    /// When the rule applies.
    #[serde(default)]
    pub when: Option<Condition>,
    /// What must hold.
    pub then: Action,
    /// Upstream error code when it fails.
    #[serde(default)]
    pub error_code: Option<String>,
    /// The message shown when it fails, in place of the generated one.
    #[serde(default)]
    pub message: Option<String>,
    /// `error` (default) or `warning`.
    #[serde(default)]
    pub severity: Severity,
}

/// What a rule demands.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// These fields must have a value (given, or by a default).
    Require(Vec<String>),
    /// These fields must have no value: not given (a field with a default
    /// always has one, so forbidding it can never be met).
    Forbid(Vec<String>),
    /// All of these fields or none of them.
    Together(Vec<String>),
    /// Exactly one of these fields.
    ExactlyOneOf(Vec<String>),
    /// At most one of these fields, except the listed pairs.
    Exclusive(Exclusive),
    /// These fields must meet these constraints.
    Constrain(BTreeMap<String, Bounds>),
    /// The condition itself must hold (use with `severity: warning` for advice,
    /// or to state a rule no other action fits).
    Hold(Condition),
}

/// Pairwise exclusion among several fields, with allowed pairs.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exclusive {
    /// Fields of which at most one may be given.
    pub fields: Vec<String>,
    /// Pairs that may be given together.
    #[serde(default)]
    pub allow: Vec<[String; 2]>,
}

/// A value the gateway derives: when `when` holds, `field` is mapped through `map`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Derive {
    /// Seed-rules number.
    pub rule: String,
    /// When to derive.
    pub when: Condition,
    /// The field whose effective value changes.
    pub field: String,
    /// Old value (as a string) → new value.
    pub map: BTreeMap<String, Value>,
}

/// How a request is charged.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Billing {
    /// The billing key; `{name}` is replaced by the effective value of field
    /// `name` (`{model}` by the model id), `{name|text}` by `text` when the
    /// field has no effective value.
    pub key: String,
    /// Keys that replace `key` when their condition holds (first match wins).
    #[serde(default)]
    pub cases: Vec<BillingCase>,
    /// A field whose effective integer value multiplies the charge.
    #[serde(default)]
    pub multiplier: Option<String>,
    /// The fields that drive the price, for docs.
    #[serde(default)]
    pub dimensions: Vec<String>,
    /// Seed-rules number.
    #[serde(default)]
    pub rule: Option<String>,
}

/// A billing key used when a condition holds.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingCase {
    /// Condition on the effective values.
    pub when: Condition,
    /// Key template.
    pub key: String,
}

/// How to read the gateway's answers for this family.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// JSON pointers to the task id in the submit answer, tried in order.
    pub submit_task_id: Vec<String>,
    /// Poll path with `{task_id}`.
    pub poll_path: String,
    /// Poll hints.
    pub poll: PollHints,
    /// Where the fields of a task snapshot live in the poll answer.
    pub read: TaskRead,
    /// Raw status spellings by normalised status; merged over the vocabulary's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub statuses: BTreeMap<String, Vec<String>>,
}

/// When to poll.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PollHints {
    /// Seconds before the first poll.
    pub first_after_s: u64,
    /// Seconds between polls.
    pub every_s: u64,
    /// How long a task typically takes, in seconds.
    pub typical_s: u64,
    /// Give up after this many seconds.
    pub timeout_s: u64,
    /// Seed-rules number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// JSON pointers into a poll answer; each list is tried in order, first hit wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct TaskRead {
    /// Task status.
    pub status: Vec<String>,
    /// Progress, 0–100.
    #[serde(default)]
    pub progress: Vec<String>,
    /// Amount charged.
    #[serde(default)]
    pub cost: Vec<String>,
    /// Estimated total seconds.
    #[serde(default)]
    pub estimated_time: Vec<String>,
    /// Actual seconds taken.
    #[serde(default)]
    pub actual_time: Vec<String>,
    /// Video results.
    pub videos: Vec<VideoRead>,
    /// Error code of a failed task.
    #[serde(default)]
    pub error_code: Vec<String>,
    /// Error message of a failed task.
    #[serde(default)]
    pub error_message: Vec<String>,
    /// Result extras beside the videos, by the name the snapshot gives them
    /// (`thumbnail_url: [/data/result/thumbnail_url]`): JSON pointers tried
    /// in order, the first non-null value kept as the gateway wrote it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extras: BTreeMap<String, Vec<String>>,
}

/// Where video URLs are: `each` points at an array; `url` and `expires_at` are
/// pointers relative to one element (`""` is the element itself). A `url` that
/// is an array yields each of its strings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct VideoRead {
    /// Pointer to the array of video entries.
    pub each: String,
    /// Pointer (relative to an entry) to the URL or array of URLs.
    pub url: String,
    /// Pointer (relative to an entry) to the expiry, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// The shared vocabulary: mode names and status spellings (`specs/vocabulary.yaml`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vocabulary {
    /// Mode names with a description each.
    pub modes: BTreeMap<String, String>,
    /// Portable request concepts (duration, resolution, …) with a description
    /// each; spec fields name theirs with `concept:`.
    #[serde(default)]
    pub concepts: BTreeMap<String, String>,
    /// Raw status spellings (matched case-insensitively) by normalised status:
    /// `queued`, `running`, `succeeded`, `failed`, `cancelled`.
    pub statuses: BTreeMap<String, Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_located_value_keeps_the_line_and_column_it_was_read_at() {
        let read: BTreeMap<String, Located<u32>> =
            serde_saphyr::from_str("a: 1\nb:   2\n").expect("YAML");
        assert_eq!(read["b"].value, 2);
        assert_eq!((read["b"].line(), read["b"].column()), (2, 6));
    }

    #[test]
    fn a_located_value_is_written_as_its_value_alone() {
        let read: Located<String> = serde_saphyr::from_str("hello").expect("YAML");
        assert_eq!(serde_json::to_value(&read).expect("JSON"), "hello");
    }
}
