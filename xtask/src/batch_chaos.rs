//! `cargo xtask batch-chaos`: N jobs through W `vidspec batch run` worker
//! processes sharing one ledger, against the simulator with faults on submits
//! and polls and dropped webhook callbacks, while workers are SIGKILLed at
//! seeded random moments and restarted until the run completes. The counts
//! come from the simulator (`GET /__sim/tasks`) and the output folder, never
//! from the workers' word. The last line is a contract scripts read:
//! `batch-chaos: ledger=L workers=W jobs=N kills=K submits=S videos=V duplicates=D lost=X`;
//! the exit code is non-zero when `duplicates != 0 || lost != 0` or a check
//! fails.
//!
//! Owns the run's set-up (manifest, ledger, simulator, worker command) and
//! its report. It must not share code with the workers it judges: it starts
//! the `vidspec` binary and reads only what the simulator and the disk say
//! (and the ledger's `unknown` jobs, which are listed, not trusted for counts).

mod ledger;
mod tally;
mod workers;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use vidspec_sim::{Faults, Sim, SimConfig};

use ledger::LedgerKind;
use tally::{Observed, prompt_of};
use workers::KillPlan;

/// The API key the simulator accepts and the workers send.
const SIM_KEY: &str = "sim-key";
/// The run name the workers share.
const RUN: &str = "chaos";
/// The worker's lease: the shortest `vidspec batch run --lease` takes, so
/// take-over after a kill is quick.
const LEASE_SECONDS: u64 = 3;
/// The most worker processes one run starts.
const MAX_WORKERS: u32 = 64;
/// Requests per second per worker: far above what the simulator needs, so
/// the run is not throttled by `--rps`'s default of 5.
const WORKER_RPS: u32 = 1000;
/// `vidspec batch run` exit codes of a run that completed: every job
/// downloaded, some failed, some unknown.
const COMPLETED_EXITS: [i32; 3] = [0, 4, 6];
/// Faults on submits and polls unless `--faults` says otherwise. No
/// `idem-indeterminate`: it makes a paid task unresolvable by design.
const DEFAULT_FAULTS: &str =
    "429=0.03,500=0.03,drop=0.03,malformed=0.02,slow=0.02,slow-ms=200,retry-after=1";
/// Added with idempotency keys on: a keyed submit refused, not executed.
const KEYED_FAULTS: &str = ",idem-unavailable=0.02";
/// Share of webhook callbacks the simulator never sends, and sends twice.
const WEBHOOK_DROP_RATE: f64 = 0.3;
const WEBHOOK_DUPLICATE_RATE: f64 = 0.1;
/// Share of tasks that fail (a failed job is final, not lost).
const FAIL_RATE: f64 = 0.02;
/// Unscaled task time and its spread; the simulator runs `speed`× faster.
const TASK_SECONDS: f64 = 60.0;
const DURATION_SPREAD: f64 = 0.5;

/// The chaos family (idempotency header declared) and a seed model without one.
const CHAOS_SPECS: &str = "xtask/chaos-specs";
const CHAOS_MODEL: &str = "chaos-1";
const SEED_MODEL: &str = "Omni-Flash-Ext";

struct Args {
    ledger: LedgerKind,
    workers: usize,
    jobs: usize,
    seed: u64,
    kills: Option<usize>,
    idempotency: bool,
    webhooks: bool,
    speed: f64,
    concurrency: usize,
    faults: String,
    timeout: Duration,
    vidspec: Option<PathBuf>,
    keep: bool,
}

const USAGE: &str = "usage: cargo xtask batch-chaos [--ledger sqlite|postgres] [--workers W] [--jobs N] \
[--seed S] [--kills K] [--no-idempotency] [--no-webhooks] [--speed X] [--concurrency C] \
[--faults SPEC] [--timeout SECONDS] [--vidspec PATH] [--keep]";

fn parse(rest: &[&str]) -> anyhow::Result<Args> {
    let mut args = Args {
        ledger: LedgerKind::Sqlite,
        workers: 2,
        jobs: 500,
        seed: default_seed(),
        kills: None,
        idempotency: true,
        webhooks: true,
        speed: 100.0,
        concurrency: 16,
        faults: String::new(),
        timeout: Duration::from_secs(900),
        vidspec: None,
        keep: false,
    };
    let mut faults = None;
    let mut iter = rest.iter();
    while let Some(&flag) = iter.next() {
        match flag {
            "--no-idempotency" => {
                args.idempotency = false;
                continue;
            }
            "--no-webhooks" => {
                args.webhooks = false;
                continue;
            }
            "--keep" => {
                args.keep = true;
                continue;
            }
            _ => {}
        }
        let value = *iter
            .next()
            .with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
        let count = |what: &str| -> anyhow::Result<usize> {
            value
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .with_context(|| format!("{what} {value}: give a whole number from 1 up"))
        };
        match flag {
            "--ledger" => args.ledger = LedgerKind::parse(value)?,
            "--workers" => {
                args.workers = count("--workers")?;
                anyhow::ensure!(
                    args.workers <= MAX_WORKERS as usize,
                    "--workers {value}: at most {MAX_WORKERS} on one machine"
                );
            }
            "--jobs" => args.jobs = count("--jobs")?,
            "--concurrency" => args.concurrency = count("--concurrency")?,
            "--kills" => {
                args.kills = Some(value.parse().with_context(|| {
                    format!("--kills {value}: give a whole number (0 for no kills)")
                })?)
            }
            "--seed" => {
                args.seed = value
                    .parse()
                    .with_context(|| format!("--seed {value}: give a whole number"))?
            }
            "--speed" => {
                args.speed = value
                    .parse::<f64>()
                    .ok()
                    .filter(|speed| speed.is_finite() && (1.0..=10_000.0).contains(speed))
                    .with_context(|| format!("--speed {value}: give a number from 1 to 10000"))?
            }
            "--timeout" => {
                let seconds: u64 = value
                    .parse()
                    .with_context(|| format!("--timeout {value}: give whole seconds"))?;
                args.timeout = Duration::from_secs(seconds)
            }
            "--faults" => faults = Some(value.to_owned()),
            "--vidspec" => args.vidspec = Some(PathBuf::from(value)),
            other => anyhow::bail!("unknown flag {other}\n{USAGE}"),
        }
    }
    args.faults = faults.unwrap_or_else(|| {
        let keyed = if args.idempotency { KEYED_FAULTS } else { "" };
        format!("{DEFAULT_FAULTS}{keyed}")
    });
    Faults::parse(&args.faults).with_context(|| format!("--faults {}", args.faults))?;
    Ok(args)
}

/// A seed from the clock and the process id, when `--seed` is not given.
fn default_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos() as u64)
        .unwrap_or(0);
    (nanos ^ u64::from(std::process::id()).rotate_left(32)) % 1_000_000_007
}

/// Entry point of `cargo xtask batch-chaos`.
pub fn main(root: &Path, rest: &[&str]) -> ExitCode {
    let args = match parse(rest) {
        Ok(args) => args,
        Err(error) => {
            eprintln!("xtask batch-chaos: {error:#}");
            return ExitCode::from(2);
        }
    };
    match run(root, &args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("xtask batch-chaos: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Everything a worker's command line needs.
struct Setup {
    vidspec: PathBuf,
    specs: PathBuf,
    manifest: PathBuf,
    out: PathBuf,
    reports: PathBuf,
    ledger: String,
    base_url: String,
}

/// Runs the chaos test; `Ok(false)` when a count or check says the run broke
/// a guarantee.
fn run(root: &Path, args: &Args) -> anyhow::Result<bool> {
    println!(
        "batch-chaos: seed={} (replay with --seed {}; process timing still varies)",
        args.seed, args.seed
    );
    let vidspec = match &args.vidspec {
        Some(path) => path.clone(),
        None => build_vidspec(root)?,
    };
    let dir = tempfile::Builder::new()
        .prefix("batch-chaos-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    let work = dir.path().to_path_buf();
    let (out, reports, logs) = (work.join("out"), work.join("reports"), work.join("logs"));
    for folder in [&out, &reports, &logs] {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
    }
    let (model, specs) = if args.idempotency {
        (CHAOS_MODEL, root.join(CHAOS_SPECS))
    } else {
        (SEED_MODEL, root.join(CHAOS_SPECS))
    };
    let jobs: BTreeSet<String> = (0..args.jobs).map(|n| format!("job-{n:05}")).collect();
    let manifest = work.join(format!("{RUN}.jsonl"));
    write_manifest(&manifest, &jobs, model)?;
    let ledger = ledger::prepare(args.ledger, &work, args.seed)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the simulator's runtime")?;
    let config = SimConfig {
        speed: args.speed,
        task_seconds: TASK_SECONDS,
        duration_spread: DURATION_SPREAD,
        fail_rate: FAIL_RATE,
        seed: args.seed,
        faults: Faults::parse(&args.faults)?,
        webhook_drop_rate: WEBHOOK_DROP_RATE,
        webhook_duplicate_rate: WEBHOOK_DUPLICATE_RATE,
        ..SimConfig::default()
    };
    let sim = runtime
        .block_on(Sim::start(
            std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            config,
        ))
        .context("cannot start the simulator")?;
    println!(
        "batch-chaos: {} jobs of model {model}, {} worker(s), ledger {}, simulator {} at {}x, faults {}, callbacks dropped {:.0}%{}",
        args.jobs,
        args.workers,
        ledger.shown(),
        sim.base_url(),
        args.speed,
        args.faults,
        WEBHOOK_DROP_RATE * 100.0,
        if args.webhooks { "" } else { " (webhooks off)" },
    );
    let setup = Setup {
        vidspec,
        specs,
        manifest,
        out: out.clone(),
        reports: reports.clone(),
        ledger: ledger.location().to_owned(),
        base_url: sim.base_url(),
    };
    let workers_u32 = u32::try_from(args.workers).unwrap_or(MAX_WORKERS);
    let plan = KillPlan {
        max_kills: args.kills.unwrap_or(3 * args.workers + 2),
        // 0.5–3 s between kills with one worker; W workers share the gaps,
        // so each worker is killed about as often as a lone one would be.
        gap: (
            Duration::from_millis(500) / workers_u32,
            Duration::from_millis(3000) / workers_u32,
        ),
    };
    let mut rng = fastrand::Rng::with_seed(args.seed);
    let started = Instant::now();
    let mut spawn = |slot: usize, generation: usize| worker_command(&setup, args, slot, generation);
    let mut progress = |kills: usize, running: usize| {
        let tasks = sim.tasks();
        let done = tasks
            .iter()
            .filter(|task| task.status == "completed")
            .count();
        println!(
            "batch-chaos: {:>5.1}s workers running={running} kills={kills} tasks={} completed={done} videos={}",
            started.elapsed().as_secs_f64(),
            tasks.len(),
            saved_videos(&out).values().sum::<usize>()
        );
    };
    let finished = workers::supervise(
        args.workers,
        &logs,
        &mut spawn,
        &plan,
        &mut rng,
        args.timeout,
        &mut progress,
    );
    let wall = started.elapsed();
    let finished = match finished {
        Ok(finished) => finished,
        Err(error) => {
            let kept = dir.keep();
            anyhow::bail!("{error:#} (kept {})", kept.display());
        }
    };

    let tasks = sim.tasks();
    let stats = sim.stats();
    let videos = saved_videos(&out);
    let unknown = match ledger::unknown_in_ledger(&setup.vidspec, &setup.ledger, RUN, &jobs) {
        Ok(unknown) => unknown,
        Err(error) => {
            println!("batch-chaos: {error:#}; the unknown jobs are read from the workers' reports");
            ledger::unknown_in_reports(&reports, &jobs)?
        }
    };
    let counted = tally::tally(&Observed {
        jobs: &jobs,
        tasks: &tasks,
        sim_submits: stats.submits,
        videos: &videos,
        unknown: &unknown,
    });
    runtime.block_on(sim.shutdown());
    ledger.finish();

    let mut failures = counted.failures.clone();
    for (slot, status) in finished.exits.iter().enumerate() {
        let code = status.code();
        if !code.is_some_and(|code| COMPLETED_EXITS.contains(&code)) {
            let log = &finished.logs[slot];
            failures.push(format!(
                "worker {slot} ended with {status}, not a completed run (log: {})",
                log.display()
            ));
            print_tail(log);
        }
    }
    println!(
        "batch-chaos: wall {:.1}s; simulator: {} submit attempts, {} polls, {} faults, {} idempotent replays, callbacks {} sent / {} dropped / {} duplicated; {} tasks failed",
        wall.as_secs_f64(),
        stats.submit_attempts,
        stats.polls,
        stats.faults_injected,
        stats.idempotent_replays,
        stats.callbacks_sent,
        stats.callbacks_dropped,
        stats.callback_duplicates,
        stats.tasks_failed,
    );
    if !unknown.is_empty() {
        println!(
            "batch-chaos: {} job(s) left unknown (sent, never answered, no idempotency key): {}",
            unknown.len(),
            unknown.iter().cloned().collect::<Vec<_>>().join(" ")
        );
        println!(
            "batch-chaos: of these, {} were created (paid) on the simulator: {}",
            counted.unknown_paid.len(),
            counted.unknown_paid.join(" ")
        );
    }
    if !counted.duplicated.is_empty() {
        println!(
            "batch-chaos: jobs submitted twice: {}",
            counted.duplicated.join(" ")
        );
    }
    if !counted.lost.is_empty() {
        println!(
            "batch-chaos: jobs paid but not saved: {}",
            counted.lost.join(" ")
        );
    }
    for failure in &failures {
        println!("batch-chaos: check failed: {failure}");
    }
    let clean = counted.duplicates == 0 && counted.lost.is_empty() && failures.is_empty();
    if !clean || args.keep {
        println!("batch-chaos: kept {} for inspection", dir.keep().display());
    }
    println!(
        "batch-chaos: ledger={} workers={} jobs={} kills={} submits={} videos={} duplicates={} lost={}",
        args.ledger.name(),
        args.workers,
        args.jobs,
        finished.kills,
        counted.submits,
        counted.videos,
        counted.duplicates,
        counted.lost.len()
    );
    Ok(clean)
}

/// Builds the `vidspec` binary (debug, the workspace's target folder) and
/// returns its path.
fn build_vidspec(root: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--quiet", "-p", "vidspec-cli", "--bin", "vidspec"])
        .status()
        .context("cannot run cargo build for the vidspec binary")?;
    anyhow::ensure!(
        status.success(),
        "cargo build -p vidspec-cli failed ({status})"
    );
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let binary = target.join("debug").join("vidspec");
    anyhow::ensure!(
        binary.is_file(),
        "{} is missing after the build; pass --vidspec PATH",
        binary.display()
    );
    Ok(binary)
}

/// One JSON object per job: its id, model and a prompt naming it.
fn write_manifest(path: &Path, jobs: &BTreeSet<String>, model: &str) -> anyhow::Result<()> {
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
    );
    for job in jobs {
        let line = serde_json::json!({"id": job, "model": model, "prompt": prompt_of(job)});
        writeln!(file, "{line}")?;
    }
    file.flush()?;
    Ok(())
}

/// The last lines of a worker's log, indented, for a worker that ended badly.
fn print_tail(log: &Path) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    for line in &lines[lines.len().saturating_sub(8)..] {
        println!("    {}", line.escape_debug());
    }
}

/// A free loopback port for a worker's webhook receiver.
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .context("cannot find a free port for a webhook receiver")?;
    Ok(listener.local_addr()?.port())
}

/// The command line of worker `slot`, restart `generation`.
fn worker_command(
    setup: &Setup,
    args: &Args,
    slot: usize,
    generation: usize,
) -> anyhow::Result<Command> {
    let mut command = Command::new(&setup.vidspec);
    command
        .arg("batch")
        .arg("run")
        .arg(&setup.manifest)
        .arg("--specs")
        .arg(&setup.specs)
        .args(["--run", RUN])
        .arg("--out")
        .arg(&setup.out)
        .args(["--ledger", &setup.ledger])
        .args(["--lease", &LEASE_SECONDS.to_string()])
        .args(["--concurrency", &args.concurrency.to_string()])
        .args(["--rps", &WORKER_RPS.to_string()])
        .arg("--report")
        .arg(
            setup
                .reports
                .join(format!("worker-{slot}-{generation}.jsonl")),
        )
        .env("APIMART_API_KEY", SIM_KEY)
        .env("APIMART_BASE_URL", &setup.base_url)
        .env("VIDSPEC_POLL_SCALE", args.speed.to_string())
        .env("NO_COLOR", "1");
    if args.webhooks {
        let port = free_port()?;
        command
            .args(["--webhook-listen", &format!("127.0.0.1:{port}")])
            .args(["--webhook-url", &format!("http://127.0.0.1:{port}/")]);
    }
    Ok(command)
}

/// Video files in `out` per job id, from names `<job id>-<n>.<ext>`; other
/// files (a download's temporary file) are not counted.
fn saved_videos(out: &Path) -> BTreeMap<String, usize> {
    let mut videos = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(out) else {
        return videos;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') {
            continue;
        }
        let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
        if let Some((job, n)) = stem.rsplit_once('-')
            && !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
        {
            *videos.entry(job.to_owned()).or_insert(0) += 1;
        }
    }
    videos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_500_jobs_on_sqlite_with_idempotency_and_webhooks() {
        let args = parse(&["--seed", "7"]).unwrap_or_else(|error| panic!("{error:#}"));
        assert_eq!(
            (args.jobs, args.ledger, args.seed),
            (500, LedgerKind::Sqlite, 7)
        );
        assert!(args.idempotency && args.webhooks);
        assert!(args.faults.contains("idem-unavailable"));
    }

    #[test]
    fn without_idempotency_no_keyed_fault_is_injected() {
        let args = parse(&["--no-idempotency"]).unwrap_or_else(|error| panic!("{error:#}"));
        assert!(!args.idempotency);
        assert!(!args.faults.contains("idem-"), "{}", args.faults);
    }

    #[test]
    fn an_unknown_ledger_a_zero_count_and_a_bad_fault_spec_are_refused() {
        for bad in [
            &["--ledger", "mysql"][..],
            &["--workers", "0"],
            &["--jobs", "many"],
            &["--faults", "429=2"],
            &["--speed"],
            &["--frobnicate", "1"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn videos_are_counted_per_job_from_their_file_names() {
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        for name in [
            "job-00001-0.mp4",
            "job-00001-1.mp4",
            "job-00002-0.mp4",
            ".tmpXyZ",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap_or_else(|error| panic!("{error}"));
        }
        let videos = saved_videos(dir.path());
        let expected: BTreeMap<String, usize> =
            [("job-00001".to_owned(), 2), ("job-00002".to_owned(), 1)].into();
        assert_eq!(videos, expected);
    }
}
