//! The seam to idempotency keys: whether a plan's endpoint honours an
//! `Idempotency-Key` header, a new key per logical submission, and a submit
//! that sends it.
//!
//! Owns nothing of the idempotency semantics (the transport does). Until the
//! transport's API lands, the plan declares no header, so no key is made and
//! every submit is a plain one.

use vidspec_core::Plan;
use vidspec_transport::{Client, Error, TaskHandle};

/// The header the plan's endpoint honours, if any.
// wired to IDEM's API at merge: `plan.idempotency_header()`.
pub(crate) fn idempotency_header(_plan: &Plan) -> Option<&str> {
    None
}

/// A new key for one logical submission (stored before sending).
// wired to IDEM's API at merge: `vidspec_transport::IdempotencyKey::new()`.
pub(crate) fn new_key() -> String {
    format!("vidspec-{}", vidspec_journal::new_entry_id())
}

/// Submits `plan`, with `key` when its endpoint honours one.
// wired to IDEM's API at merge: `client.submit_idempotent(plan, &key)`.
pub(crate) async fn submit(
    client: &Client,
    plan: &Plan,
    key: Option<&str>,
) -> Result<TaskHandle, Error> {
    let _ = key;
    client.submit(plan).await
}
