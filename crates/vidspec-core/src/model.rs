//! A compiled model: its schema compiled once, and `prepare`, which turns a
//! request into a `Plan` or every reason it is invalid.
//!
//! Owns the order of the pipeline (validate → dispatch → shape → bill) and the
//! `Plan` type. The steps themselves live in `validate`, `dispatch`, `shape` and
//! `billing`; this module must not grow their logic.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::billing::{self, Charge};
use crate::compile::{self, Annotation, Compiled};
use crate::diagnostics::{Diagnostic, Diagnostics, Warning};
use crate::dispatch;
use crate::shape::{self, ShapeInput};
use crate::spec::{ImageConstraints, Spec, Task, TaskReference};
use crate::validate::Mapper;

/// Where and how a plan is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanEndpoint {
    /// HTTP method.
    pub method: String,
    /// Path below the base URL.
    pub path: String,
}

/// A check that needs the network, left for the transport's pre-flight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Precondition {
    /// JSON pointer to the field in the body.
    pub path: String,
    /// Image constraints, for image URL fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageConstraints>,
    /// The task the field must name, for task-id fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskReference>,
}

/// What the engine decided about a valid request: what to send, where, in which
/// mode, with which effective values and under which billing key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Model id.
    pub model: String,
    /// Family (spec file stem).
    pub family: String,
    /// Selected mode (shared vocabulary name).
    pub mode: String,
    /// Where to send the body.
    pub endpoint: PlanEndpoint,
    /// Exactly the JSON body to send.
    pub body: Map<String, Value>,
    /// Every value the gateway will use, defaults and derived values filled in.
    pub effective: Map<String, Value>,
    /// Changes made and advice.
    pub warnings: Vec<Warning>,
    /// How it is charged.
    pub billing: Charge,
    /// Checks that need the network (images, referenced tasks).
    pub preconditions: Vec<Precondition>,
    /// How to submit, poll and read the task this plan creates (the spec's
    /// `task` section, statuses merged with the vocabulary's).
    #[serde(skip)]
    pub task: Arc<Task>,
}

/// One model id, compiled and ready to prepare requests.
pub struct Model {
    id: String,
    spec: Arc<Spec>,
    task: Arc<Task>,
    source: String,
    spec_digest: String,
    compiled: Compiled,
    annotations: BTreeMap<String, Annotation>,
    validator: jsonschema::Validator,
    modes: Vec<jsonschema::Validator>,
    advice: Vec<jsonschema::Validator>,
    derives: Vec<jsonschema::Validator>,
    billing_cases: Vec<jsonschema::Validator>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("id", &self.id)
            .field("family", &self.spec.family.value)
            .finish()
    }
}

/// Compiles a JSON Schema with the engine's settings (draft 2020-12, formats checked).
pub fn build_validator(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|error| error.to_string())
}

impl Model {
    /// Compiles model `id` of `spec` (read from `source`).
    pub(crate) fn compile(
        spec: Arc<Spec>,
        id: &str,
        source: &crate::load::Source,
        vocabulary: &crate::spec::Vocabulary,
    ) -> Result<Model, String> {
        let mut task = spec.task.clone();
        for (status, spellings) in &vocabulary.statuses {
            let entry = task.statuses.entry(status.clone()).or_default();
            for spelling in spellings {
                if !entry
                    .iter()
                    .any(|known| known.eq_ignore_ascii_case(spelling))
                {
                    entry.push(spelling.clone());
                }
            }
        }
        let compiled = compile::compile(&spec, id);
        let build_all = |schemas: Vec<&Value>| -> Result<Vec<jsonschema::Validator>, String> {
            schemas.into_iter().map(build_validator).collect()
        };
        let validator = build_validator(&compiled.schema)?;
        let modes = build_all(compiled.modes.iter().map(|mode| &mode.when).collect())?;
        let advice = build_all(compiled.advice.iter().map(|advice| &advice.when).collect())?;
        let derives = build_all(compiled.derives.iter().map(|derive| &derive.when).collect())?;
        let billing_cases = build_all(
            compiled
                .billing_cases
                .iter()
                .map(|(when, _)| when)
                .collect(),
        )?;
        let annotations = compile::annotations(&compiled.schema);
        Ok(Model {
            id: id.to_owned(),
            spec,
            task: Arc::new(task),
            source: source.name.clone(),
            spec_digest: crate::digest::digest(source.text.as_bytes()),
            compiled,
            annotations,
            validator,
            modes,
            advice,
            derives,
            billing_cases,
        })
    }

    /// The model id (`Omni-Flash-Ext`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The family (spec file stem).
    pub fn family(&self) -> &str {
        &self.spec.family.value
    }

    /// The family's description.
    pub fn description(&self) -> &str {
        self.spec.description.trim()
    }

    /// The spec file this model came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The digest of the spec file's text: which spec version shaped a request.
    pub fn spec_digest(&self) -> &str {
        &self.spec_digest
    }

    /// The whole spec of the family.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// How to submit, poll and read tasks of this model; `statuses` holds the
    /// vocabulary's spellings merged under the spec's own.
    pub fn task(&self) -> &Arc<Task> {
        &self.task
    }

    /// Where requests go.
    pub fn endpoint(&self) -> PlanEndpoint {
        PlanEndpoint {
            method: self.spec.endpoint.method.clone(),
            path: self.spec.endpoint.path.clone(),
        }
    }

    /// The modes in priority order.
    pub fn modes(&self) -> Vec<&str> {
        self.compiled
            .modes
            .iter()
            .map(|mode| mode.name.as_str())
            .collect()
    }

    /// The fields with this model's overrides applied.
    pub fn fields(&self) -> &BTreeMap<String, crate::spec::Field> {
        &self.compiled.fields
    }

    /// The field expressing a vocabulary concept (`duration`), if the model has one.
    pub fn concept_field(&self, concept: &str) -> Option<(&str, &crate::spec::Field)> {
        self.compiled
            .fields
            .iter()
            .find(|(_, field)| field.concept.as_deref() == Some(concept))
            .map(|(name, field)| (name.as_str(), field))
    }

    /// The request schema (draft 2020-12) that validation runs; the same JSON is
    /// exported as `schemas/models/<id>.json`.
    pub fn json_schema(&self) -> &Value {
        &self.compiled.schema
    }

    /// Whether the request is valid, without building diagnostics.
    pub fn is_valid(&self, request: &Value) -> bool {
        self.validator.is_valid(request)
    }

    /// Validates, dispatches, shapes and bills a request.
    ///
    /// Returns every problem at once when the request is invalid.
    pub fn prepare(&self, request: &Value) -> Result<Plan, Diagnostics> {
        let Some(object) = request.as_object() else {
            return Err(Diagnostics::single(
                "",
                format!(
                    "a request for {} must be a JSON object, not {}",
                    self.id,
                    crate::diagnostics::type_words(request)
                ),
            ));
        };
        if !self.validator.is_valid(request) {
            return Err(Diagnostics {
                errors: self.diagnose(request),
                warnings: Vec::new(),
            });
        }
        let Some(dispatched) = dispatch::dispatch(&self.compiled.modes, request, |index| {
            self.modes[index].is_valid(request)
        }) else {
            return Err(Diagnostics::single(
                "",
                format!(
                    "this request selects no mode of {}; its modes are {}",
                    self.id,
                    self.modes().join(", ")
                ),
            ));
        };
        let mode = &self.compiled.modes[dispatched.mode];
        let input = ShapeInput {
            model: &self.id,
            model_field: self.spec.endpoint.model_field,
            fields: &self.compiled.fields,
            aliases: &self.compiled.aliases,
            mode,
            losing: &dispatched.losing,
            derives: &self.compiled.derives,
        };
        let shaped = shape::shape(&input, object, |index| {
            self.derives[index].is_valid(request)
        });
        let mut warnings = dispatched.warnings;
        warnings.extend(shaped.warnings);
        for (index, advice) in self.compiled.advice.iter().enumerate() {
            if self.advice[index].is_valid(request) {
                warnings.push(Warning {
                    path: advice
                        .field
                        .as_ref()
                        .map(|field| format!("/{field}"))
                        .unwrap_or_default(),
                    message: format!("{} ({})", advice.message, advice.rule),
                });
            }
        }
        let billing_spec = &self.spec.billing.value;
        let mut template = billing_spec.key.as_str();
        let mut effective = shaped.effective;
        if !self.compiled.billing_cases.is_empty() {
            // Wrapped for validation and unwrapped again: no copy of the values.
            let effective_value = Value::Object(std::mem::take(&mut effective));
            if let Some((_, (_, key))) = self
                .compiled
                .billing_cases
                .iter()
                .enumerate()
                .find(|(index, _)| self.billing_cases[*index].is_valid(&effective_value))
            {
                template = key;
            }
            if let Value::Object(map) = effective_value {
                effective = map;
            }
        }
        let billing = Charge {
            key: billing::fill(template, &self.id, &effective),
            multiplier: billing::multiplier(billing_spec.multiplier.as_deref(), &effective),
        };
        let preconditions = self.preconditions(&shaped.body);
        Ok(Plan {
            model: self.id.clone(),
            family: self.spec.family.value.clone(),
            mode: mode.name.clone(),
            endpoint: self.endpoint(),
            body: shaped.body,
            effective,
            warnings,
            billing,
            preconditions,
            task: Arc::clone(&self.task),
        })
    }

    fn diagnose(&self, request: &Value) -> Vec<Diagnostic> {
        Mapper {
            model: &self.id,
            schema: &self.compiled.schema,
            annotations: &self.annotations,
        }
        .diagnose(&self.validator, request)
    }

    fn preconditions(&self, body: &Map<String, Value>) -> Vec<Precondition> {
        let mut out = Vec::new();
        if !self.compiled.has_preconditions {
            return out;
        }
        for (name, field) in &self.compiled.fields {
            let Some(value) = body.get(name) else {
                continue;
            };
            let image = field.image_constraints();
            if let Some(image) = image {
                match value {
                    Value::Array(items) => {
                        for index in 0..items.len() {
                            out.push(Precondition {
                                path: format!("/{name}/{index}"),
                                image: Some(image.clone()),
                                task: None,
                            });
                        }
                    }
                    _ => out.push(Precondition {
                        path: format!("/{name}"),
                        image: Some(image.clone()),
                        task: None,
                    }),
                }
            }
            if let Some(task) = &field.refers_to_task {
                out.push(Precondition {
                    path: format!("/{name}"),
                    image: None,
                    task: Some(task.clone()),
                });
            }
        }
        out
    }
}
