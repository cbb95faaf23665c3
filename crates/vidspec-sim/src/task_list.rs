//! `GET /__sim/tasks`: the simulator's own account of every task it created
//! (id, status now, the submit's prompt), so a test harness can count
//! charges per job from the gateway's side instead of trusting its clients.
//!
//! This module only describes tasks; it must not create, change or judge
//! them (the task table in `state` and the timelines in `tasks` do).

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::tasks::{Phase, Task};

/// One task as `GET /__sim/tasks` and [`crate::Sim::tasks`] list it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SimTask {
    /// The `task_…` id the submit answered with (or would have, had the
    /// answer not been dropped).
    pub id: String,
    /// The status now, in the standard shape's spelling: `submitted`,
    /// `processing`, `completed` or `failed`.
    pub status: String,
    /// The submit body's `prompt` as the simulator read it.
    pub prompt: String,
}

/// The body of `GET /__sim/tasks`: `{"tasks": [...]}` in creation order.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskList {
    /// Every task created so far, oldest first.
    pub tasks: Vec<SimTask>,
}

impl SimTask {
    /// `task` as it stands at `now`.
    pub(crate) fn of(task: &Task, now: Instant) -> SimTask {
        let status = match task.phase(now) {
            Phase::Queued => "submitted",
            Phase::Running(_) => "processing",
            Phase::Succeeded => "completed",
            Phase::Failed => "failed",
        };
        SimTask {
            id: task.id.clone(),
            status: status.to_owned(),
            prompt: task.prompt.clone(),
        }
    }
}
