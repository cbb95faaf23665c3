//! The key of the double-spend guard: which requests count as identical.
//!
//! Owns that definition (endpoint, model, shaped body, each local image by
//! its contents). It must not decide anything with the key; the task store
//! does.

use std::path::Path;

use serde_json::json;
use vidspec_core::Plan;
use vidspec_core::digest::{digest, digest_json};

use crate::error::WorkflowError;

/// The key of a request for the double-spend guard: the endpoint and the
/// shaped body, with each local image (`(pointer, path)`) standing for its
/// file's contents (its upload URL differs on every upload).
pub fn request_key(
    plan: &Plan,
    local_images: &[(String, String)],
) -> Result<String, WorkflowError> {
    let mut files = Vec::new();
    for (pointer, path) in local_images {
        // The one bounded reader of local images: a regular file, at most the
        // upload limit, never a FIFO or a device.
        let bytes = vidspec_transport::read_local_image(Path::new(path)).map_err(|source| {
            WorkflowError::LocalFile {
                path: path.into(),
                pointer: pointer.clone(),
                source,
            }
        })?;
        files.push(json!([pointer, digest(&bytes)]));
    }
    Ok(digest_json(&json!({
        "endpoint": plan.endpoint().path,
        "model": plan.model(),
        "body": plan.body(),
        "local_files": files,
    })))
}
