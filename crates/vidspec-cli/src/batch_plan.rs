//! `vidspec batch plan`: the cost of a manifest per model and in total,
//! from vidspec-batch's price book; nothing is sent.
//!
//! It must not price anything itself and must not know any model.

use crate::Exit;
use crate::cli::BatchPlanArgs;

/// Runs `batch plan`.
pub fn plan(_args: &BatchPlanArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`vidspec batch plan` is not built yet")
}
