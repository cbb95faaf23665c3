//! Simulated tasks: their timeline (queued → running → finished, measured with
//! `tokio::time::Instant` and scaled by `speed`) and the JSON a poll answers
//! with, in the standard `{code, data}` shape or Midjourney's bare object.
//!
//! Response shapes are copied from the seed pages by hand. This module must not
//! read any spec or use the engine's task reading: the simulator is an
//! independent judge of the transport.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

/// The message of a simulated failure (standard shape `error.message`,
/// Midjourney `fail_reason`).
pub(crate) const FAILURE_MESSAGE: &str = "simulated failure: moderation failed";

/// Charge reported for a completed standard task (the pixverse page's
/// example), and what the balance is charged per created task.
pub(crate) const COMPLETED_COST: f64 = 0.2;

/// Share of its time a task spends `submitted` before it turns `processing`.
const QUEUED_SHARE: f64 = 0.05;

/// Share of its time a failing task runs before it fails (failures come early,
/// as moderation failures do).
const FAILING_SHARE: f64 = 0.5;

/// Which endpoint created a task, hence which shape it answers polls with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TaskKind {
    /// `POST /v1/videos/generations`: one video, standard shape.
    Standard,
    /// `POST /v1/midjourney/generations/video`: `batch_size` videos, bare
    /// Midjourney-style object.
    Midjourney {
        /// Number of result videos (1, 2 or 4).
        batch_size: usize,
    },
}

/// Where a task is on its timeline at some instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Accepted, not started (`submitted` / `SUBMITTED`).
    Queued,
    /// Generating, with a progress of 0..=99 (`processing` / `IN_PROGRESS`).
    Running(u8),
    /// Finished with videos (`completed` / `SUCCESS`).
    Succeeded,
    /// Finished without (`failed` / `FAILURE`).
    Failed,
}

/// One task in the simulator's table.
#[derive(Clone, Debug)]
pub(crate) struct Task {
    /// `task_…` id.
    pub(crate) id: String,
    /// Shape and number of videos.
    pub(crate) kind: TaskKind,
    /// When it was created (tokio clock, so paused-time tests work).
    started: Instant,
    /// Unix seconds at creation (wall clock), the `created` field.
    created_unix: u64,
    /// Real time from creation to the end of the task (`task_seconds / speed`,
    /// halved for a failing task).
    real_duration: Duration,
    /// Simulated seconds the task takes, for `actual_time` and `completed`.
    simulated_seconds: u64,
    /// Pessimistic estimate in simulated seconds (about twice the real time).
    estimated_seconds: u64,
    /// Whether it ends failed.
    fails: bool,
    /// Lifetime of result URLs in seconds after completion.
    url_ttl_s: u64,
    /// The submit's prompt, for `GET /__sim/tasks`.
    pub(crate) prompt: String,
    /// Creation order, from 0.
    pub(crate) serial: u64,
}

/// What it takes to create a task.
pub(crate) struct NewTask {
    /// `task_…` id.
    pub(crate) id: String,
    /// Shape and number of videos.
    pub(crate) kind: TaskKind,
    /// Creation instant on the tokio clock.
    pub(crate) started: Instant,
    /// Creation time in Unix seconds.
    pub(crate) created_unix: u64,
    /// Unscaled generation time in seconds (drawn around `SimConfig::task_seconds`).
    pub(crate) task_seconds: f64,
    /// `estimated_time / actual_time` for this task.
    pub(crate) estimate_factor: f64,
    /// Time scale (`SimConfig::speed`, positive).
    pub(crate) speed: f64,
    /// Whether the task ends failed.
    pub(crate) fails: bool,
    /// `SimConfig::url_ttl_s`.
    pub(crate) url_ttl_s: u64,
    /// The submit's prompt.
    pub(crate) prompt: String,
    /// Creation order, from 0.
    pub(crate) serial: u64,
}

impl Task {
    /// Lays out the timeline of a new task.
    pub(crate) fn new(new: NewTask) -> Task {
        let share = if new.fails { FAILING_SHARE } else { 1.0 };
        let simulated = (new.task_seconds * share).max(0.0);
        let real = Duration::try_from_secs_f64(simulated / new.speed).unwrap_or(Duration::MAX);
        Task {
            id: new.id,
            kind: new.kind,
            started: new.started,
            created_unix: new.created_unix,
            real_duration: real,
            simulated_seconds: simulated.round() as u64,
            estimated_seconds: (new.estimate_factor * new.task_seconds).ceil() as u64,
            fails: new.fails,
            url_ttl_s: new.url_ttl_s,
            prompt: new.prompt,
            serial: new.serial,
        }
    }

    /// Where the task is at `now`.
    pub(crate) fn phase(&self, now: Instant) -> Phase {
        let elapsed = now.saturating_duration_since(self.started);
        if elapsed >= self.real_duration {
            return if self.fails {
                Phase::Failed
            } else {
                Phase::Succeeded
            };
        }
        let share = if self.fails { FAILING_SHARE } else { 1.0 };
        let fraction = elapsed.as_secs_f64() / self.real_duration.as_secs_f64() * share;
        if fraction < QUEUED_SHARE {
            Phase::Queued
        } else {
            Phase::Running(((fraction * 100.0) as u8).min(99))
        }
    }

    /// The instant the task reaches its terminal state.
    pub(crate) fn ends_at(&self) -> Instant {
        self.started + self.real_duration
    }

    /// Whether the task ends failed.
    pub(crate) fn fails(&self) -> bool {
        self.fails
    }

    /// The task object a webhook callback carries at `now`: the poll
    /// answer's task object, bare (no `{code, data}` envelope), and only in
    /// a terminal state (`None` while the task runs).
    pub(crate) fn callback_body(&self, now: Instant, base_url: &str) -> Option<Value> {
        if !matches!(self.phase(now), Phase::Succeeded | Phase::Failed) {
            return None;
        }
        let mut body = self.render(now, base_url);
        Some(match self.kind {
            TaskKind::Standard => body.get_mut("data").map(Value::take).unwrap_or(body),
            TaskKind::Midjourney { .. } => body,
        })
    }

    /// How many result videos the task has once it succeeds.
    pub(crate) fn video_count(&self) -> usize {
        match self.kind {
            TaskKind::Standard => 1,
            TaskKind::Midjourney { batch_size } => batch_size,
        }
    }

    /// Whether video `index` can be downloaded at `now`.
    pub(crate) fn has_video(&self, now: Instant, index: usize) -> bool {
        self.phase(now) == Phase::Succeeded && index < self.video_count()
    }

    /// The URL of result video `index` under `base_url`.
    pub(crate) fn video_url(&self, base_url: &str, index: usize) -> String {
        format!("{base_url}/__sim/videos/{}/{index}.mp4", self.id)
    }

    /// The body of `GET /v1/tasks/{id}` at `now`.
    pub(crate) fn render(&self, now: Instant, base_url: &str) -> Value {
        match self.kind {
            TaskKind::Standard => self.render_standard(now, base_url),
            TaskKind::Midjourney { .. } => self.render_midjourney(now, base_url),
        }
    }

    fn render_standard(&self, now: Instant, base_url: &str) -> Value {
        let completed = self.created_unix + self.simulated_seconds;
        let data = match self.phase(now) {
            Phase::Queued => json!({
                "id": self.id, "status": "submitted", "progress": 0,
                "created": self.created_unix, "estimated_time": self.estimated_seconds,
            }),
            Phase::Running(progress) => json!({
                "id": self.id, "status": "processing", "progress": progress,
                "created": self.created_unix, "estimated_time": self.estimated_seconds,
            }),
            Phase::Succeeded => json!({
                "id": self.id, "status": "completed", "progress": 100, "cost": COMPLETED_COST,
                "created": self.created_unix, "completed": completed,
                "estimated_time": self.estimated_seconds, "actual_time": self.simulated_seconds,
                "result": {"videos": (0..self.video_count()).map(|index| json!({
                    "url": [self.video_url(base_url, index)],
                    "expires_at": completed + self.url_ttl_s,
                })).collect::<Vec<_>>()},
            }),
            Phase::Failed => json!({
                "id": self.id, "status": "failed", "progress": 100, "cost": 0,
                "created": self.created_unix, "completed": completed,
                "estimated_time": self.estimated_seconds, "actual_time": self.simulated_seconds,
                "error": {"code": "task_failed", "message": FAILURE_MESSAGE, "type": "task_failed"},
            }),
        };
        json!({"code": 200, "data": data})
    }

    fn render_midjourney(&self, now: Instant, base_url: &str) -> Value {
        let (status, progress) = match self.phase(now) {
            Phase::Queued => ("SUBMITTED", 0),
            Phase::Running(progress) => ("IN_PROGRESS", progress),
            Phase::Succeeded => ("SUCCESS", 100),
            Phase::Failed => ("FAILURE", 100),
        };
        let urls: Vec<String> = if status == "SUCCESS" {
            (0..self.video_count())
                .map(|index| self.video_url(base_url, index))
                .collect()
        } else {
            Vec::new()
        };
        let mut body = json!({
            "id": self.id, "status": status, "action": "VIDEO", "mode": "FAST",
            "progress": progress,
            "video_url": urls.first().cloned().unwrap_or_default(),
            "video_urls": urls,
        });
        if status == "FAILURE" {
            body["fail_reason"] = json!(FAILURE_MESSAGE);
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(kind: TaskKind, fails: bool) -> (Task, Instant) {
        let started = Instant::now();
        let task = Task::new(NewTask {
            id: "task_TEST".to_owned(),
            kind,
            started,
            created_unix: 1_000,
            task_seconds: 100.0,
            estimate_factor: 2.0,
            speed: 10.0,
            fails,
            url_ttl_s: 50,
            prompt: "a fox".to_owned(),
            serial: 0,
        });
        (task, started)
    }

    #[test]
    fn a_standard_task_walks_its_timeline() {
        let (task, t0) = task(TaskKind::Standard, false);
        let at = |ms: u64| task.render(t0 + Duration::from_millis(ms), "http://sim");
        assert_eq!(at(0)["data"]["status"], "submitted");
        assert_eq!(at(0)["data"]["estimated_time"], 200);
        let middle = at(5_000);
        assert_eq!(middle["data"]["status"], "processing");
        assert_eq!(middle["data"]["progress"], 50);
        assert_eq!(at(9_999)["data"]["progress"], 99);
        let done = at(10_000);
        assert_eq!(done["data"]["status"], "completed");
        assert_eq!(done["data"]["completed"], 1_100);
        assert_eq!(done["data"]["actual_time"], 100);
        let video = &done["data"]["result"]["videos"][0];
        assert_eq!(video["url"][0], "http://sim/__sim/videos/task_TEST/0.mp4");
        assert_eq!(video["expires_at"], 1_150);
    }

    #[test]
    fn a_failing_task_fails_halfway_with_the_seed_shape() {
        let (task, t0) = task(TaskKind::Standard, true);
        assert!(matches!(
            task.phase(t0 + Duration::from_millis(4_000)),
            Phase::Running(40)
        ));
        let failed = task.render(t0 + Duration::from_millis(5_000), "http://sim");
        assert_eq!(failed["data"]["status"], "failed");
        assert_eq!(failed["data"]["cost"], 0);
        assert_eq!(failed["data"]["error"]["code"], "task_failed");
        assert!(failed["data"].get("result").is_none());
        assert!(!task.has_video(t0 + Duration::from_secs(60), 0));
    }

    #[test]
    fn a_midjourney_task_has_batch_size_urls() {
        let (task, t0) = task(TaskKind::Midjourney { batch_size: 2 }, false);
        let running = task.render(t0 + Duration::from_millis(3_000), "http://sim");
        assert_eq!(running["status"], "IN_PROGRESS");
        assert_eq!(running["video_urls"], json!([]));
        let done = task.render(t0 + Duration::from_secs(10), "http://sim");
        assert_eq!(done["status"], "SUCCESS");
        assert_eq!(done["video_urls"].as_array().map(Vec::len), Some(2));
        assert_eq!(done["video_url"], done["video_urls"][0]);
        assert!(task.has_video(t0 + Duration::from_secs(10), 1));
        assert!(!task.has_video(t0 + Duration::from_secs(10), 2));
    }
}
