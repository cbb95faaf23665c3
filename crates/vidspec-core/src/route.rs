//! Routing a request to its model: by the request's `model` string, or by an
//! id the caller gives.
//!
//! Owns every way a request can fail to reach a model (not a JSON object, no
//! `model`, a `model` that is not a string, an id no spec defines, with the
//! one did-you-mean of [`crate::suggest`] among the known ids) as a typed
//! error, and the diagnostic each becomes (at `/model`; at the root for a
//! request that is not an object). It must not judge the request's fields
//! (the model's schema does, including a `model` naming another id than the
//! one it is checked as), and its words name no front end's flags or
//! commands: a CLI adds its own hints where it prints them.

use serde_json::Value;

use crate::diagnostics::{Diagnostics, type_words};
use crate::model::Model;
use crate::registry::Registry;

/// Why a request reaches no model. Each message says what to write instead
/// and lists the known model ids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// The request is not a JSON object, so it names no model.
    #[error(
        "the request must be a JSON object, not {found}: write one {{…}} object with a \
         \"model\" field and the request's fields"
    )]
    NotAnObject {
        /// The JSON type found, as a person names it (`an array`).
        found: &'static str,
    },
    /// The request has no `model` key.
    #[error("no model: give a \"model\" field naming one (known: {})", known_list(.known))]
    NoModel {
        /// The model ids of the registry, sorted.
        known: Vec<String>,
    },
    /// The request's `model` is not a string.
    #[error(
        "\"model\" must be a string naming the model, not {found} (known: {})",
        known_list(.known)
    )]
    ModelNotAString {
        /// The JSON type found, as a person names it (`an integer`).
        found: &'static str,
        /// The model ids of the registry, sorted.
        known: Vec<String>,
    },
    /// No spec defines this model id.
    #[error(
        "unknown model {}{} (known: {})",
        crate::text::quote_short(.id),
        did_you_mean(.suggestion.as_deref()),
        known_list(.known)
    )]
    UnknownModel {
        /// The id asked for, as given.
        id: String,
        /// The closest known id, when one is close enough.
        suggestion: Option<String>,
        /// The model ids of the registry, sorted.
        known: Vec<String>,
    },
}

impl RouteError {
    /// The JSON pointer the error is about: `/model`, or `""` (the whole
    /// request) when the request is not an object.
    pub fn path(&self) -> &'static str {
        match self {
            RouteError::NotAnObject { .. } => "",
            RouteError::NoModel { .. }
            | RouteError::ModelNotAString { .. }
            | RouteError::UnknownModel { .. } => "/model",
        }
    }

    /// The model id the request asked for, when it named one (known or not).
    pub fn asked_for(&self) -> Option<&str> {
        match self {
            RouteError::UnknownModel { id, .. } => Some(id),
            _ => None,
        }
    }
}

impl From<RouteError> for Diagnostics {
    /// One error at [`RouteError::path`], no rule, no code.
    fn from(error: RouteError) -> Diagnostics {
        Diagnostics::single(error.path(), error.to_string())
    }
}

/// `: did you mean "X"?`, or nothing.
fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |near| format!(": did you mean \"{near}\"?"))
}

/// The known ids as a comma-separated list, or `none`.
fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "none".to_owned()
    } else {
        known.join(", ")
    }
}

/// The ids of `registry`, owned, for an error.
fn known(registry: &Registry) -> Vec<String> {
    registry.ids().into_iter().map(str::to_owned).collect()
}

/// The model with this id, or [`RouteError::UnknownModel`].
pub(crate) fn lookup<'r>(registry: &'r Registry, id: &str) -> Result<&'r Model, RouteError> {
    registry.model(id).ok_or_else(|| {
        let ids = registry.ids();
        RouteError::UnknownModel {
            id: id.to_owned(),
            suggestion: crate::suggest::did_you_mean(id, &ids),
            known: known(registry),
        }
    })
}

/// The model `request` names in its `model` string.
pub(crate) fn route<'r>(registry: &'r Registry, request: &Value) -> Result<&'r Model, RouteError> {
    let Value::Object(object) = request else {
        return Err(RouteError::NotAnObject {
            found: type_words(request),
        });
    };
    match object.get("model") {
        Some(Value::String(id)) => lookup(registry, id),
        Some(other) => Err(RouteError::ModelNotAString {
            found: type_words(other),
            known: known(registry),
        }),
        None => Err(RouteError::NoModel {
            known: known(registry),
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn registry() -> &'static Registry {
        Registry::embedded()
    }

    fn only_error(diagnostics: &Diagnostics) -> &crate::Diagnostic {
        assert_eq!(diagnostics.errors.len(), 1, "{diagnostics:?}");
        &diagnostics.errors[0]
    }

    #[test]
    fn a_request_naming_a_known_model_is_prepared_by_that_model() {
        let plan = registry()
            .prepare(json!({"model": "Omni-Flash-Ext", "prompt": "a fox"}))
            .expect("a valid request");
        assert_eq!(plan.body()["model"], "Omni-Flash-Ext");
    }

    #[test]
    fn a_known_model_judges_the_rest_of_the_request_with_its_own_rules() {
        let refused = registry()
            .prepare(json!({"model": "Omni-Flash-Ext", "prompt": "a fox", "duration": 7}))
            .expect_err("7 s is not allowed");
        assert_eq!(only_error(&refused).path, "/duration");
    }

    #[test]
    fn a_request_without_model_is_one_error_at_model_listing_the_known_ids() {
        let refused = registry()
            .prepare(json!({"prompt": "a fox"}))
            .expect_err("no model");
        let error = only_error(&refused);
        assert_eq!(error.path, "/model");
        let known = registry().ids().join(", ");
        assert_eq!(
            error.message,
            format!("no model: give a \"model\" field naming one (known: {known})")
        );
    }

    #[test]
    fn a_model_that_is_not_a_string_is_an_error_at_model_naming_its_type() {
        let error = registry()
            .route(&json!({"model": 3}))
            .expect_err("not a string");
        assert_eq!(error.path(), "/model");
        assert!(
            error.to_string().starts_with(
                "\"model\" must be a string naming the model, not an integer (known: "
            ),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_model_close_to_a_known_id_suggests_it() {
        let error = registry()
            .route(&json!({"model": "omni-flash-ext"}))
            .expect_err("ids are case-sensitive");
        assert_eq!(error.asked_for(), Some("omni-flash-ext"));
        assert!(
            error.to_string().starts_with(
                "unknown model \"omni-flash-ext\": did you mean \"Omni-Flash-Ext\"? (known: "
            ),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_model_far_from_every_id_lists_the_known_ids_without_a_suggestion() {
        let error = registry().lookup("zzzzzzzzzzzzzzzz").expect_err("unknown");
        let known = registry().ids().join(", ");
        assert_eq!(
            error.to_string(),
            format!("unknown model \"zzzzzzzzzzzzzzzz\" (known: {known})")
        );
    }

    #[test]
    fn an_unknown_model_is_shown_quoted_with_control_characters_escaped() {
        let error = registry().lookup("a\u{1b}[31mred").expect_err("unknown");
        assert!(!error.to_string().contains('\u{1b}'), "{error}");
    }

    #[test]
    fn a_request_that_is_not_an_object_is_one_error_at_the_root() {
        let refused = registry()
            .prepare(json!(["Omni-Flash-Ext"]))
            .expect_err("an array");
        let error = only_error(&refused);
        assert_eq!(error.path, "");
        assert!(error.message.contains("not an array"), "{}", error.message);
    }

    #[test]
    fn a_registry_without_models_says_none_are_known() {
        let empty = Registry::from_sources(Vec::new()).expect("an empty registry loads");
        let error = empty.lookup("anything").expect_err("nothing is known");
        assert_eq!(
            error.to_string(),
            "unknown model \"anything\" (known: none)"
        );
    }
}
