//! The constructs of the spec language, one module each: what a field
//! constraint, a condition or a rule's action compiles to, the `x-vidspec`
//! annotation (with its explicit `kind`) it puts on each schema node that can
//! fail, the message a failure of that node reads as, and its words for the
//! docs.
//!
//! Field constraints: `field` (the JSON type), `values`, `range`, `length`,
//! `pattern`, `url`, `items`, `count_in`, `unique_by`, `required`, `alias`,
//! `model` and `modes` (the request selects a mode). Conditions: `present`,
//! `absent`, `equals`, `in_values`, `count`, `mode`, `variant`, `all`, `any`,
//! `not`. Actions: `require`, `forbid`, `together`, `exactly_one_of`,
//! `exclusive`, `constrain`, `hold`.
//!
//! Every construct reads the *effective* request: the request as given, with
//! each absent field that has a default taken as given with that default.
//! Compile makes this true of the exported schema itself: a condition on a
//! field with a default holds for an absent field exactly when it holds for
//! the default (`Context::value_test`), so any JSON Schema validator agrees.
//! `Context` also makes every construct take a path to a sub-field
//! (`metadata.resolution`: nested `required`/`properties`, each segment under
//! its name or alias) and read a field that another takes priority over
//! (`takes_priority_over`) as absent while the winner has a value
//! (`Context::overruled`).
//!
//! A new construct is a new module here, a variant of `Kind` when it can fail,
//! and its key in `spec`. This module must not run requests: `validate` runs
//! the schema and calls `message` with each failure.

pub(crate) mod absent;
pub(crate) mod alias;
pub(crate) mod all;
pub(crate) mod any;
pub(crate) mod constrain;
pub(crate) mod count;
pub mod count_in;
pub(crate) mod equals;
pub(crate) mod exactly_one_of;
pub(crate) mod exclusive;
pub(crate) mod field;
pub(crate) mod forbid;
pub(crate) mod hold;
pub(crate) mod in_values;
pub mod items;
pub mod length;
pub(crate) mod mode;
pub(crate) mod model;
pub(crate) mod modes;
pub(crate) mod not;
pub(crate) mod pattern;
pub(crate) mod present;
pub mod range;
pub(crate) mod require;
pub(crate) mod required;
pub(crate) mod together;
pub(crate) mod unique_by;
pub(crate) mod url;
pub(crate) mod values;
pub(crate) mod variant;

use std::collections::BTreeMap;

use jsonschema::error::ValidationErrorKind;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value, json};

use crate::spec::{Action, Condition, Field, Spec};
use crate::words::Style;

/// What a schema node means to a person; stored under `x-vidspec` in the schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Annotation {
    /// Which construct made the node, with what the construct's message needs.
    #[serde(flatten)]
    pub kind: Kind,
    /// The request field the node is about (`metadata.resolution` inside objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seed-rules number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Upstream error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The spec author's message, in place of the generated one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the rule applies, in words (`in first_last_frame mode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Extra advice for this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Annotation {
    /// An annotation of `kind` with nothing else said.
    pub fn of(kind: Kind) -> Annotation {
        Annotation {
            kind,
            field: None,
            rule: None,
            error_code: None,
            message: None,
            scope: None,
            hint: None,
        }
    }

    /// This annotation with the rule's number, code, message and scope.
    pub(crate) fn tagged(mut self, tag: &Tag) -> Annotation {
        self.rule = tag.rule.clone().or(self.rule);
        self.error_code = tag.error_code.clone().or(self.error_code);
        self.message = tag.message.clone().or(self.message);
        self.scope = tag.scope.clone().or(self.scope);
        self
    }

    /// The annotation as the JSON stored under `x-vidspec`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The construct a schema node comes from, and the facts its message quotes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Kind {
    /// A field's JSON type (`field`).
    Field {
        /// The type in words (`an integer`).
        expected: String,
    },
    /// Allowed values (`values`).
    Values {
        /// The canonical values.
        values: Vec<Value>,
    },
    /// A numeric range with extra values (`range`).
    Range {
        /// Lower bound.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<Number>,
        /// Upper bound.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<Number>,
        /// Values allowed outside the range.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        also: Vec<Number>,
    },
    /// A string length (`length`).
    Length {
        /// Fewest characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<u64>,
        /// Most characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<u64>,
    },
    /// A regular expression (`pattern`).
    Pattern {
        /// The pattern.
        pattern: String,
    },
    /// A URL with allowed schemes (`url`).
    Url {
        /// What is expected, in words.
        expected: String,
    },
    /// Item counts as a range (`items`).
    Items {
        /// Fewest items.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<u64>,
        /// Most items.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<u64>,
    },
    /// Item counts as a set (`count_in`).
    CountIn {
        /// The allowed counts.
        counts: Vec<u64>,
    },
    /// A role that may appear once in an array of objects (`unique_by`).
    UniqueBy {
        /// The key.
        role: String,
        /// The value that may appear once.
        value: Value,
    },
    /// A field the request must carry (`required: true`).
    Required {
        /// The key inside its object.
        key: String,
    },
    /// A field and its alias given together (`alias`).
    Alias {
        /// The canonical name.
        canonical: String,
        /// The other name.
        alias: String,
    },
    /// The model id (`model`).
    Model {
        /// The id this schema checks.
        id: String,
    },
    /// The request selects one of the modes (`modes`).
    Modes {
        /// Mode names, in priority order.
        names: Vec<String>,
    },
    /// A rule's `require` (one node per field).
    Require {
        /// The field.
        name: String,
    },
    /// A rule's `forbid` (one node per field).
    Forbid {
        /// The field.
        name: String,
        /// The field's default, when it has one (the rule can never hold).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<Value>,
    },
    /// A rule's `together`.
    Together {
        /// The fields.
        fields: Vec<String>,
        /// Other spellings of the fields that have them.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        spellings: BTreeMap<String, Vec<String>>,
    },
    /// A rule's `exactly_one_of`.
    ExactlyOneOf {
        /// The fields.
        fields: Vec<String>,
    },
    /// One forbidden pair of a rule's `exclusive`.
    Exclusive {
        /// The first field of the pair.
        first: String,
        /// The second field of the pair.
        second: String,
    },
    /// A rule's `constrain` on a field whose default breaks the bounds: the
    /// field must be given.
    Constrain {
        /// The field.
        name: String,
        /// Its default.
        default: Value,
        /// The bounds, in words.
        bounds: String,
    },
    /// A rule's `hold`.
    Hold {
        /// The condition, in words.
        words: String,
    },
}

/// A rule's number, code, message and scope, put on every node it makes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tag {
    /// Seed-rules number.
    pub rule: Option<String>,
    /// Upstream error code.
    pub error_code: Option<String>,
    /// The author's message.
    pub message: Option<String>,
    /// When the rule applies, in words.
    pub scope: Option<String>,
}

/// One schema failure, as a construct's message function sees it.
pub(crate) struct Failure<'a> {
    /// The model id.
    pub model: &'a str,
    /// The nearest annotation above the failing node.
    pub annotation: &'a Annotation,
    /// The failing keyword.
    pub error: &'a ValidationErrorKind,
    /// The request value at the failing place.
    pub instance: &'a Value,
}

impl Failure<'_> {
    /// The field the failure is about, for messages.
    pub fn field(&self) -> &str {
        self.annotation.field.as_deref().unwrap_or("the value")
    }

    /// ` in first_last_frame mode`, or nothing.
    pub fn scope(&self) -> String {
        self.annotation
            .scope
            .as_ref()
            .map(|scope| format!(" {scope}"))
            .unwrap_or_default()
    }

    /// The failing value, cut and escaped for a message.
    pub fn value(&self) -> String {
        crate::validate::short(self.instance)
    }

    /// The author's message when there is one, else `generated`.
    pub fn or_generated(&self, generated: impl FnOnce() -> String) -> String {
        self.annotation.message.clone().unwrap_or_else(generated)
    }
}

/// What a failure reads as: the message, and the field the path should name
/// when the failure is about a key of the failing object (`/last_frame_image`).
pub(crate) struct Said {
    pub message: String,
    pub key: Option<String>,
}

impl From<String> for Said {
    fn from(message: String) -> Said {
        Said { message, key: None }
    }
}

/// The message of a failure, by the construct that made the failing node.
pub(crate) fn message(failure: &Failure<'_>) -> Said {
    match &failure.annotation.kind {
        Kind::Field { expected } => field::message(failure, expected).into(),
        Kind::Values { values } => values::message(failure, values).into(),
        Kind::Range { min, max, also } => {
            range::message(failure, min.as_ref(), max.as_ref(), also).into()
        }
        Kind::Length { min, max } => length::message(failure, *min, *max).into(),
        Kind::Pattern { pattern } => pattern::message(failure, pattern).into(),
        Kind::Url { expected } => url::message(failure, expected).into(),
        Kind::Items { min, max } => items::message(failure, *min, *max).into(),
        Kind::CountIn { counts } => count_in::message(failure, counts).into(),
        Kind::UniqueBy { role, value } => unique_by::message(failure, role, value).into(),
        Kind::Required { key } => required::message(failure, key),
        Kind::Alias { canonical, alias } => alias::message(failure, canonical, alias),
        Kind::Model { id } => model::message(failure, id).into(),
        Kind::Modes { names } => modes::message(failure, names).into(),
        Kind::Require { name } => require::message(failure, name),
        Kind::Forbid { name, default } => forbid::message(failure, name, default.as_ref()),
        Kind::Together { fields, spellings } => together::message(failure, fields, spellings),
        Kind::ExactlyOneOf { fields } => exactly_one_of::message(failure, fields).into(),
        Kind::Exclusive { first, second } => exclusive::message(failure, first, second),
        Kind::Constrain {
            name,
            default,
            bounds,
        } => constrain::message(failure, name, default, bounds),
        Kind::Hold { words } => hold::message(failure, words).into(),
    }
}

/// What compile needs to know while it works.
pub(crate) struct Context<'a> {
    pub spec: &'a Spec,
    pub variant: &'a str,
    pub fields: &'a BTreeMap<String, Field>,
    /// True while compiling a mode's own condition (mode conditions may not nest).
    pub in_mode: bool,
    /// True when the schema runs on the effective values with every default
    /// already filled in (billing cases): an absent field then has no value.
    pub filled: bool,
}

impl Context<'_> {
    /// The schema that holds when the request selects mode `name`, priority applied.
    pub fn mode_condition(&self, name: &str) -> Value {
        if self.in_mode {
            return Value::Bool(false);
        }
        let inner = Context {
            in_mode: true,
            ..*self
        };
        let mut earlier = Vec::new();
        for mode in &self.spec.modes {
            let when = mode
                .value
                .when
                .as_ref()
                .map(|when| condition(&inner, when))
                .unwrap_or(Value::Bool(true));
            if mode.value.name == name {
                return all::of(vec![when, not::of(any::of(earlier))]);
            }
            earlier.push(when);
        }
        Value::Bool(false)
    }

    /// The field a path names (`metadata.resolution`), overrides applied.
    pub fn field(&self, path: &str) -> Option<&Field> {
        crate::field_path::field(self.fields, path).ok()
    }

    /// The paths a field may be given under: each segment under its own name
    /// or its alias (`metadata.resolution`, `metadata.res`, …).
    pub fn spellings(&self, path: &str) -> Vec<String> {
        let mut segments = path.split(crate::field_path::SEPARATOR);
        let first = segments.next().unwrap_or(path);
        let mut field = self.fields.get(first);
        let mut out = vec![first.to_owned()];
        if let Some(alias) = field.and_then(|field| field.alias.as_ref()) {
            out.push(alias.clone());
        }
        for segment in segments {
            let inner = field.and_then(|field| field.fields.get(segment));
            let mut keys = vec![segment.to_owned()];
            if let Some(alias) = inner.and_then(|inner| inner.value.alias.as_ref()) {
                keys.push(alias.clone());
            }
            out = out
                .iter()
                .flat_map(|above| keys.iter().map(move |key| format!("{above}.{key}")))
                .collect();
            field = inner.map(|inner| &inner.value);
        }
        out
    }

    /// The value the gateway uses when field `path` is absent (a sub-field's
    /// default applies also when its object is absent).
    pub fn default(&self, path: &str) -> Option<&Value> {
        if self.filled {
            return None;
        }
        self.field(path)?
            .default
            .as_ref()
            .map(|default| &default.value)
    }

    /// The schema that holds when some field that takes priority over top-level
    /// field `path` has an effective value (so `path` has none); `false` when
    /// no field does.
    pub fn overruled(&self, path: &str) -> Value {
        if crate::field_path::is_nested(path) {
            return Value::Bool(false);
        }
        any::of(
            self.fields
                .iter()
                .filter(|(winner, field)| {
                    field.takes_priority_over.iter().any(|lost| lost == path)
                        // A cycle (refused by lint) is cut rather than followed.
                        && !takes_priority(self.fields, path, winner)
                })
                .map(|(winner, _)| present::one(self, winner))
                .collect(),
        )
    }

    /// The schema that holds when the request carries no spelling of `path`,
    /// whatever takes priority over it.
    pub fn carried_absent(&self, path: &str) -> Value {
        all::of(
            self.spellings(path)
                .iter()
                .map(|spelling| json!({ "not": nested(spelling, &|key| json!({ "required": [key] })) }))
                .collect(),
        )
    }

    /// The schema that holds when the request carries some spelling of `path`,
    /// whatever takes priority over it.
    pub fn carried(&self, path: &str) -> Value {
        any::of(
            self.spellings(path)
                .iter()
                .map(|spelling| nested(spelling, &|key| json!({ "required": [key] })))
                .collect(),
        )
    }

    /// The schema that holds when field `path` is not in the effective
    /// request as given: no spelling of it is carried, or a field that takes
    /// priority over it has a value.
    pub fn absent_schema(&self, path: &str) -> Value {
        any::of(vec![self.carried_absent(path), self.overruled(path)])
    }

    /// The schema that holds when field `path` is given and counts: some
    /// spelling of it is carried and no field that takes priority over it
    /// has a value.
    pub fn given_schema(&self, path: &str) -> Value {
        all::of(vec![self.carried(path), not::of(self.overruled(path))])
    }

    /// The schema that holds when the effective value of field `path` passes
    /// `test` (a schema on the value): a spelling of it is given, counts and
    /// passes, or none counts and the value it then has passes — its default
    /// (when nothing takes priority over it), or `absent_value` (what an
    /// absent field without a default counts as, if anything).
    pub fn value_test(&self, path: &str, test: &Value, absent_value: Option<&Value>) -> Value {
        let overruled = self.overruled(path);
        let given = all::of(vec![
            any::of(
                self.spellings(path)
                    .iter()
                    .map(|spelling| {
                        nested(spelling, &|key| {
                            json!({
                                "required": [key],
                                "properties": { key: test },
                            })
                        })
                    })
                    .collect(),
            ),
            not::of(overruled.clone()),
        ]);
        let passes = |value: Option<&Value>| value.is_some_and(|value| holds(test, value));
        let mut options = Vec::new();
        if passes(self.default(path).or(absent_value)) {
            options.push(all::of(vec![
                self.carried_absent(path),
                not::of(overruled.clone()),
            ]));
        }
        options.push(given);
        if overruled != Value::Bool(false) && passes(absent_value) {
            options.push(overruled);
        }
        any::of(options)
    }

    /// The schema that applies `test` to the value of field `path` wherever a
    /// spelling of it is carried and counts (`true` where it is not).
    pub fn on_value(&self, path: &str, test: &Value) -> Value {
        let mut out = Map::new();
        for spelling in self.spellings(path) {
            merge_properties(&mut out, &spelling, test);
        }
        any::of(vec![self.overruled(path), Value::Object(out)])
    }

    /// Keywords matching exactly `values` of field `path` (in any accepted spelling).
    pub fn value_matcher(&self, path: &str, values: &[Value]) -> Value {
        match self.field(path) {
            Some(field) => Value::Object(values::matcher(field, values)),
            None if values.len() == 1 => json!({ "const": values[0] }),
            None => json!({ "enum": values }),
        }
    }
}

/// Whether top-level field `winner` takes priority over `loser`, directly or
/// through other fields.
pub(crate) fn takes_priority(fields: &BTreeMap<String, Field>, winner: &str, loser: &str) -> bool {
    let mut seen: Vec<&str> = Vec::new();
    let mut todo = vec![winner];
    while let Some(name) = todo.pop() {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        for lost in fields
            .get(name)
            .map(|field| field.takes_priority_over.as_slice())
            .unwrap_or_default()
        {
            if lost == loser {
                return true;
            }
            todo.push(lost);
        }
    }
    false
}

/// The schema for dotted `spelling`: each object on the way is required, is
/// an object (so a string where the object belongs holds no sub-field, and
/// rules about its sub-fields add no errors beside its type error) and holds
/// the next, and the last key is tested by `leaf(key)`.
fn nested(spelling: &str, leaf: &dyn Fn(&str) -> Value) -> Value {
    match spelling.split_once(crate::field_path::SEPARATOR) {
        None => leaf(spelling),
        Some((first, rest)) => {
            let mut inner = nested(rest, leaf);
            if let Some(inner) = inner.as_object_mut() {
                inner.insert("type".to_owned(), json!("object"));
            }
            json!({
                "required": [first],
                "properties": { first: inner },
            })
        }
    }
}

/// Adds `{"properties": {a: {"properties": {b: test}}}}` for dotted
/// `spelling` `a.b` into `schema`, sharing the objects on the way.
fn merge_properties(schema: &mut Map<String, Value>, spelling: &str, test: &Value) {
    let properties = schema
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(properties) = properties.as_object_mut() else {
        return;
    };
    match spelling.split_once(crate::field_path::SEPARATOR) {
        None => {
            properties.insert(spelling.to_owned(), test.clone());
        }
        Some((first, rest)) => {
            let inner = properties
                .entry(first)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(inner) = inner.as_object_mut() {
                merge_properties(inner, rest, test);
            }
        }
    }
}

/// Whether `value` passes `test`, decided when the spec compiles (a default
/// against a condition or bounds), by the same validator requests meet.
pub(crate) fn holds(test: &Value, value: &Value) -> bool {
    crate::model::build_validator(test).is_ok_and(|validator| validator.is_valid(value))
}

/// The JSON Schema that holds exactly when `condition` holds for the
/// effective request.
pub(crate) fn condition(context: &Context<'_>, condition: &Condition) -> Value {
    match condition {
        Condition::Present(names) => present::compile(context, names.as_slice()),
        Condition::Absent(names) => absent::compile(context, names.as_slice()),
        Condition::Equals(map) => equals::compile(context, map),
        Condition::In(map) => in_values::compile(context, map),
        Condition::Count(map) => count::compile(context, map),
        Condition::Mode(names) => mode::compile(context, names.as_slice()),
        Condition::Variant(ids) => variant::compile(context, ids.as_slice()),
        Condition::All(parts) => all::compile(context, parts),
        Condition::Any(parts) => any::compile(context, parts),
        Condition::Not(inner) => not::compile(context, inner),
    }
}

/// A condition in words, without a leading "when".
pub(crate) fn condition_words(condition: &Condition, style: Style) -> String {
    match condition {
        Condition::Present(names) => present::words(names.as_slice(), style),
        Condition::Absent(names) => absent::words(names.as_slice(), style),
        Condition::Equals(map) => equals::words(map, style),
        Condition::In(map) => in_values::words(map, style),
        Condition::Count(map) => count::words(map, style),
        Condition::Mode(names) => mode::words(names.as_slice(), style),
        Condition::Variant(ids) => variant::words(ids.as_slice(), style),
        Condition::All(parts) => all::words(parts, style),
        Condition::Any(parts) => any::words(parts, style),
        Condition::Not(inner) => not::words(inner, style),
    }
}

/// The nodes of a rule's action (tagged with the rule): they hold when the
/// action is met.
pub(crate) fn action(context: &Context<'_>, action: &Action, tag: &Tag) -> Vec<Value> {
    match action {
        Action::Require(names) => require::compile(context, names, tag),
        Action::Forbid(names) => forbid::compile(context, names, tag),
        Action::Together(names) => vec![together::compile(context, names, tag)],
        Action::ExactlyOneOf(names) => vec![exactly_one_of::compile(context, names, tag)],
        Action::Exclusive(exclusive) => exclusive::compile(context, exclusive, tag),
        Action::Constrain(map) => vec![constrain::compile(context, map, tag)],
        Action::Hold(inner) => vec![hold::compile(context, inner, tag)],
    }
}

/// What an action demands, in words.
pub(crate) fn action_words(action: &Action, style: Style) -> String {
    match action {
        Action::Require(fields) => require::words(fields, style),
        Action::Forbid(fields) => forbid::words(fields, style),
        Action::Together(fields) => together::words(fields, style),
        Action::ExactlyOneOf(fields) => exactly_one_of::words(fields, style),
        Action::Exclusive(exclusive) => exclusive::words(exclusive, style),
        Action::Constrain(map) => constrain::words(map, style),
        Action::Hold(held) => hold::words(held, style),
    }
}

/// The keywords of a lower and an upper bound (`minItems`/`maxItems`, …);
/// `None` when neither is set.
pub(crate) fn bound_keywords<T: Serialize>(
    (min_key, min): (&str, Option<T>),
    (max_key, max): (&str, Option<T>),
) -> Option<Map<String, Value>> {
    if min.is_none() && max.is_none() {
        return None;
    }
    let mut keywords = Map::new();
    if let Some(min) = min {
        keywords.insert(min_key.into(), json!(min));
    }
    if let Some(max) = max {
        keywords.insert(max_key.into(), json!(max));
    }
    Some(keywords)
}

/// `keywords` with `annotation` stored under `x-vidspec`.
pub(crate) fn annotated(mut keywords: Map<String, Value>, annotation: &Annotation) -> Value {
    keywords.insert("x-vidspec".into(), annotation.to_json());
    Value::Object(keywords)
}

/// A schema that always fails, carrying `annotation` (a rule that can never hold).
pub(crate) fn never(annotation: &Annotation) -> Value {
    json!({ "not": {}, "x-vidspec": annotation.to_json() })
}

/// A schema that holds when `schema` does, carrying `annotation`; `true` stays
/// `true`, and `false` becomes `never`.
pub(crate) fn wrap(schema: Value, annotation: &Annotation) -> Value {
    match schema {
        Value::Bool(true) => Value::Bool(true),
        Value::Bool(false) => never(annotation),
        Value::Object(mut object) if !object.contains_key("x-vidspec") => {
            object.insert("x-vidspec".into(), annotation.to_json());
            Value::Object(object)
        }
        other => json!({ "allOf": [other], "x-vidspec": annotation.to_json() }),
    }
}
