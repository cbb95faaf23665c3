//! Spec + model id → one JSON Schema (draft 2020-12), plus the pieces the engine
//! runs beside it: mode conditions, advice (warning rules), derived values and
//! billing cases, each already compiled to a schema.
//!
//! This module puts the parts in order: the model key, the fields, aliases,
//! rules, the mode check, modes, derive, billing, preconditions. What each
//! construct compiles to, and its `x-vidspec` annotation, lives in its own
//! module under `construct`. It must not validate requests or touch I/O.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

pub(crate) use crate::construct::Annotation;
use crate::construct::{self, Context, Tag};
use crate::spec::{Action, Condition, Field, Rule, Severity, Spec};
use crate::words::{Style, action_words, scope};

/// A mode, compiled.
#[derive(Debug, Clone)]
pub(crate) struct CompiledMode {
    /// Vocabulary name.
    pub name: String,
    /// Holds when the mode's own `when` holds (priority is applied by dispatch).
    pub when: Value,
    /// Fields whose presence triggers this mode.
    pub triggers: Vec<String>,
    /// Fields this mode uses: its triggers, its `uses`, and the fields named
    /// by rules scoped to it. Dispatch never drops these when it wins.
    pub uses: Vec<String>,
    /// Fields dropped in this mode.
    pub ignores: Vec<String>,
    /// Seed-rules number.
    pub rule: Option<String>,
}

/// A warning rule, compiled: `when` holds exactly when the warning applies.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CompiledAdvice {
    /// Rule number.
    pub rule: String,
    /// The warning text.
    pub message: String,
    /// The field the warning is about (first named), for its path.
    pub field: Option<String>,
    /// Schema that holds when the warning applies.
    pub when: Value,
}

/// A derived value, compiled.
#[derive(Debug, Clone)]
pub(crate) struct CompiledDerive {
    /// Rule number.
    pub rule: String,
    /// Schema on the request.
    pub when: Value,
    /// The condition in words.
    pub scope: String,
    /// Field to change.
    pub field: String,
    /// Old value (as text) → new value.
    pub map: BTreeMap<String, Value>,
}

/// Everything compiled for one model id.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    /// The request schema (exported as `schemas/models/<id>.json`).
    pub schema: Value,
    /// Fields with the model's overrides applied.
    pub fields: BTreeMap<String, Field>,
    /// Modes in priority order.
    pub modes: Vec<CompiledMode>,
    /// Warning rules.
    pub advice: Vec<CompiledAdvice>,
    /// Derived values.
    pub derives: Vec<CompiledDerive>,
    /// Billing cases: schema on the effective values (defaults filled in), key template.
    pub billing_cases: Vec<(Value, String)>,
    /// Alias → canonical field name.
    pub aliases: BTreeMap<String, String>,
}

/// The fields of `spec` with the overrides of model `variant` applied.
pub(crate) fn resolve_fields(spec: &Spec, variant: &str) -> BTreeMap<String, Field> {
    let overrides = spec
        .models
        .iter()
        .find(|model| model.value.id == variant)
        .map(|model| model.value.overrides.clone())
        .unwrap_or_default();
    spec.fields
        .iter()
        .map(|(name, field)| {
            let mut field = field.value.clone();
            if let Some(change) = overrides.get(name) {
                apply_override(&mut field, change);
            }
            (name.clone(), field)
        })
        .collect()
}

/// Puts what a variant's override states in place of the field's own.
fn apply_override(field: &mut Field, change: &crate::spec::Override) {
    fn put<T: Clone>(own: &mut Option<T>, new: &Option<T>) {
        if new.is_some() {
            own.clone_from(new);
        }
    }
    put(&mut field.values, &change.values);
    put(&mut field.min, &change.min);
    put(&mut field.max, &change.max);
    put(&mut field.min_length, &change.min_length);
    put(&mut field.max_length, &change.max_length);
    put(&mut field.min_items, &change.min_items);
    put(&mut field.max_items, &change.max_items);
    put(&mut field.count_in, &change.count_in);
    if let Some(default) = &change.default {
        let location = field
            .default
            .as_ref()
            .map(|old| old.referenced)
            .unwrap_or(serde_saphyr::Location::UNKNOWN);
        field.default = Some(crate::spec::Located::new(default.clone(), location));
    }
}

/// The tag a rule puts on every node it makes.
fn tag(rule: &Rule) -> Tag {
    Tag {
        rule: Some(rule.rule.clone()),
        error_code: rule.error_code.clone(),
        message: rule.message.clone(),
        scope: rule.when.as_ref().map(scope),
    }
}

/// A rule's condition (`true` without one) and its action, compiled.
fn when_then(context: &Context<'_>, rule: &Rule) -> (Value, Value) {
    let when = rule
        .when
        .as_ref()
        .map(|when| construct::condition(context, when))
        .unwrap_or(Value::Bool(true));
    (
        when,
        construct::all::of(construct::action(context, &rule.then, &tag(rule))),
    )
}

/// The schema entry of an error rule; `None` when it can never apply.
fn error_rule(context: &Context<'_>, rule: &Rule) -> Option<Value> {
    let (when, then) = when_then(context, rule);
    match (when, then) {
        (Value::Bool(false), _) | (_, Value::Bool(true)) => None,
        (Value::Bool(true), then) => Some(then),
        (when, then) => Some(json!({ "if": when, "then": then })),
    }
}

/// A warning rule: the schema holds when the warning applies.
fn advice(context: &Context<'_>, rule: &Rule) -> Option<CompiledAdvice> {
    let (when, then) = when_then(context, rule);
    let applies = construct::all::of(vec![when, construct::not::of(then)]);
    if applies == Value::Bool(false) {
        return None;
    }
    let message = rule.message.clone().unwrap_or_else(|| {
        let scope = rule
            .when
            .as_ref()
            .map(|when| format!(" {}", scope(when)))
            .unwrap_or_default();
        format!("{}{scope}", action_words(&rule.then, Style::Plain))
    });
    Some(CompiledAdvice {
        rule: rule.rule.clone(),
        message,
        field: named_fields(&rule.then).into_iter().next(),
        when: applies,
    })
}

/// Compiles model `variant` of `spec`.
pub(crate) fn compile(spec: &Spec, variant: &str) -> Compiled {
    let fields = resolve_fields(spec, variant);
    let context = Context {
        spec,
        variant,
        fields: &fields,
        in_mode: false,
        filled: false,
    };

    let mut properties = Map::new();
    let mut all_of = Vec::new();
    let variant_rule = spec
        .models
        .iter()
        .find(|model| model.value.id == variant)
        .and_then(|model| model.value.rule.clone());
    properties.insert(
        "model".into(),
        construct::model::compile(variant, spec.endpoint.model_field, variant_rule),
    );
    let mut required = Vec::new();
    if spec.endpoint.model_field {
        required.push(json!("model"));
    }
    for (name, field) in &fields {
        properties.insert(name.clone(), construct::field::schema(name, field));
        if field.required {
            all_of.push(construct::required::compile(&context, name, field));
        }
        if let Some(alias) = &field.alias {
            let mut alias_schema = construct::field::schema(alias, field);
            if let Some(object) = alias_schema.as_object_mut() {
                object.insert(
                    "description".into(),
                    json!(format!("Alias of {name}; sent as {name}.")),
                );
            }
            properties.insert(alias.clone(), alias_schema);
            all_of.push(construct::alias::compile("", name, alias, field));
        }
    }

    let mut advice_list = Vec::new();
    for rule in &spec.rules {
        let rule = &rule.value;
        match rule.severity {
            Severity::Error => all_of.extend(error_rule(&context, rule)),
            Severity::Warning => advice_list.extend(advice(&context, rule)),
        }
    }

    let mode_context = Context {
        in_mode: true,
        ..context
    };
    let modes: Vec<CompiledMode> = spec
        .modes
        .iter()
        .map(|mode| {
            let mode = &mode.value;
            let mut triggers = Vec::new();
            if let Some(when) = &mode.when {
                trigger_fields(when, &mut triggers);
            }
            let mut uses = triggers.clone();
            uses.extend(mode.uses.iter().cloned());
            for rule in &spec.rules {
                if rule
                    .value
                    .when
                    .as_ref()
                    .is_some_and(|when| names_mode_positively(when, &mode.name))
                {
                    uses.extend(named_fields(&rule.value.then));
                }
            }
            uses.sort();
            uses.dedup();
            CompiledMode {
                name: mode.name.clone(),
                when: mode
                    .when
                    .as_ref()
                    .map(|when| construct::condition(&mode_context, when))
                    .unwrap_or(Value::Bool(true)),
                triggers,
                uses,
                ignores: mode.ignores.clone(),
                rule: mode.rule.clone(),
            }
        })
        .collect();
    let whens: Vec<Value> = modes.iter().map(|mode| mode.when.clone()).collect();
    let names: Vec<String> = modes.iter().map(|mode| mode.name.clone()).collect();
    all_of.extend(construct::modes::compile(
        &whens,
        &names,
        spec.modes.first().and_then(|mode| mode.value.rule.clone()),
    ));

    let derives = spec
        .derive
        .iter()
        .map(|derive| {
            let derive = &derive.value;
            CompiledDerive {
                rule: derive.rule.clone(),
                when: construct::condition(&context, &derive.when),
                scope: scope(&derive.when),
                field: derive.field.clone(),
                map: derive.map.clone(),
            }
        })
        .collect();
    let filled = Context {
        filled: true,
        ..context
    };
    let billing_cases = spec
        .billing
        .value
        .cases
        .iter()
        .map(|case| (construct::condition(&filled, &case.when), case.key.clone()))
        .collect();

    let mut preconditions = Vec::new();
    for (name, field) in crate::field_path::every_field(&fields) {
        if let Some(image) = field.image_constraints() {
            preconditions.push(json!({ "field": name, "image": image }));
        }
        if let Some(video) = field.video_constraints() {
            preconditions.push(json!({ "field": name, "video": video }));
        }
        if let Some(audio) = field.audio_constraints() {
            preconditions.push(json!({ "field": name, "audio": audio }));
        }
        if let Some(task) = &field.refers_to_task {
            preconditions.push(json!({ "field": name, "task": task }));
        }
    }

    let mut schema = Map::new();
    schema.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    schema.insert("title".into(), json!(variant));
    schema.insert("description".into(), json!(spec.description.trim()));
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    schema.insert("required".into(), Value::Array(required));
    schema.insert("additionalProperties".into(), json!(false));
    if !all_of.is_empty() {
        schema.insert("allOf".into(), Value::Array(all_of));
    }
    schema.insert(
        "x-vidspec".into(),
        json!({
            "family": spec.family.value,
            "model": variant,
            "endpoint": {
                "method": spec.endpoint.method,
                "path": spec.endpoint.path,
                "model_field": spec.endpoint.model_field,
            },
            "modes": modes.iter().zip(&spec.modes).map(|(mode, written)| {
                let mut exported = json!({
                    "name": mode.name,
                    "when": mode.when,
                    "uses": mode.uses,
                    "ignores": mode.ignores,
                });
                // A mode's own endpoint only where it has one: the schemas
                // of families without per-mode endpoints stay as they were.
                if let (Some(own), Some(object)) =
                    (&written.value.endpoint, exported.as_object_mut())
                {
                    let method = own.method.as_ref().unwrap_or(&spec.endpoint.method);
                    object.insert(
                        "endpoint".into(),
                        json!({"method": method, "path": own.path}),
                    );
                }
                exported
            }).collect::<Vec<_>>(),
            "advice": advice_list,
            "preconditions": preconditions,
        }),
    );
    // The idempotency header only where a spec declares one: the exported
    // schemas of the families that do not stay as they were.
    if let (Some(idempotency), Some(Value::Object(endpoint))) = (
        &spec.endpoint.idempotency,
        schema
            .get_mut("x-vidspec")
            .and_then(|annotation| annotation.get_mut("endpoint")),
    ) {
        endpoint.insert("idempotency".into(), json!({"header": idempotency.header}));
    }
    // The callback declaration likewise, only where a spec declares one. The
    // field itself is not a property of the schema: it is set on a plan
    // after validation (`Plan::with_webhook`), never given in a request.
    if let (Some(webhook), Some(Value::Object(endpoint))) = (
        &spec.endpoint.webhook,
        schema
            .get_mut("x-vidspec")
            .and_then(|annotation| annotation.get_mut("endpoint")),
    ) {
        endpoint.insert(
            "webhook".into(),
            json!({"field": webhook.field, "callback": webhook.callback}),
        );
    }
    let aliases = fields
        .iter()
        .filter_map(|(name, field)| field.alias.clone().map(|alias| (alias, name.clone())))
        .collect();
    Compiled {
        schema: Value::Object(schema),
        aliases,
        fields,
        modes,
        advice: advice_list,
        derives,
        billing_cases,
    }
}

/// Collects every `x-vidspec` annotation below the root, by the JSON pointer of
/// the node that carries it.
pub(crate) fn annotations(schema: &Value) -> BTreeMap<String, Annotation> {
    let mut out = BTreeMap::new();
    each_schema_object(schema, &mut |pointer, object| {
        // The root's `x-vidspec` describes the model, not a failing node.
        let Some(value) = object.get("x-vidspec").filter(|_| !pointer.is_empty()) else {
            return;
        };
        if let Ok(annotation) = serde_json::from_value::<Annotation>(value.clone()) {
            out.insert(pointer.to_owned(), annotation);
        }
    });
    out
}

/// Calls `visit` with every object node of a schema and its JSON pointer (the
/// root is `""`), not looking inside `x-vidspec` annotations.
pub(crate) fn each_schema_object(
    schema: &Value,
    visit: &mut impl FnMut(&str, &Map<String, Value>),
) {
    fn walk(node: &Value, pointer: &str, visit: &mut impl FnMut(&str, &Map<String, Value>)) {
        match node {
            Value::Object(object) => {
                visit(pointer, object);
                for (key, value) in object {
                    if key != "x-vidspec" {
                        walk(value, &format!("{pointer}/{}", escape(key)), visit);
                    }
                }
            }
            Value::Array(items) => {
                for (index, value) in items.iter().enumerate() {
                    walk(value, &format!("{pointer}/{index}"), visit);
                }
            }
            _ => {}
        }
    }
    walk(schema, "", visit);
}

/// JSON pointer escaping of one segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Every field name a condition mentions (mode and variant conditions excluded).
pub(crate) fn condition_fields(condition: &Condition) -> Vec<String> {
    let mut out = Vec::new();
    fields_named(condition, &mut out);
    out
}

/// Every field name a condition mentions (mode and variant conditions excluded).
pub(crate) fn fields_named(condition: &Condition, out: &mut Vec<String>) {
    match condition {
        Condition::Present(names) | Condition::Absent(names) => {
            out.extend(names.as_slice().iter().cloned())
        }
        Condition::Equals(map) => out.extend(map.keys().cloned()),
        Condition::In(map) => out.extend(map.keys().cloned()),
        Condition::Count(map) => out.extend(map.keys().cloned()),
        Condition::Mode(_) | Condition::Variant(_) => {}
        Condition::All(conditions) | Condition::Any(conditions) => {
            for inner in conditions {
                fields_named(inner, out);
            }
        }
        Condition::Not(inner) => fields_named(inner, out),
    }
}

/// Whether a condition asks which mode the request selects.
pub(crate) fn names_mode(condition: &Condition) -> bool {
    match condition {
        Condition::Mode(_) => true,
        Condition::All(conditions) | Condition::Any(conditions) => {
            conditions.iter().any(names_mode)
        }
        Condition::Not(inner) => names_mode(inner),
        _ => false,
    }
}

/// Whether a condition can hold only in mode `name` among others it names:
/// it names `name` in a `mode` condition that is not under `not`.
pub(crate) fn names_mode_positively(condition: &Condition, name: &str) -> bool {
    match condition {
        Condition::Mode(names) => names.as_slice().iter().any(|mode| mode == name),
        Condition::All(conditions) | Condition::Any(conditions) => conditions
            .iter()
            .any(|inner| names_mode_positively(inner, name)),
        _ => false,
    }
}

/// The fields whose presence makes the condition hold (for "which fields lose"
/// when several modes match): those under `present`, `count`, `equals`, `in`,
/// not under `not`.
pub(crate) fn trigger_fields(condition: &Condition, out: &mut Vec<String>) {
    match condition {
        Condition::Not(_) | Condition::Absent(_) | Condition::Mode(_) | Condition::Variant(_) => {}
        Condition::All(conditions) | Condition::Any(conditions) => {
            for inner in conditions {
                trigger_fields(inner, out);
            }
        }
        other => fields_named(other, out),
    }
}

/// The fields an action is about.
pub(crate) fn named_fields(action: &Action) -> Vec<String> {
    match action {
        Action::Require(names)
        | Action::Forbid(names)
        | Action::Together(names)
        | Action::ExactlyOneOf(names) => names.clone(),
        Action::Exclusive(exclusive) => exclusive.fields.clone(),
        Action::Constrain(constraints) => constraints.keys().cloned().collect(),
        Action::Hold(inner) => condition_fields(inner),
    }
}
