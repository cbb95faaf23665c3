//! Spec + model id → one JSON Schema (draft 2020-12), plus the pieces the engine
//! runs beside it: mode conditions, advice (warning rules), derived values and
//! billing cases, each already compiled to a schema.
//!
//! This is the one place that interprets spec keys. Every error rule of the spec
//! ends up in the exported schema; each schema node that can fail carries an
//! `x-vidspec` annotation (rule id, upstream code, field, message) so failures
//! read as the spec's words. It must not validate requests or touch I/O.

pub mod condition;
pub(crate) mod field;
mod rule;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::spec::{Condition, Field, Severity, Spec};

/// What a schema node means to a person; stored under `x-vidspec` in the schema.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Annotation {
    /// Seed-rules number of the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Upstream error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The request field the node is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The message, when fixed (rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the rule applies, in words (`in first_last_frame mode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The canonical allowed values, for enum messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<Value>>,
    /// The message for a wrong item count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_message: Option<String>,
    /// What a URL field expects, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// Extra advice for this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// `allowed` in words (filled when annotations are read back from a
    /// schema, so messages need not word them again).
    #[serde(skip)]
    pub allowed_words: Vec<String>,
    /// `allowed_words` joined with commas.
    #[serde(skip)]
    pub allowed_joined: String,
}

/// A mode, compiled.
#[derive(Debug, Clone)]
pub struct CompiledMode {
    /// Vocabulary name.
    pub name: String,
    /// Holds when the mode's own `when` holds (priority is applied by dispatch).
    pub when: Value,
    /// Fields `when` needs (see `condition::needs`).
    pub needs: Vec<Vec<String>>,
    /// Fields whose presence triggers this mode.
    pub triggers: Vec<String>,
    /// Fields dropped in this mode.
    pub ignores: Vec<String>,
    /// Seed-rules number.
    pub rule: Option<String>,
}

/// A warning rule, compiled: `when` holds exactly when the warning applies.
#[derive(Debug, Clone, Serialize)]
pub struct CompiledAdvice {
    /// Rule id.
    pub rule: String,
    /// The warning text.
    pub message: String,
    /// The field the warning is about (first named), for its path.
    pub field: Option<String>,
    /// Schema that holds when the warning applies.
    pub when: Value,
    /// Fields `when` needs (see `condition::needs`).
    #[serde(skip)]
    pub needs: Vec<Vec<String>>,
}

/// A derived value, compiled.
#[derive(Debug, Clone)]
pub struct CompiledDerive {
    /// Rule id.
    pub rule: String,
    /// Schema on the request.
    pub when: Value,
    /// Fields `when` needs (see `condition::needs`).
    pub needs: Vec<Vec<String>>,
    /// The condition in words.
    pub scope: String,
    /// Field to change.
    pub field: String,
    /// Old value (as text) → new value.
    pub map: BTreeMap<String, Value>,
}

/// Everything compiled for one model id.
#[derive(Debug, Clone)]
pub struct Compiled {
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
    /// Billing cases: schema on the effective values, key template.
    pub billing_cases: Vec<(Value, String)>,
    /// Alias → canonical field name.
    pub aliases: BTreeMap<String, String>,
    /// Whether any field carries image constraints or a task reference.
    pub has_preconditions: bool,
}

/// What compile needs to know while it works.
pub(crate) struct Context<'a> {
    pub spec: &'a Spec,
    pub variant: &'a str,
    pub fields: &'a BTreeMap<String, Field>,
    /// True while compiling a mode's own condition (mode conditions may not nest).
    pub in_mode: bool,
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
                .map(|when| condition::compile(&inner, when))
                .unwrap_or(Value::Bool(true));
            if mode.value.name == name {
                return condition::all(vec![when, condition::not(condition::any(earlier))]);
            }
            earlier.push(when);
        }
        Value::Bool(false)
    }

    /// The names a field may be given under: its own and its alias.
    pub fn spellings(&self, name: &str) -> Vec<String> {
        let mut out = vec![name.to_owned()];
        if let Some(alias) = self.fields.get(name).and_then(|field| field.alias.clone()) {
            out.push(alias);
        }
        out
    }

    /// Keywords matching exactly `values` of field `name` (in any accepted spelling).
    pub fn value_matcher(&self, name: &str, values: &[Value]) -> Value {
        match self.fields.get(name) {
            Some(field) => Value::Object(field::value_matcher(field, values)),
            None if values.len() == 1 => json!({ "const": values[0] }),
            None => json!({ "enum": values }),
        }
    }
}

/// The fields of `spec` with the overrides of model `variant` applied.
pub fn resolve_fields(spec: &Spec, variant: &str) -> BTreeMap<String, Field> {
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

fn apply_override(field: &mut Field, change: &crate::spec::Constraints) {
    if change.one_of.is_some() {
        field.one_of = change.one_of.clone();
    }
    if change.min.is_some() {
        field.min = change.min.clone();
    }
    if change.max.is_some() {
        field.max = change.max.clone();
    }
    if change.min_length.is_some() {
        field.min_length = change.min_length;
    }
    if change.max_length.is_some() {
        field.max_length = change.max_length;
    }
    if change.min_items.is_some() {
        field.min_items = change.min_items;
    }
    if change.max_items.is_some() {
        field.max_items = change.max_items;
    }
    if change.count_in.is_some() {
        field.count_in = change.count_in.clone();
    }
    if let Some(default) = &change.default {
        let location = field
            .default
            .as_ref()
            .map(|old| old.referenced)
            .unwrap_or(serde_saphyr::Location::UNKNOWN);
        field.default = Some(serde_saphyr::Spanned::new(
            default.clone(),
            location,
            location,
        ));
    }
}

/// Compiles model `variant` of `spec`.
pub fn compile(spec: &Spec, variant: &str) -> Compiled {
    let fields = resolve_fields(spec, variant);
    let context = Context {
        spec,
        variant,
        fields: &fields,
        in_mode: false,
    };

    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut all_of = Vec::new();
    properties.insert(
        "model".into(),
        json!({
            "const": variant,
            "description": if spec.endpoint.model_field {
                "The model id (sent)."
            } else {
                "Selects the model; not sent: this endpoint takes no model field."
            },
            "x-vidspec": Annotation {
                field: Some("model".into()),
                rule: spec.models.iter().find(|model| model.value.id == variant).and_then(|model| model.value.rule.clone()),
                ..Annotation::default()
            },
        }),
    );
    if spec.endpoint.model_field {
        required.push(json!("model"));
    }
    for (name, field) in &fields {
        properties.insert(name.clone(), field::schema(name, field));
        if field.required {
            required.push(json!(name));
        }
        if let Some(alias) = &field.alias {
            let mut alias_schema = field::schema(alias, field);
            if let Some(object) = alias_schema.as_object_mut() {
                object.insert(
                    "description".into(),
                    json!(format!("Alias of {name}; sent as {name}.")),
                );
            }
            properties.insert(alias.clone(), alias_schema);
            all_of.push(json!({
                "not": { "required": [name, alias] },
                "x-vidspec": Annotation {
                    field: Some(alias.clone()),
                    rule: field.alias_rule.clone().or_else(|| field.rule.clone()),
                    message: Some(format!("{alias} is another name for {name}: give one of them, not both")),
                    ..Annotation::default()
                },
            }));
        }
    }

    let mut advice = Vec::new();
    for rule in &spec.rules {
        let rule = &rule.value;
        match rule.severity {
            Severity::Error => {
                if let Some(schema) = rule::compile(&context, rule) {
                    all_of.push(schema);
                }
            }
            Severity::Warning => {
                if let Some(compiled) = rule::compile_advice(&context, rule) {
                    advice.push(compiled);
                }
            }
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
                condition::trigger_fields(when, &mut triggers);
            }
            CompiledMode {
                name: mode.name.clone(),
                when: mode
                    .when
                    .as_ref()
                    .map(|when| condition::compile(&mode_context, when))
                    .unwrap_or(Value::Bool(true)),
                triggers,
                needs: mode
                    .when
                    .as_ref()
                    .map(|when| condition::needs(&mode_context, when))
                    .unwrap_or_default(),
                ignores: mode.ignores.clone(),
                rule: mode.rule.clone(),
            }
        })
        .collect();
    let any_mode = condition::any(modes.iter().map(|mode| mode.when.clone()).collect());
    if any_mode != Value::Bool(true) && !modes.is_empty() {
        let names: Vec<&str> = modes.iter().map(|mode| mode.name.as_str()).collect();
        all_of.push(json!({
            "anyOf": [any_mode],
            "x-vidspec": Annotation {
                message: Some(format!(
                    "this request selects no mode of {variant}; its modes are {}: add the inputs one of them needs",
                    condition::join_or(&names)
                )),
                rule: spec.modes.first().and_then(|mode| mode.value.rule.clone()),
                ..Annotation::default()
            },
        }));
    }

    let derives = spec
        .derive
        .iter()
        .map(|derive| {
            let derive = &derive.value;
            CompiledDerive {
                rule: derive.id.clone(),
                when: condition::compile(&context, &derive.when),
                needs: condition::needs(&context, &derive.when),
                scope: condition::describe(&derive.when),
                field: derive.field.clone(),
                map: derive.map.clone(),
            }
        })
        .collect();
    let billing_cases = spec
        .billing
        .value
        .cases
        .iter()
        .map(|case| (condition::compile(&context, &case.when), case.key.clone()))
        .collect();

    let mut preconditions = Vec::new();
    for (name, field) in &fields {
        let image = field.image_constraints();
        if let Some(image) = image {
            preconditions.push(json!({ "field": name, "image": image }));
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
            "modes": modes.iter().map(|mode| json!({
                "name": mode.name,
                "when": mode.when,
                "ignores": mode.ignores,
            })).collect::<Vec<_>>(),
            "advice": advice,
            "preconditions": preconditions,
        }),
    );
    let aliases = fields
        .iter()
        .filter_map(|(name, field)| field.alias.clone().map(|alias| (alias, name.clone())))
        .collect();
    let has_preconditions = !preconditions.is_empty();
    Compiled {
        schema: Value::Object(schema),
        aliases,
        has_preconditions,
        fields,
        modes,
        advice,
        derives,
        billing_cases,
    }
}

/// Collects every `x-vidspec` annotation below the root, by the JSON pointer of
/// the node that carries it.
pub fn annotations(schema: &Value) -> BTreeMap<String, Annotation> {
    let mut out = BTreeMap::new();
    each_schema_object(schema, &mut |pointer, object| {
        // The root's `x-vidspec` describes the model, not a failing node.
        let Some(value) = object.get("x-vidspec").filter(|_| !pointer.is_empty()) else {
            return;
        };
        if let Ok(mut annotation) = serde_json::from_value::<Annotation>(value.clone()) {
            annotation.allowed_words = annotation
                .allowed
                .iter()
                .flatten()
                .map(condition::show)
                .collect();
            annotation.allowed_joined = annotation.allowed_words.join(", ");
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

/// Fields named anywhere in a condition (for lint).
pub fn condition_fields(condition: &Condition) -> Vec<String> {
    let mut out = Vec::new();
    condition::fields_named(condition, &mut out);
    out
}
