//! The seam to idempotency keys: whether a plan's endpoint honours an
//! idempotency header, a new key per logical submission, and a submit that
//! sends a stored key.
//!
//! Owns nothing of the idempotency semantics: the spec declares the header
//! (`Plan::idempotency_header`) and the transport sends and resends
//! (`Client::submit_idempotent`). It must not decide when to resend.

use vidspec_core::Plan;
use vidspec_transport::{Client, ConfigError, Error, IdempotencyKey, TaskHandle};

/// The header the plan's endpoint honours, if any.
pub(crate) fn idempotency_header(plan: &Plan) -> Option<&str> {
    plan.idempotency_header()
}

/// A new key for one logical submission (stored before sending).
pub(crate) fn new_key() -> String {
    IdempotencyKey::new().as_str().to_owned()
}

/// Submits `plan`, under `key` when its endpoint honours one (the transport
/// then resends a lost answer with the same key and body).
pub(crate) async fn submit(
    client: &Client,
    plan: &Plan,
    key: Option<&str>,
) -> Result<TaskHandle, Error> {
    match key {
        Some(key) if plan.idempotency_header().is_some() => {
            let key = IdempotencyKey::parse(key).map_err(|error| ConfigError::Idempotency {
                problem: format!("the recorded idempotency key {key:?} cannot be sent ({error})"),
            })?;
            client.submit_idempotent(plan, &key).await
        }
        _ => client.submit(plan).await,
    }
}
