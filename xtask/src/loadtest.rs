//! `cargo xtask loadtest`: vidspec's poller against a fixed 5-second poller
//! and against webhooks (the `vidspec-webhook` receiver with its sparse
//! 60-second fallback poll), all waiting for the same number of tasks on the
//! simulator, in one run.
//!
//! Owns the measurement: API requests per task while waiting (polls, and
//! for webhooks the re-reads callbacks set off plus the fallback polls),
//! detection lag (from the simulator finishing a task to the client knowing
//! it from a confirmed read, in unscaled seconds), peak RSS and CPU seconds
//! of the client. The simulator runs in a child process (this binary,
//! `__loadtest-sim`) so its work is not counted; it drops 2% of callbacks
//! and sends 2% twice. A line
//! `loadtest-webhook: tasks=N webhook_requests_per_task=A vidspec_polls_per_task=B webhook_p95_lag_s=C vidspec_p95_lag_s=D fallback_s=F callbacks=K duplicates=U rereads=R fallback_polls=P`
//! comes before the last line, which is a contract scripts read:
//! `loadtest: tasks=N vidspec_polls_per_task=A fixed_polls_per_task=B poll_ratio=R vidspec_p95_lag_s=C fixed_p95_lag_s=D peak_rss_mb=E`.

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};
use tokio::time::Instant;
use vidspec_core::Registry;
use vidspec_sim::SimConfig;
use vidspec_transport::{ApiKey, Backoff, Client, ClientOptions, PollClock, WaitOptions};
use vidspec_webhook::{Counters, DEFAULT_FALLBACK, Receiver, ReceiverOptions};

/// Unscaled task time: 120 s ± 50%, estimates 1.8–2.4× the real time.
const TASK_SECONDS: f64 = 120.0;
const DURATION_SPREAD: f64 = 0.5;
const ESTIMATE_FACTOR: (f64, f64) = (1.8, 2.4);
/// The fixed poller's interval, as the gateway's docs advise.
const FIXED_INTERVAL_S: f64 = 5.0;
/// Shares of callbacks the simulator drops and sends twice ("rarely").
const CALLBACK_DROP_RATE: f64 = 0.02;
const CALLBACK_DUPLICATE_RATE: f64 = 0.02;

/// How a measured run waits for its tasks.
#[derive(Clone, Copy, PartialEq)]
enum Waiting {
    /// vidspec's adaptive poller.
    Adaptive,
    /// A poll every `FIXED_INTERVAL_S`.
    Fixed,
    /// Callbacks to a `vidspec-webhook` receiver, confirmed by a read, with
    /// its fallback poll every `DEFAULT_FALLBACK`.
    Webhook,
}

struct Args {
    tasks: usize,
    speed: f64,
}

fn parse(rest: &[&str]) -> anyhow::Result<Args> {
    let mut tasks = 2000usize;
    let mut speed = None;
    let mut iter = rest.iter();
    while let Some(flag) = iter.next() {
        let value = iter
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match *flag {
            "--tasks" => {
                tasks = value
                    .parse()
                    .with_context(|| format!("--tasks {value}: not a count"))?
            }
            "--speed" => {
                speed = Some(
                    value
                        .parse::<f64>()
                        .with_context(|| format!("--speed {value}: not a number"))?,
                )
            }
            other => anyhow::bail!("unknown flag {other}; use --tasks N and --speed S"),
        }
    }
    anyhow::ensure!(tasks > 0, "--tasks must be at least 1");
    // Keep the fixed poller near 2,000 requests/s: speed × tasks / 5 s.
    let speed = speed.unwrap_or_else(|| (10_000.0 / tasks as f64).clamp(1.0, 10.0));
    let range = vidspec_transport::POLL_SCALE_RANGE;
    anyhow::ensure!(
        range.contains(&speed),
        "--speed must be between {} and {} (it is also the poll scale), got {speed}",
        range.start(),
        range.end()
    );
    Ok(Args { tasks, speed })
}

/// Entry point of `cargo xtask loadtest`.
pub fn main(rest: &[&str]) -> ExitCode {
    match run(rest) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask loadtest: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Entry point of the hidden `__loadtest-sim SPEED`: serves until killed.
pub fn sim_main(rest: &[&str]) -> ExitCode {
    let speed: f64 = rest
        .first()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1.0);
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    else {
        return ExitCode::FAILURE;
    };
    let result: anyhow::Result<()> = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("listening on http://{}", listener.local_addr()?);
        let config = SimConfig {
            speed,
            task_seconds: TASK_SECONDS,
            duration_spread: DURATION_SPREAD,
            estimate_factor: ESTIMATE_FACTOR,
            seed: 2026,
            webhook_drop_rate: CALLBACK_DROP_RATE,
            webhook_duplicate_rate: CALLBACK_DUPLICATE_RATE,
            ..SimConfig::default()
        };
        vidspec_sim::serve(listener, config).await?;
        Ok(())
    });
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

struct Measured {
    polls_per_task: f64,
    p50_lag_s: f64,
    p95_lag_s: f64,
    peak_rss_mb: f64,
    cpu_s: f64,
    wall_s: f64,
    failed: usize,
    /// The receiver's counters (webhook runs only).
    counters: Option<Counters>,
}

fn run(rest: &[&str]) -> anyhow::Result<()> {
    let args = parse(rest)?;
    let mut sim = Command::new(std::env::current_exe().context("cannot find this binary")?)
        .args(["__loadtest-sim", &args.speed.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start the simulator")?;
    let stdout = sim.stdout.take().context("simulator stdout")?;
    let mut reader = BufReader::new(stdout);
    let mut first = String::new();
    reader
        .read_line(&mut first)
        .context("the simulator said nothing")?;
    let base_url = first
        .trim()
        .strip_prefix("listening on ")
        .context("unexpected simulator output")?
        .to_owned();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let vidspec = measure(&base_url, &args, Waiting::Adaptive).await?;
        let fixed = measure(&base_url, &args, Waiting::Fixed).await?;
        let webhook = measure(&base_url, &args, Waiting::Webhook).await?;
        anyhow::Ok((vidspec, fixed, webhook))
    });
    let _ = sim.kill();
    let _ = sim.wait();
    drop(reader);
    let (vidspec, fixed, webhook) = result?;

    println!(
        "loadtest: {} tasks of {TASK_SECONDS} s ± {:.0}% (estimates {}–{}× real) on the simulator at {}×; lags in unscaled seconds; {:.0}% of callbacks dropped, {:.0}% sent twice",
        args.tasks,
        DURATION_SPREAD * 100.0,
        ESTIMATE_FACTOR.0,
        ESTIMATE_FACTOR.1,
        args.speed,
        CALLBACK_DROP_RATE * 100.0,
        CALLBACK_DUPLICATE_RATE * 100.0
    );
    println!(
        "| waiting by      | requests/task | p50 lag s | p95 lag s | peak RSS MB | CPU s | wall s | failed |"
    );
    println!(
        "|-----------------|--------------:|----------:|----------:|------------:|------:|-------:|-------:|"
    );
    let webhook_name = format!("webhook + {} s", DEFAULT_FALLBACK.as_secs());
    for (name, row) in [
        ("vidspec", &vidspec),
        ("fixed 5 s", &fixed),
        (webhook_name.as_str(), &webhook),
    ] {
        println!(
            "| {name:<15} | {:>13.2} | {:>9.2} | {:>9.2} | {:>11.1} | {:>5.2} | {:>6.1} | {:>6} |",
            row.polls_per_task,
            row.p50_lag_s,
            row.p95_lag_s,
            row.peak_rss_mb,
            row.cpu_s,
            row.wall_s,
            row.failed
        );
    }
    let counters = webhook.counters.unwrap_or_default();
    println!(
        "loadtest-webhook: tasks={} webhook_requests_per_task={:.2} vidspec_polls_per_task={:.2} webhook_p95_lag_s={:.2} vidspec_p95_lag_s={:.2} fallback_s={} callbacks={} duplicates={} rereads={} fallback_polls={}",
        args.tasks,
        webhook.polls_per_task,
        vidspec.polls_per_task,
        webhook.p95_lag_s,
        vidspec.p95_lag_s,
        DEFAULT_FALLBACK.as_secs(),
        counters.callbacks_received,
        counters.duplicates,
        counters.rereads,
        counters.fallback_polls
    );
    println!(
        "loadtest: tasks={} vidspec_polls_per_task={:.2} fixed_polls_per_task={:.2} poll_ratio={:.3} vidspec_p95_lag_s={:.2} fixed_p95_lag_s={:.2} peak_rss_mb={:.1}",
        args.tasks,
        vidspec.polls_per_task,
        fixed.polls_per_task,
        vidspec.polls_per_task / fixed.polls_per_task,
        vidspec.p95_lag_s,
        fixed.p95_lag_s,
        vidspec.peak_rss_mb
    );
    Ok(())
}

async fn polls(base_url: &str) -> anyhow::Result<u64> {
    let stats: Value = reqwest::get(format!("{base_url}/__sim/stats"))
        .await?
        .json()
        .await?;
    stats["polls"].as_u64().context("stats without polls")
}

async fn measure(base_url: &str, args: &Args, waiting: Waiting) -> anyhow::Result<Measured> {
    let registry = Registry::embedded();
    let model = registry
        .model("Omni-Flash-Ext")
        .context("the loadtest uses Omni-Flash-Ext")?;
    let client = Client::new(
        ApiKey::new("sim-key"),
        ClientOptions {
            base_url: base_url.to_owned(),
            requests_per_second: 0.0,
            timeout: Duration::from_secs(30),
            poll_backoff: Backoff::fast(),
            submit_backoff: Backoff::fast(),
            ..ClientOptions::default()
        },
    )?
    .with_poll_clock(PollClock::simulated(args.speed));
    let options = if waiting != Waiting::Fixed {
        WaitOptions {
            deadline: Some(Duration::from_secs(3600)),
            ..WaitOptions::default()
        }
    } else {
        let interval = vidspec_transport::seconds(FIXED_INTERVAL_S / args.speed);
        WaitOptions {
            first_poll: Some(interval),
            interval: Some(interval),
            deadline: Some(Duration::from_secs(3600)),
            jitter: 0.0,
            adaptive: false,
        }
    };
    // Webhooks: a receiver served on loopback, its public URL in each body.
    let receiver = match waiting {
        Waiting::Webhook => {
            let declaration = model
                .endpoint()
                .webhook
                .clone()
                .context("the loadtest model's spec declares no webhook")?;
            let receiver = Receiver::new(client.clone(), ReceiverOptions::new(&declaration))?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let base = url::Url::parse(&format!("http://{}/", listener.local_addr()?))?;
            let router = receiver.router();
            tokio::spawn(async move { axum::serve(listener, router).await });
            let public = receiver.public_url(&base);
            Some((receiver, public))
        }
        Waiting::Adaptive | Waiting::Fixed => None,
    };
    reset_peak_rss();
    let cpu_before = cpu_seconds();
    let polls_before = polls(base_url).await?;
    let started = Instant::now();
    // Requests are prepared only when a submit slot is free, so thousands of
    // tasks do not all hold a prepared body while they queue to be sent.
    let submitting = tokio::sync::Semaphore::new(64);
    let waits = (0..args.tasks).map(|index| {
        let client = &client;
        let options = &options;
        let submitting = &submitting;
        let receiver = receiver.as_ref();
        async move {
            let handle = {
                let _slot = submitting.acquire().await?;
                let mut plan = model
                    .prepare(json!({"model": model.id(), "prompt": format!("load test {index}")}))
                    .map_err(|errors| anyhow::anyhow!("{errors}"))?;
                if let Some((_, public)) = receiver {
                    plan = plan.with_webhook(public)?;
                }
                Box::pin(client.submit(&plan)).await?
            };
            let submitted = Instant::now();
            let outcome = match receiver {
                Some((receiver, _)) => Box::pin(receiver.wait(&handle, DEFAULT_FALLBACK)).await,
                None => Box::pin(client.wait(&handle, options)).await,
            };
            let known = Instant::now();
            anyhow::Ok((submitted, known, outcome))
        }
    });
    let results = futures_util::future::join_all(waits).await;
    let wall_s = started.elapsed().as_secs_f64();
    let polls_after = polls(base_url).await?;
    let mut lags = Vec::new();
    let mut failed = 0;
    for result in results {
        let (submitted, known, outcome) = result?;
        match outcome {
            Ok(outcome) => {
                let actual = outcome.snapshot.actual_time_s.unwrap_or(0) as f64;
                let finished = vidspec_transport::later(
                    submitted,
                    vidspec_transport::seconds(actual / args.speed),
                );
                let lag = known.saturating_duration_since(finished).as_secs_f64() * args.speed;
                lags.push(lag);
            }
            Err(_) => failed += 1,
        }
    }
    lags.sort_by(f64::total_cmp);
    let percentile = |share: f64| {
        lags.get(((lags.len() as f64 - 1.0) * share).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    Ok(Measured {
        polls_per_task: (polls_after - polls_before) as f64 / args.tasks as f64,
        p50_lag_s: percentile(0.5),
        p95_lag_s: percentile(0.95),
        peak_rss_mb: peak_rss_kb() as f64 / 1024.0,
        cpu_s: cpu_seconds() - cpu_before,
        wall_s,
        failed,
        counters: receiver.map(|(receiver, _)| receiver.counters()),
    })
}

/// Resets the kernel's peak-RSS mark of this process (Linux: `clear_refs` 5).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident set size of this process, in KiB (`VmHWM`).
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|value| value.parse().ok())
        })
        .unwrap_or(0)
}

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start after ')'.
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after ')'.
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    ticks as f64 / 100.0
}
