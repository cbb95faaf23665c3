//! The chaos run's worker processes: W slots, each running one `vidspec
//! batch run` child at a time; SIGKILL at seeded random moments; a killed
//! worker restarted at once; a worker that exits by itself is done.
//!
//! Owns process lifetimes and the kill schedule only; it must not judge the
//! run (the tally does) or know the worker's flags (the command builds each
//! worker's `Command` through the closure it passes in).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// How often children are looked at.
const TICK: Duration = Duration::from_millis(50);

/// When and how often to kill.
pub struct KillPlan {
    /// Most kills in the whole run.
    pub max_kills: usize,
    /// Shortest and longest gap before the next kill (drawn uniformly).
    pub gap: (Duration, Duration),
}

/// One worker slot: its current child and what became of the others.
struct Slot {
    child: Option<Child>,
    generation: usize,
    log: PathBuf,
    exit: Option<ExitStatus>,
}

/// How the workers ended.
pub struct Finished {
    /// SIGKILLs sent.
    pub kills: usize,
    /// Each slot's own exit status (the last child's).
    pub exits: Vec<ExitStatus>,
    /// Each slot's last log file.
    pub logs: Vec<PathBuf>,
}

/// What a worker is told: its slot and its generation (0 first, +1 per restart).
pub type Spawner<'a> = dyn FnMut(usize, usize) -> anyhow::Result<Command> + 'a;

/// Runs `workers` slots until each slot's child exits by itself, killing
/// children per `plan` (drawn from `rng`) and restarting killed ones;
/// `progress` is called about every `every` with the kills so far. Fails
/// after `timeout` (every child killed first).
pub fn supervise(
    workers: usize,
    logs: &Path,
    spawn: &mut Spawner<'_>,
    plan: &KillPlan,
    rng: &mut fastrand::Rng,
    timeout: Duration,
    progress: &mut dyn FnMut(usize, usize),
) -> anyhow::Result<Finished> {
    let started = Instant::now();
    let mut slots = Vec::with_capacity(workers);
    for index in 0..workers {
        let mut slot = Slot {
            child: None,
            generation: 0,
            log: PathBuf::new(),
            exit: None,
        };
        start(&mut slot, index, logs, spawn)?;
        slots.push(slot);
    }
    let mut kills = 0usize;
    let mut next_kill = started + draw_gap(plan, rng);
    let mut next_progress = started + Duration::from_secs(2);
    loop {
        for slot in &mut slots {
            if let Some(child) = slot.child.as_mut()
                && let Some(status) = child.try_wait().context("cannot look at a worker")?
            {
                slot.exit = Some(status);
                slot.child = None;
            }
        }
        let running: Vec<usize> = (0..slots.len())
            .filter(|&index| slots[index].child.is_some())
            .collect();
        if running.is_empty() {
            break;
        }
        let now = Instant::now();
        if now.duration_since(started) > timeout {
            for slot in &mut slots {
                stop(slot);
            }
            anyhow::bail!(
                "the run did not complete within {} s; worker logs are in {}",
                timeout.as_secs(),
                logs.display()
            );
        }
        if kills < plan.max_kills && now >= next_kill {
            let index = running[rng.usize(..running.len())];
            let slot = &mut slots[index];
            stop(slot);
            kills += 1;
            start(slot, index, logs, spawn)?;
            next_kill = now + draw_gap(plan, rng);
        }
        if now >= next_progress {
            progress(kills, running.len());
            next_progress = now + Duration::from_secs(2);
        }
        std::thread::sleep(TICK);
    }
    let exits = slots.iter().filter_map(|slot| slot.exit).collect();
    let logs = slots.into_iter().map(|slot| slot.log).collect();
    Ok(Finished { kills, exits, logs })
}

/// A gap drawn uniformly from the plan's range.
fn draw_gap(plan: &KillPlan, rng: &mut fastrand::Rng) -> Duration {
    let (low, high) = plan.gap;
    let span = high.saturating_sub(low).as_millis() as u64;
    low + Duration::from_millis(rng.u64(0..=span))
}

/// Starts the slot's next child, its output into a log file of its own.
fn start(
    slot: &mut Slot,
    index: usize,
    logs: &Path,
    spawn: &mut Spawner<'_>,
) -> anyhow::Result<()> {
    let log = logs.join(format!("worker-{index}-{}.log", slot.generation));
    let file = File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let mut command = spawn(index, slot.generation)?;
    command
        .stdin(Stdio::null())
        .stdout(file.try_clone().context("cannot share a log file")?)
        .stderr(file);
    let child = command
        .spawn()
        .with_context(|| format!("cannot start worker {index}"))?;
    slot.child = Some(child);
    slot.generation += 1;
    slot.log = log;
    slot.exit = None;
    Ok(())
}

/// SIGKILLs the slot's child (`Child::kill` is SIGKILL on Unix) and reaps it.
fn stop(slot: &mut Slot) {
    if let Some(mut child) = slot.child.take() {
        let _ = child.kill();
        let _ = child.wait();
    }
}
