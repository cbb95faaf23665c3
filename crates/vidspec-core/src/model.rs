//! A compiled model: its schema compiled once, and `prepare`, which turns a
//! request into a `Plan` or every reason it is invalid.
//!
//! Owns the order of the pipeline (validate → dispatch → shape → bill) and the
//! `Plan` type. The steps themselves live in `validate`, `dispatch`, `shape` and
//! `billing`; this module must not grow their logic.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::billing::{Biller, ModeBilling};
use crate::compile::{self, Annotation, Compiled};
use crate::diagnostics::{Diagnostics, Warning};
use crate::dispatch;
use crate::plan::{Checked, Facts, Plan, PlanEndpoint};
use crate::shape::{self, ShapeInput};
use crate::spec::{Spec, Task};
use crate::validate::Mapper;

/// One model id, compiled and ready to prepare requests.
pub struct Model {
    id: String,
    spec: Arc<Spec>,
    facts: Arc<Facts>,
    /// Per mode: the request keys shaping may act on (see `shape::attention`).
    attention: Vec<Vec<shape::Attention>>,
    /// Which fields take priority over which (`takes_priority_over`).
    priority: Vec<crate::priority::Pair>,
    source: String,
    spec_digest: String,
    compiled: Compiled,
    annotations: BTreeMap<String, Annotation>,
    validator: jsonschema::Validator,
    modes: Vec<jsonschema::Validator>,
    advice: Vec<jsonschema::Validator>,
    derives: Vec<jsonschema::Validator>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("id", &self.id)
            .field("family", &self.spec.family.value)
            .finish()
    }
}

/// A schema the engine could not compile: what the JSON Schema compiler
/// said. Its text is the compiler's own (lint and the registry put it after
/// what they were compiling); the compiler's error type stays inside.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub(crate) struct SchemaCompileError(Box<jsonschema::ValidationError<'static>>);

/// Compiles a JSON Schema with the engine's settings (draft 2020-12, formats
/// checked, and `pattern`s run by the `regex` engine: linear time on any
/// value, so a pattern needing backtracking — look-around, backreferences —
/// does not compile rather than running for minutes; lint explains why).
pub(crate) fn build_validator(schema: &Value) -> Result<jsonschema::Validator, SchemaCompileError> {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .with_pattern_options(jsonschema::PatternOptions::regex())
        .build(schema)
        .map_err(|error| SchemaCompileError(Box::new(error)))
}

impl Model {
    /// Compiles model `id` of `spec` (read from `source`; `spec_digest` covers
    /// it and the gateway file it inherits from, see `digest::spec_digest`).
    pub(crate) fn compile(
        spec: Arc<Spec>,
        id: &str,
        source: &crate::load::Source,
        spec_digest: String,
        vocabulary: &crate::spec::Vocabulary,
    ) -> Result<Model, SchemaCompileError> {
        let mut task = spec.task.clone();
        // A spelling the spec itself places wins over the vocabulary's place
        // for it: only the vocabulary's other spellings are added.
        let own: Vec<String> = task.statuses.values().flatten().cloned().collect();
        for (status, spellings) in &vocabulary.statuses {
            let entry = task.statuses.entry(status.clone()).or_default();
            for spelling in spellings {
                if !entry
                    .iter()
                    .chain(&own)
                    .any(|known| known.eq_ignore_ascii_case(spelling))
                {
                    entry.push(spelling.clone());
                }
            }
        }
        let compiled = compile::compile(&spec, id);
        let build_all =
            |schemas: Vec<&Value>| -> Result<Vec<jsonschema::Validator>, SchemaCompileError> {
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
        let model_field = spec.endpoint.model_field;
        let attention: Vec<Vec<shape::Attention>> = compiled
            .modes
            .iter()
            .map(|mode| shape::attention(model_field, &compiled.fields, &compiled.aliases, mode))
            .collect();
        let defaults: Vec<Vec<(String, Value)>> = compiled
            .modes
            .iter()
            .map(|mode| {
                let mut defaults: Vec<(String, Value)> = Vec::new();
                for (name, field) in &compiled.fields {
                    crate::plan::defaults_below(name, field, &mut defaults);
                }
                defaults.retain(|(path, _)| !crate::field_path::is_dropped(&mode.ignores, path));
                if !model_field {
                    defaults.push(("model".to_owned(), Value::String(id.to_owned())));
                }
                defaults.sort_by(|left, right| left.0.cmp(&right.0));
                defaults
            })
            .collect();
        let checked = crate::field_path::every_field(&compiled.fields)
            .into_iter()
            .filter(|(_, field)| {
                field.image_constraints().is_some()
                    || field.video_constraints().is_some()
                    || field.audio_constraints().is_some()
                    || field.refers_to_task.is_some()
            })
            .map(|(name, field)| Checked {
                field: name,
                image: field.image_constraints().cloned(),
                video: field.video_constraints().cloned(),
                audio: field.audio_constraints().cloned(),
                task: field.refers_to_task.clone(),
            })
            .collect();
        let billing_reads: Vec<Option<Vec<String>>> = spec
            .billing
            .value
            .cases
            .iter()
            .map(|case| {
                (!compile::names_mode(&case.when)).then(|| {
                    let mut fields = compile::condition_fields(&case.when);
                    fields.sort();
                    fields.dedup();
                    fields
                })
            })
            .collect();
        let billing = defaults
            .iter()
            .map(|defaults| ModeBilling::new(&spec.billing.value, defaults))
            .collect();
        let facts = Facts {
            id: id.to_owned(),
            family: spec.family.value.clone(),
            endpoint: PlanEndpoint {
                method: spec.endpoint.method.clone(),
                path: spec.endpoint.path.clone(),
                idempotency: spec.endpoint.idempotency.clone(),
                webhook: spec.endpoint.webhook.clone(),
            },
            mode_endpoints: spec
                .modes
                .iter()
                .map(|mode| match &mode.value.endpoint {
                    Some(own) => PlanEndpoint {
                        method: own
                            .method
                            .clone()
                            .unwrap_or_else(|| spec.endpoint.method.clone()),
                        path: own.path.clone(),
                        idempotency: spec.endpoint.idempotency.clone(),
                        webhook: spec.endpoint.webhook.clone(),
                    },
                    None => PlanEndpoint {
                        method: spec.endpoint.method.clone(),
                        path: spec.endpoint.path.clone(),
                        idempotency: spec.endpoint.idempotency.clone(),
                        webhook: spec.endpoint.webhook.clone(),
                    },
                })
                .collect(),
            task: Arc::new(task),
            modes: compiled
                .modes
                .iter()
                .map(|mode| mode.name.clone())
                .collect(),
            nested_defaults: defaults
                .iter()
                .map(|defaults| {
                    defaults
                        .iter()
                        .filter(|(path, _)| crate::field_path::is_nested(path))
                        .cloned()
                        .collect()
                })
                .collect(),
            defaults,
            checked,
            biller: Biller {
                modes: billing,
                cases: billing_cases.into_iter().zip(billing_reads).collect(),
            },
        };
        Ok(Model {
            id: id.to_owned(),
            spec,
            facts: Arc::new(facts),
            attention,
            priority: crate::priority::pairs(&compiled.fields),
            source: source.name.clone(),
            spec_digest,
            compiled,
            annotations,
            validator,
            modes,
            advice,
            derives,
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

    /// The digest of the spec file's text and of the gateway file it inherits
    /// from, if any: which spec version shaped a request (recorded with each
    /// task in the ledger).
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
        &self.facts.task
    }

    /// Where requests go by default (a mode with its own `endpoint:` sends
    /// elsewhere: read the plan's [`Plan::endpoint`](crate::Plan::endpoint)).
    pub fn endpoint(&self) -> &PlanEndpoint {
        &self.facts.endpoint
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
    /// Takes the request by value: a valid request becomes the plan's body in
    /// place, so nothing is copied (clone a request you want to keep). Returns
    /// every problem at once when the request is invalid.
    pub fn prepare(&self, request: Value) -> Result<Plan, Diagnostics> {
        if !request.is_object() {
            return Err(Diagnostics::single(
                "",
                format!(
                    "a request for {} must be a JSON object, not {}",
                    self.id,
                    crate::diagnostics::type_words(&request)
                ),
            ));
        }
        if !self.validator.is_valid(&request) {
            return Err(self.diagnose(&request));
        }
        let Some(dispatched) = dispatch::dispatch(&self.compiled.modes, &request, |index| {
            self.modes[index].is_valid(&request)
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
        // Everything that reads the request as given, before it is reshaped.
        let derive_holds: Vec<bool> = self
            .derives
            .iter()
            .map(|derive| derive.is_valid(&request))
            .collect();
        let mut advice = Vec::new();
        for (index, compiled) in self.compiled.advice.iter().enumerate() {
            if self.advice[index].is_valid(&request) {
                advice.push(Warning {
                    path: compiled
                        .field
                        .as_ref()
                        .map(|field| format!("/{}", crate::compile::escape(field)))
                        .unwrap_or_default(),
                    message: format!("{} ({})", compiled.message, compiled.rule),
                });
            }
        }
        let Value::Object(mut body) = request else {
            unreachable!("checked to be an object above");
        };

        let mode = dispatched.mode;
        let mut dispatched = dispatched;
        crate::priority::apply(
            &self.priority,
            &crate::priority::Request {
                fields: &self.compiled.fields,
                request: &body,
                defaults: &self.facts.defaults[mode],
            },
            &mut dispatched.losing,
            &mut dispatched.warnings,
        );
        let input = ShapeInput {
            model: &self.id,
            mode: &self.compiled.modes[mode],
            attention: &self.attention[mode],
            defaults: &self.facts.defaults[mode],
            losing: &dispatched.losing,
            derives: &self.compiled.derives,
        };
        let shaped = shape::shape(&input, &mut body, |index| derive_holds[index]);
        let mut warnings = dispatched.warnings;
        warnings.extend(shaped);
        warnings.extend(advice);

        Ok(Plan::new(
            Arc::clone(&self.facts),
            mode,
            body,
            dispatched.losing,
            warnings,
        ))
    }

    fn diagnose(&self, request: &Value) -> Diagnostics {
        Mapper {
            model: &self.id,
            schema: &self.compiled.schema,
            annotations: &self.annotations,
        }
        .diagnose(&self.validator, request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_that_does_not_compile_is_a_typed_error_worded_by_the_schema_compiler() {
        let schema = serde_json::json!({"type": "no-such-type"});
        let compiler_says = jsonschema::draft202012::options()
            .build(&schema)
            .expect_err("an unknown type does not compile")
            .to_string();
        let error: SchemaCompileError = build_validator(&schema).expect_err("does not compile");
        assert_eq!(error.to_string(), compiler_says);
    }

    #[test]
    fn a_pattern_needing_backtracking_does_not_compile() {
        let schema = serde_json::json!({"pattern": "(?=a)a"});
        assert!(build_validator(&schema).is_err());
    }
}
