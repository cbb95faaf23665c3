//! `vidspec batch run`: validates a manifest, checks the balance, runs the
//! jobs with vidspec-batch's runner and prints the report.
//!
//! It must not decide what happens to a job (vidspec-batch does) and must
//! not know any model.

use crate::Exit;
use crate::cli::BatchRunArgs;

/// Runs `batch run`.
pub fn run(_args: &BatchRunArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`vidspec batch run` is not built yet")
}
