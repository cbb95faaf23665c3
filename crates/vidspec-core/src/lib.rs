//! vidspec-core: declarative video-generation model specs.
//!
//! A YAML spec per model family says which fields a request may carry, their
//! types, enums, ranges and defaults, which generation mode a request selects,
//! which cross-field rules hold, how it is billed and how to read its task. This
//! crate loads and lints specs, compiles each model id to one JSON Schema
//! (draft 2020-12), validates requests with that very schema, and turns a valid
//! request into a [`Plan`]: the exact body to send, the mode, the effective
//! values, warnings and the billing key.
//!
//! It does no I/O beyond reading spec files and knows nothing of HTTP.
//!
//! ```
//! use vidspec_core::Registry;
//! use serde_json::json;
//!
//! let registry = Registry::embedded();
//! let model = registry.model("Omni-Flash-Ext").expect("an embedded model");
//!
//! let plan = model
//!     .prepare(json!({"model": "Omni-Flash-Ext", "prompt": "a red fox", "resolution": "1080P"}))
//!     .expect("a valid request");
//! assert_eq!(plan.mode(), "text_to_video");
//! assert_eq!(plan.body()["resolution"], "1080p"); // normalised to the canonical spelling
//! assert_eq!(plan.effective()["duration"], 6); // the default the gateway will use
//!
//! let errors = model
//!     .prepare(json!({"model": "Omni-Flash-Ext", "prompt": "a red fox", "duration": 7}))
//!     .unwrap_err();
//! assert_eq!(errors.errors[0].code.as_deref(), Some("invalid_duration"));
//! ```

#![warn(missing_docs)]

mod billing;
pub mod compile;
pub mod construct;
mod diagnostics;
pub mod digest;
mod dispatch;
mod field_path;
mod gateway;
pub mod lifecycle;
pub mod lint;
mod lint_billing;
mod lint_idempotency;
mod lint_media;
mod lint_pattern;
mod lint_webhook;
pub mod load;
pub mod media_formats;
mod model;
mod plan;
mod priority;
mod registry;
mod route;
mod shape;
pub mod spec;
mod suggest;
pub mod text;
mod validate;
pub mod words;

pub use billing::Charge;
pub use diagnostics::{Diagnostic, Diagnostics, MAX_LISTED_ERRORS, Problem, SpecErrors, Warning};
pub use load::Source;
pub use model::Model;
pub use plan::{Effective, Plan, PlanEndpoint, Precondition, WebhookError};
pub use registry::{LintReport, Registry, SharedRegistry};
pub use route::RouteError;
pub use spec::Idempotency;
pub use spec::Spec;
pub use spec::Webhook;
