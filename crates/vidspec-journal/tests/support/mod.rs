//! Helpers shared by the ledger's test files.

use std::path::PathBuf;

use vidspec_journal::Intent;

/// A fresh temporary folder (tempfile: a unique name, created exclusively),
/// kept so a failing test leaves its ledger to inspect; tests remove it.
pub fn temp_dir(label: &str) -> PathBuf {
    tempfile::Builder::new()
        .prefix(&format!("vidspec-ledger-{label}-"))
        .tempdir()
        .expect("temp dir")
        .keep()
}

/// An intent whose request key is `request`.
pub fn intent(request: &str) -> Intent {
    Intent {
        model: "m".into(),
        spec: "s".into(),
        request: request.into(),
        endpoint: "/v1/x".into(),
        download_dir: None,
        idempotency_key: None,
        body: None,
        ..Default::default()
    }
}
