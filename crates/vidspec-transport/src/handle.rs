//! Task handles: what a submitted task is (its id, its model and the spec's
//! `task:` section that reads its answers), and `TaskRef`, the serialisable
//! part of a handle a caller stores to re-attach to a task later (in another
//! process, after a restart).
//!
//! Owns building handles from a model and re-attaching references through a
//! `Registry`. It must not talk to the network or keep a spec's `task:`
//! section in a stored reference: the section comes from the specs loaded
//! when the task is re-attached, so a stored reference stays small and never
//! goes stale when a spec is fixed.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use vidspec_core::spec::Task;
use vidspec_core::{Model, Registry};

/// A submitted task: its id and how to read it.
///
/// `Client::submit` returns one; `TaskHandle::new` builds one for a task id
/// known from elsewhere, and `TaskHandle::from_ref` re-attaches a stored
/// `TaskRef`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskHandle {
    /// Task id.
    pub id: String,
    /// Model id.
    pub model: String,
    /// The spec's task section (poll path, pointers, statuses).
    pub task: Arc<Task>,
    /// `X-Oneapi-Request-Id` of the submit answer.
    pub request_id: Option<String>,
}

/// A task to store and re-attach to later: its id and model id, nothing
/// else (never a key, a URL or a request body). Serialises as
/// `{"id": "…", "model": "…"}`.
///
/// ```
/// use vidspec_core::Registry;
/// use vidspec_transport::{TaskHandle, TaskRef};
///
/// let registry = Registry::embedded();
/// let stored = r#"{"id": "task_01", "model": "Omni-Flash-Ext"}"#;
/// let reference: TaskRef = serde_json::from_str(stored).unwrap();
/// let handle = TaskHandle::from_ref(&reference, &registry).unwrap();
/// assert_eq!(handle.id, "task_01");
/// assert_eq!(handle.to_ref(), reference);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskRef {
    /// Task id, as the gateway gave it.
    pub id: String,
    /// Model id of the request that made the task.
    pub model: String,
}

/// Why a stored `TaskRef` cannot be re-attached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandleError {
    /// The loaded specs have no model of that id.
    #[error(
        "task {task_id} was made by model {model:?}, which the loaded specs do not hold: load the specs that define it"
    )]
    UnknownModel {
        /// The task id.
        task_id: String,
        /// The model id the reference names.
        model: String,
    },
    /// The task id is empty.
    #[error("the stored task reference for model {model:?} has an empty task id")]
    EmptyId {
        /// The model id the reference names.
        model: String,
    },
}

impl TaskHandle {
    /// A handle to task `id` of `model`: the spec's task section comes from
    /// the model, so the task is read as its model's answers are.
    ///
    /// ```
    /// use vidspec_core::Registry;
    /// use vidspec_transport::TaskHandle;
    ///
    /// let registry = Registry::embedded();
    /// let model = registry.model("Omni-Flash-Ext").unwrap();
    /// let handle = TaskHandle::new("task_01", model);
    /// assert_eq!(handle.model, "Omni-Flash-Ext");
    /// ```
    pub fn new(id: impl Into<String>, model: &Model) -> TaskHandle {
        TaskHandle {
            id: id.into(),
            model: model.id().to_owned(),
            task: Arc::clone(model.task()),
            request_id: None,
        }
    }

    /// Re-attaches a stored reference: its model is looked up in `registry`
    /// and its task section taken from there.
    pub fn from_ref(reference: &TaskRef, registry: &Registry) -> Result<TaskHandle, HandleError> {
        if reference.id.is_empty() {
            return Err(HandleError::EmptyId {
                model: reference.model.clone(),
            });
        }
        let model = registry
            .model(&reference.model)
            .ok_or_else(|| HandleError::UnknownModel {
                task_id: reference.id.clone(),
                model: reference.model.clone(),
            })?;
        Ok(TaskHandle::new(reference.id.clone(), model))
    }

    /// The part of this handle to store: its id and model id.
    pub fn to_ref(&self) -> TaskRef {
        TaskRef {
            id: self.id.clone(),
            model: self.model.clone(),
        }
    }
}

impl From<&TaskHandle> for TaskRef {
    fn from(handle: &TaskHandle) -> TaskRef {
        handle.to_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> &'static Registry {
        Registry::embedded()
    }

    #[test]
    fn a_handle_made_from_a_model_reads_tasks_with_that_models_task_section() {
        let registry = registry();
        let model = registry.models().next().expect("an embedded model");
        let handle = TaskHandle::new("task_9", model);
        assert_eq!(handle.model, model.id());
        assert!(Arc::ptr_eq(&handle.task, model.task()));
        assert_eq!(handle.request_id, None);
    }

    #[test]
    fn a_reference_serialises_as_id_and_model_only() {
        let registry = registry();
        let model = registry.models().next().expect("an embedded model");
        let handle = TaskHandle::new("task_9", model);
        let stored = serde_json::to_value(handle.to_ref()).expect("serialises");
        assert_eq!(
            stored,
            serde_json::json!({"id": "task_9", "model": model.id()})
        );
    }

    #[test]
    fn a_stored_reference_reattaches_to_the_same_handle() {
        let registry = registry();
        let model = registry.models().next().expect("an embedded model");
        let handle = TaskHandle::new("task_9", model);
        let text = serde_json::to_string(&handle.to_ref()).expect("serialises");
        let back: TaskRef = serde_json::from_str(&text).expect("deserialises");
        assert_eq!(TaskHandle::from_ref(&back, registry), Ok(handle));
    }

    #[test]
    fn a_reference_to_a_model_the_specs_lack_is_refused_naming_it() {
        let reference = TaskRef {
            id: "task_9".into(),
            model: "no-such-model".into(),
        };
        let refused = TaskHandle::from_ref(&reference, registry());
        assert!(
            matches!(&refused, Err(HandleError::UnknownModel { model, .. }) if model == "no-such-model"),
            "{refused:?}"
        );
    }

    #[test]
    fn a_reference_with_an_empty_id_is_refused() {
        let registry = registry();
        let model = registry.models().next().expect("an embedded model");
        let reference = TaskRef {
            id: String::new(),
            model: model.id().to_owned(),
        };
        assert!(matches!(
            TaskHandle::from_ref(&reference, registry),
            Err(HandleError::EmptyId { .. })
        ));
    }

    #[test]
    fn a_reference_with_unknown_keys_is_refused() {
        let text = r#"{"id": "t", "model": "m", "api_key": "sk-1"}"#;
        assert!(serde_json::from_str::<TaskRef>(text).is_err());
    }
}
