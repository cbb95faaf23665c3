//! The simulator's shared state: configuration, live faults and script, the
//! task and upload tables, counters, random generators and id makers.
//!
//! This module keeps and hands out state; it must not speak HTTP (routes do)
//! or judge requests (checks do).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use serde_json::Value;
use tokio::time::Instant;

use crate::config::{FaultTarget, Faults, SimConfig, SubmitShape};
use crate::faults::{self, Injected, Scripted};
use crate::idempotency::{Begin, Keys, Scope};
use crate::replies::Reply;
use crate::rng::Rng;
use crate::stats::{Counters, Stats, bump};
use crate::task_list::SimTask;
use crate::tasks::{COMPLETED_COST, NewTask, Phase, Task, TaskKind};

/// Random streams that share the configured seed.
const FAULT_STREAM: u64 = 1;
const TASK_STREAM: u64 = 2;
const NAME_STREAM: u64 = 3;
const WEBHOOK_STREAM: u64 = 4;

/// Slack when comparing money amounts (sums of `f64` costs).
const MONEY_EPSILON: f64 = 1e-9;

/// Crockford's base 32 alphabet, as in the gateway's ULID-like task ids.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// An uploaded image kept in memory.
#[derive(Clone, Debug)]
pub(crate) struct StoredUpload {
    /// MIME type found from the magic bytes.
    pub(crate) content_type: &'static str,
    /// The image.
    pub(crate) bytes: Bytes,
}

/// What the configured balance has paid for: tasks charged at creation,
/// and the instants failing tasks fail (and are refunded).
#[derive(Debug, Default)]
struct Ledger {
    charged_tasks: u64,
    refund_instants: Vec<Instant>,
}

/// The answer of `GET /v1/balance`, in USD (credits are 10 per USD, as the
/// gateway's `credits_cost = cost × 10`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Balance {
    /// What is left; 0 when the quota is unlimited.
    pub(crate) remain: f64,
    /// What tasks have cost so far (failed tasks refunded).
    pub(crate) used: f64,
    /// Whether no balance was configured.
    pub(crate) unlimited: bool,
}

/// What was drawn for one task's webhook callback when the task was created
/// (drawn then, in request order, so a seed replays the same plan).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CallbackPlan {
    /// Never send it.
    pub(crate) drop: bool,
    /// Send a second copy after a successful delivery.
    pub(crate) duplicate: bool,
}

/// Everything the handlers share.
pub(crate) struct SimState {
    /// The start-up configuration (`faults` there is only the initial value).
    pub(crate) config: SimConfig,
    /// `http://HOST:PORT`, the prefix of result and upload URLs.
    pub(crate) base_url: String,
    /// Live counters.
    pub(crate) counters: Counters,
    faults: Mutex<Faults>,
    script: Mutex<VecDeque<Scripted>>,
    fault_rng: Mutex<Rng>,
    task_rng: Mutex<Rng>,
    name_rng: Mutex<Rng>,
    webhook_rng: Mutex<Rng>,
    ledger: Mutex<Ledger>,
    tasks: Mutex<HashMap<String, Task>>,
    uploads: Mutex<HashMap<String, StoredUpload>>,
    idempotency_keys: Mutex<Keys>,
    /// Turns `true` when the server stops: pending webhook callbacks end.
    stopped: tokio::sync::watch::Sender<bool>,
    serial: AtomicU64,
    created_tasks: AtomicU64,
}

/// Locks a mutex, carrying on after a panic elsewhere (the data stays usable).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Unix seconds now.
pub(crate) fn unix_seconds() -> u64 {
    unix_millis() / 1000
}

/// `value` in base 32, `digits` characters, most significant first.
fn base32(mut value: u64, digits: usize) -> String {
    let mut out = vec![b'0'; digits];
    for slot in out.iter_mut().rev() {
        *slot = CROCKFORD[(value % 32) as usize];
        value /= 32;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl SimState {
    /// State for a server whose URLs start with `base_url`.
    pub(crate) fn new(config: SimConfig, base_url: String) -> SimState {
        SimState {
            faults: Mutex::new(config.faults.clone()),
            script: Mutex::new(VecDeque::new()),
            fault_rng: Mutex::new(Rng::new(config.seed, FAULT_STREAM)),
            task_rng: Mutex::new(Rng::new(config.seed, TASK_STREAM)),
            name_rng: Mutex::new(Rng::new(config.seed, NAME_STREAM)),
            webhook_rng: Mutex::new(Rng::new(config.seed, WEBHOOK_STREAM)),
            ledger: Mutex::new(Ledger::default()),
            tasks: Mutex::new(HashMap::new()),
            uploads: Mutex::new(HashMap::new()),
            idempotency_keys: Mutex::new(Keys::default()),
            stopped: tokio::sync::watch::Sender::new(false),
            serial: AtomicU64::new(0),
            created_tasks: AtomicU64::new(0),
            counters: Counters::default(),
            config,
            base_url,
        }
    }

    /// Whether the `Authorization` header carries the configured key.
    pub(crate) fn authorized(&self, authorization: Option<&str>) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        let mut parts = value.trim().splitn(2, ' ');
        let scheme = parts.next().unwrap_or_default();
        let token = parts.next().unwrap_or_default().trim();
        scheme.eq_ignore_ascii_case("bearer") && token == self.config.api_key
    }

    /// Replaces the random fault rates.
    pub(crate) fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = faults;
    }

    /// Queues scripted answers after those already queued.
    pub(crate) fn push_script(&self, responses: Vec<Scripted>) {
        lock(&self.script).extend(responses);
    }

    /// The fault for one submit or poll, counted in `faults_injected`.
    pub(crate) fn pick_fault(&self, request: FaultTarget) -> Option<Injected> {
        let faults = lock(&self.faults).clone();
        let injected = faults::pick(
            &mut lock(&self.script),
            &faults,
            &mut lock(&self.fault_rng),
            request,
        );
        if injected.is_some() {
            bump(&self.counters.faults_injected);
        }
        injected
    }

    /// The decision for a submit carrying an idempotency key (see
    /// `idempotency`); a fresh key is marked running.
    pub(crate) fn idempotency_begin(&self, scope: &Scope, body: &[u8]) -> Begin {
        lock(&self.idempotency_keys).begin(scope, body)
    }

    /// Keeps the answer of the request a key first came with.
    pub(crate) fn idempotency_finish(&self, scope: &Scope, reply: &Reply) {
        lock(&self.idempotency_keys).finish(scope, reply);
    }

    /// Frees a key whose request was not executed.
    pub(crate) fn idempotency_forget(&self, scope: &Scope) {
        lock(&self.idempotency_keys).forget(scope);
    }

    /// Makes the outcome under a key unknown for good.
    pub(crate) fn idempotency_make_indeterminate(&self, scope: &Scope) {
        lock(&self.idempotency_keys).make_indeterminate(scope);
    }

    /// A unique id for the `X-Oneapi-Request-Id` header.
    pub(crate) fn request_id(&self) -> String {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        let letters: String = {
            let mut rng = lock(&self.name_rng);
            (0..7)
                .map(|_| {
                    let pick = (rng.next_u64() % 52) as u8;
                    char::from(if pick < 26 {
                        b'a' + pick
                    } else {
                        b'A' + pick - 26
                    })
                })
                .collect()
        };
        format!("{}{serial:08}{letters}", unix_millis())
    }

    /// A short random hex string for upload names.
    pub(crate) fn random_hex(&self) -> String {
        format!("{:08x}", lock(&self.name_rng).next_u64() as u32)
    }

    /// Creates a task and says which submit shape to answer with.
    pub(crate) fn create_task(&self, kind: TaskKind, prompt: &str) -> (String, SubmitShape) {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        let (random, fails, task_seconds, estimate_factor) = {
            let mut rng = lock(&self.task_rng);
            let random = rng.next_u64();
            let spread = self.config.duration_spread.clamp(0.0, 1.0);
            let task_seconds =
                self.config.task_seconds * (1.0 + spread * (2.0 * rng.next_f64() - 1.0));
            let (low, high) = self.config.estimate_factor;
            let estimate_factor = low + (high - low) * rng.next_f64();
            let forced = prompt
                .split(|c: char| !c.is_alphanumeric())
                .any(|word| word == "FAIL");
            // Always draw, so forced failures do not shift later outcomes.
            let drawn = rng.chance(self.config.fail_rate);
            (random, forced || drawn, task_seconds, estimate_factor)
        };
        let id = format!(
            "task_{}{}{}",
            base32(unix_millis(), 10),
            base32(serial, 6),
            base32(random, 10)
        );
        let nth = self.created_tasks.fetch_add(1, Ordering::Relaxed);
        let task = Task::new(NewTask {
            id: id.clone(),
            kind,
            started: Instant::now(),
            created_unix: unix_seconds(),
            task_seconds,
            estimate_factor,
            speed: self.config.speed,
            fails,
            url_ttl_s: self.config.url_ttl_s,
            prompt: prompt.to_owned(),
            serial: nth,
        });
        lock(&self.tasks).insert(id.clone(), task);
        bump(&self.counters.submits);
        let shape = match self.config.submit_shape {
            SubmitShape::Alternate if nth.is_multiple_of(2) => SubmitShape::Array,
            SubmitShape::Alternate => SubmitShape::Object,
            shape => shape,
        };
        (id, shape)
    }

    /// Creates a task if the configured balance can pay for it (always when
    /// the quota is unlimited) and charges it; `None` means 402.
    pub(crate) fn create_paid_task(
        &self,
        kind: TaskKind,
        prompt: &str,
    ) -> Option<(String, SubmitShape)> {
        let mut ledger = lock(&self.ledger);
        if let Some(start) = self.config.balance {
            let remain = start - self.used_by(&ledger, Instant::now());
            if remain + MONEY_EPSILON < COMPLETED_COST {
                return None;
            }
        }
        let (id, shape) = self.create_task(kind, prompt);
        ledger.charged_tasks += 1;
        if let Some(task) = lock(&self.tasks).get(&id)
            && task.fails()
        {
            ledger.refund_instants.push(task.ends_at());
        }
        Some((id, shape))
    }

    /// What the tasks in `ledger` have cost by `now`.
    fn used_by(&self, ledger: &Ledger, now: Instant) -> f64 {
        let refunded = ledger
            .refund_instants
            .iter()
            .filter(|&&at| at <= now)
            .count() as u64;
        ledger.charged_tasks.saturating_sub(refunded) as f64 * COMPLETED_COST
    }

    /// The balance now.
    pub(crate) fn balance(&self) -> Balance {
        let used = self.used_by(&lock(&self.ledger), Instant::now());
        match self.config.balance {
            Some(start) => Balance {
                remain: (start - used).max(0.0),
                used,
                unlimited: false,
            },
            None => Balance {
                remain: 0.0,
                used,
                unlimited: true,
            },
        }
    }

    /// Tells pending background work (webhook callbacks) that the server
    /// has stopped.
    pub(crate) fn stop_background(&self) {
        self.stopped.send_replace(true);
    }

    /// Completes once [`SimState::stop_background`] has been called.
    pub(crate) async fn background_stopped(&self) {
        let mut stopped = self.stopped.subscribe();
        let _ = stopped.wait_for(|&stopped| stopped).await;
    }

    /// Draws the drop and duplicate decisions for one callback.
    pub(crate) fn callback_plan(&self) -> CallbackPlan {
        let mut rng = lock(&self.webhook_rng);
        // Always draw both, so one rate does not shift the other's outcomes.
        let drop = rng.chance(self.config.webhook_drop_rate);
        let duplicate = rng.chance(self.config.webhook_duplicate_rate);
        CallbackPlan { drop, duplicate }
    }

    /// When task `id` reaches its terminal state (`None`: unknown id).
    pub(crate) fn task_end(&self, id: &str) -> Option<Instant> {
        lock(&self.tasks).get(id).map(Task::ends_at)
    }

    /// The bare task object of a finished task `id` for a callback (`None`
    /// while it runs or for an unknown id).
    pub(crate) fn callback_body(&self, id: &str) -> Option<Value> {
        let now = Instant::now();
        lock(&self.tasks)
            .get(id)
            .and_then(|task| task.callback_body(now, &self.base_url))
    }

    /// The poll body of task `id` now, or `None` for an unknown id.
    pub(crate) fn task_body(&self, id: &str) -> Option<Value> {
        let now = Instant::now();
        lock(&self.tasks)
            .get(id)
            .map(|task| task.render(now, &self.base_url))
    }

    /// Whether video `index` of task `id` can be downloaded now.
    pub(crate) fn has_video(&self, id: &str, index: usize) -> bool {
        let now = Instant::now();
        lock(&self.tasks)
            .get(id)
            .is_some_and(|task| task.has_video(now, index))
    }

    /// Keeps an uploaded image under `name`.
    pub(crate) fn store_upload(&self, name: String, upload: StoredUpload) {
        lock(&self.uploads).insert(name, upload);
    }

    /// An uploaded image by name.
    pub(crate) fn upload(&self, name: &str) -> Option<StoredUpload> {
        lock(&self.uploads).get(name).cloned()
    }

    /// Every task created so far, in creation order, as it stands now.
    pub(crate) fn task_list(&self) -> Vec<SimTask> {
        let now = Instant::now();
        let mut list: Vec<(u64, SimTask)> = lock(&self.tasks)
            .values()
            .map(|task| (task.serial, SimTask::of(task, now)))
            .collect();
        list.sort_by_key(|(serial, _)| *serial);
        list.into_iter().map(|(_, task)| task).collect()
    }

    /// A snapshot of the counters, with task outcomes counted now.
    pub(crate) fn stats(&self) -> Stats {
        let now = Instant::now();
        let mut stats = self.counters.snapshot();
        for task in lock(&self.tasks).values() {
            match task.phase(now) {
                Phase::Succeeded => stats.tasks_completed += 1,
                Phase::Failed => stats.tasks_failed += 1,
                Phase::Queued | Phase::Running(_) => {}
            }
        }
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_look_like_the_gateways_and_are_unique() {
        let state = SimState::new(SimConfig::default(), "http://sim".to_owned());
        let (first, _) = state.create_task(TaskKind::Standard, "a");
        let (second, _) = state.create_task(TaskKind::Standard, "a");
        assert_ne!(first, second);
        assert_eq!(first.len(), "task_01KS1H7ZYSJWH1N779S2FSHTKA".len());
        assert!(first.starts_with("task_"));
    }

    #[test]
    fn the_word_fail_fails_a_task_and_alternate_alternates() {
        let config = SimConfig {
            submit_shape: SubmitShape::Alternate,
            task_seconds: 0.0,
            ..SimConfig::default()
        };
        let state = SimState::new(config, "http://sim".to_owned());
        let (failing, first_shape) = state.create_task(TaskKind::Standard, "please FAIL now");
        let (_, second_shape) = state.create_task(TaskKind::Standard, "FAILURE is not the word");
        assert_eq!(
            (first_shape, second_shape),
            (SubmitShape::Array, SubmitShape::Object)
        );
        let body = state.task_body(&failing).unwrap_or_default();
        assert_eq!(body["data"]["status"], "failed");
        let stats = state.stats();
        assert_eq!((stats.tasks_failed, stats.tasks_completed), (1, 1));
    }

    #[test]
    fn only_the_configured_bearer_key_is_accepted() {
        let state = SimState::new(SimConfig::default(), "http://sim".to_owned());
        assert!(state.authorized(Some("Bearer sim-key")));
        assert!(state.authorized(Some("bearer sim-key")));
        assert!(!state.authorized(Some("Bearer other")));
        assert!(!state.authorized(Some("sim-key")));
        assert!(!state.authorized(None));
    }
}
