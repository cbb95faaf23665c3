//! Talking to the gateway from a command: client settings (key, base URL),
//! the async runtime, poll options, how transport errors become exit codes and
//! JSON, waiting for one task with progress and downloading its videos, and
//! reporting how it ended.
//!
//! Shared by `submit` and the follow-up commands. It must not validate
//! requests or know any model.

use std::path::Path;

use anyhow::Context;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use vidspec_transport::{
    ApiKey, BaseUrlError, Client, ClientOptions, ConfigError, DEFAULT_BASE_URL, DownloadLimit,
    DownloadOptions, Downloaded, Error, LONGEST_DEADLINE, Occupant, Outcome, POLL_SCALE_RANGE,
    PollClock, TaskHandle, TaskSnapshot, WaitEvent, WaitOptions, with_causes,
};

use crate::Exit;
use crate::cli::{DownloadLimitArgs, Format, GatewayArgs};
use crate::output::terminal;
use crate::progress::Progress;

/// How a remote command ends.
pub(crate) fn exit_of(error: &Error) -> Exit {
    match error {
        Error::InvalidRequest(_) => Exit::Invalid,
        Error::Config(_)
        | Error::Io { .. }
        | Error::TargetTaken { .. }
        | Error::LocalImage { .. } => Exit::Usage,
        Error::TaskFailed { .. } | Error::DeadlinePassed { .. } => Exit::TaskFailed,
        _ => Exit::Gateway,
    }
}

/// The kind of an error, for JSON output.
pub(crate) fn kind_of(error: &Error) -> &'static str {
    match error {
        Error::InvalidRequest(_) => "invalid_request",
        Error::Config(_) => "config",
        Error::Unauthorized { .. } => "unauthorized",
        Error::PaymentRequired { .. } => "payment_required",
        Error::RateLimited { .. } => "rate_limited",
        Error::Rejected { .. } => "rejected",
        Error::TaskNotFound { .. } => "task_not_found",
        Error::Server { .. } => "server_error",
        Error::Connect { .. } => "connect",
        Error::NoAnswer { .. } => "no_answer",
        Error::IdempotencyConflict { .. } => "idempotency_conflict",
        Error::Undecodable { .. } => "undecodable",
        Error::TaskFailed { .. } => "task_failed",
        Error::DeadlinePassed { .. } => "deadline_passed",
        Error::Download { .. } | Error::OverLimit { .. } => "download",
        Error::Io { .. } | Error::TargetTaken { .. } | Error::LocalImage { .. } => "io",
        _ => "other",
    }
}

/// The variable the CLI reads the API key from.
const KEY_VARIABLE: &str = "APIMART_API_KEY";

/// The CLI's own advice for a transport error, whose message is worded for
/// any library user: the command, flag or variable that fixes it here.
pub(crate) fn hint(error: &Error) -> Option<String> {
    let hint = match error {
        Error::Config(ConfigError::MissingEnvironment { .. }) => {
            "export your API key (for `vidspec sim`, the key it prints)".to_owned()
        }
        Error::Config(ConfigError::BaseUrl(BaseUrlError::PlainHttpOffMachine { .. })) => {
            "--insecure allows it if you must".to_owned()
        }
        Error::Unauthorized { .. } => {
            format!("check {KEY_VARIABLE} (for `vidspec sim`, the key it prints)")
        }
        Error::DeadlinePassed { last } => format!("run `vidspec wait {}` later", last.id),
        Error::TargetTaken {
            found: Occupant::ExistingFile,
            ..
        } => "pass --force to overwrite it".to_owned(),
        Error::TargetTaken { .. } => "or choose another --download folder".to_owned(),
        Error::OverLimit {
            limit: DownloadLimit::Videos { listed, .. },
            ..
        } => format!("pass --max-videos {listed} if that many are expected"),
        Error::OverLimit {
            limit: DownloadLimit::BytesPerTask { .. },
            ..
        } => "raise the cap with --max-download-gib".to_owned(),
        _ if error.may_have_created_a_task() => {
            "check `vidspec tasks` or the gateway's console before submitting again".to_owned()
        }
        _ => return None,
    };
    Some(hint)
}

/// The error and its causes on one line, then the CLI's hint on the next
/// (`hint: …`), escaped for the terminal.
pub(crate) fn error_text(error: &Error) -> String {
    with_hint(format!("error: {}", terminal(&with_causes(error))), error)
}

/// `error_text` for an error about one task: its id first.
pub(crate) fn task_error_text(task_id: &str, error: &Error) -> String {
    with_hint(
        format!(
            "error: {}",
            terminal(&format!("{task_id}: {}", with_causes(error)))
        ),
        error,
    )
}

fn with_hint(mut text: String, error: &Error) -> String {
    if let Some(hint) = hint(error) {
        text.push_str(&format!("\nhint: {}", terminal(&hint)));
    }
    text
}

pub(crate) fn error_json(error: &Error) -> Value {
    let mut value = json!({"kind": kind_of(error), "message": with_causes(error), "retryable": error.is_retryable()});
    if let Some(hint) = hint(error) {
        value["hint"] = json!(hint);
    }
    value
}

/// The client for these arguments: key from APIMART_API_KEY, base URL from
/// --base-url, APIMART_BASE_URL or the default.
pub(crate) fn client(gateway: &GatewayArgs) -> Result<Client, Error> {
    client_with_rate(gateway, None)
}

/// [`client`] with a cap on requests per second of its own (`batch run
/// --rps`) instead of the transport's default.
pub(crate) fn client_with_rate(
    gateway: &GatewayArgs,
    requests_per_second: Option<f64>,
) -> Result<Client, Error> {
    let key = std::env::var(KEY_VARIABLE).map_err(|_| ConfigError::MissingEnvironment {
        variable: KEY_VARIABLE.to_owned(),
    })?;
    let base_url = gateway
        .base_url
        .clone()
        .or_else(|| std::env::var("APIMART_BASE_URL").ok())
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
    let key = ApiKey::parse(&key).map_err(|source| ConfigError::ApiKeyFromEnvironment {
        variable: KEY_VARIABLE.to_owned(),
        source,
    })?;
    Client::new(
        key,
        ClientOptions {
            base_url,
            allow_insecure_http: gateway.insecure,
            requests_per_second: requests_per_second
                .unwrap_or(ClientOptions::default().requests_per_second),
            ..ClientOptions::default()
        },
    )
}

/// How to wait: the options, and the clock the spec's and the gateway's
/// durations are read on (real time unless `--poll-scale` or
/// `VIDSPEC_POLL_SCALE` says the gateway is a simulator running faster).
pub(crate) struct Waiting {
    pub options: WaitOptions,
    pub clock: PollClock,
}

/// The wait options of the flags; an out-of-range number is a usage error
/// that gives the allowed range (never a panic further on).
pub(crate) fn wait_options(gateway: &GatewayArgs) -> anyhow::Result<Waiting> {
    let scale = match gateway.poll_scale {
        Some(scale) => poll_scale(scale, "--poll-scale")?,
        None => match std::env::var("VIDSPEC_POLL_SCALE") {
            Ok(text) => poll_scale(
                text.trim()
                    .parse()
                    .with_context(|| format!("VIDSPEC_POLL_SCALE={text} is not a number"))?,
                "VIDSPEC_POLL_SCALE",
            )?,
            Err(_) => 1.0,
        },
    };
    let deadline = match gateway.deadline {
        Some(seconds) => {
            let longest = LONGEST_DEADLINE.as_secs();
            anyhow::ensure!(
                seconds > 0.0 && seconds <= longest as f64,
                "--deadline must be a number of seconds between 0 (not included) and {longest} (ten years), got {seconds}"
            );
            Some(vidspec_transport::seconds(seconds))
        }
        None => None,
    };
    Ok(Waiting {
        options: WaitOptions {
            deadline,
            ..WaitOptions::default()
        },
        clock: PollClock::simulated(scale),
    })
}

fn poll_scale(scale: f64, source: &str) -> anyhow::Result<f64> {
    anyhow::ensure!(
        POLL_SCALE_RANGE.contains(&scale),
        "{source} must be a number between {} and {}, got {scale}",
        POLL_SCALE_RANGE.start(),
        POLL_SCALE_RANGE.end()
    );
    Ok(scale)
}

/// The download options of the flags; caps out of range are usage errors.
pub(crate) fn download_options(
    force: bool,
    limits: &DownloadLimitArgs,
) -> anyhow::Result<DownloadOptions> {
    let gib = limits.max_download_gib;
    anyhow::ensure!(
        (0.001..=1024.0).contains(&gib),
        "--max-download-gib must be a number between 0.001 and 1024, got {gib}"
    );
    Ok(DownloadOptions {
        overwrite: force,
        max_videos: limits.max_videos,
        // In range above, so the product is a finite, positive byte count.
        max_total_bytes: (gib * (1u64 << 30) as f64) as u64,
        ..DownloadOptions::default()
    })
}

/// The environment variable that turns on the transport's log on stderr: a
/// `tracing` filter such as `debug`, `info` or `vidspec_transport=debug`.
const LOG_VARIABLE: &str = "VIDSPEC_LOG";

/// Writes the transport's spans and events to stderr when `VIDSPEC_LOG` is
/// set (nothing is installed otherwise). Each line goes through the terminal
/// escaper, since events carry gateway text. A filter that does not parse is
/// a usage error naming the variable.
fn log_to_stderr() -> anyhow::Result<()> {
    let Ok(filter) = std::env::var(LOG_VARIABLE) else {
        return Ok(());
    };
    let targets: tracing_subscriber::filter::Targets = filter.parse().with_context(|| {
        terminal(&format!(
            "{LOG_VARIABLE}={filter} is not a log filter: give a level (error, warn, info, debug, trace), target=level, or a comma-separated list of them"
        ))
        .into_owned()
    })?;
    // `try_init` fails only when a subscriber is already installed (a second
    // command in one process): the first one stays.
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(|| EscapedStderr),
        )
        .with(targets)
        .try_init();
    Ok(())
}

/// stderr, each write (one formatted log line) escaped for a terminal.
struct EscapedStderr;

impl std::io::Write for EscapedStderr {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(bytes);
        let (line, newline) = match text.strip_suffix('\n') {
            Some(line) => (line, "\n"),
            None => (text.as_ref(), ""),
        };
        let mut stderr = std::io::stderr().lock();
        stderr.write_all(terminal(line).as_bytes())?;
        stderr.write_all(newline.as_bytes())?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// The async runtime of a remote command, with the transport's log on
/// stderr when `VIDSPEC_LOG` asks for it.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    log_to_stderr()?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub(crate) fn fail(format: Format, error: &Error, task_id: Option<&str>) -> anyhow::Result<Exit> {
    match format {
        Format::Json => println!(
            "{}",
            json!({"task_id": task_id, "error": error_json(error)})
        ),
        Format::Text => eprintln!("{}", error_text(error)),
    }
    Ok(exit_of(error))
}

/// What waiting (and downloading) one task came to.
pub(crate) struct Finished {
    pub outcome: Result<Outcome, Error>,
    pub downloads: Result<Vec<Downloaded>, Error>,
}

pub(crate) async fn wait_and_download(
    client: &Client,
    handle: &TaskHandle,
    waiting: &Waiting,
    progress: &Progress,
    dir: Option<&Path>,
    download: &DownloadOptions,
) -> Finished {
    progress.add(&handle.id);
    let mut events = client
        .with_poll_clock(waiting.clock)
        .watch(handle, &waiting.options);
    let mut outcome = None;
    while let Some(event) = events.next().await {
        match event {
            WaitEvent::Snapshot(snapshot) => progress.update(&handle.id, &snapshot),
            WaitEvent::Retrying(retry) => progress.retrying(&handle.id, &retry),
            WaitEvent::Finished(result) => outcome = Some(result),
            _ => {}
        }
    }
    // The stream always ends with `Finished`; an end without one is a
    // wait that stopped, reported as such rather than as a panic.
    // (A stream ends early only when its client's slots were closed.)
    let outcome = outcome.unwrap_or_else(|| Err(Error::from(ConfigError::ShutDown)));
    progress.finish(
        &handle.id,
        match &outcome {
            Ok(_) => "succeeded",
            Err(Error::TaskFailed { .. }) => "failed",
            Err(_) => "stopped",
        },
    );
    let downloads = match (&outcome, dir) {
        (Ok(outcome), Some(dir)) => client.download(outcome, dir, download).await,
        _ => Ok(Vec::new()),
    };
    Finished { outcome, downloads }
}

/// Prints (text) or records (JSON) how a task ended; returns the exit.
pub(crate) fn report_finished(
    handle: &TaskHandle,
    finished: &Finished,
    format: Format,
    result: &mut Value,
) -> Exit {
    let text = format == Format::Text;
    let mut exit = Exit::Valid;
    match &finished.outcome {
        Ok(outcome) => {
            result["status"] = json!("succeeded");
            result["snapshot"] = json!(outcome.snapshot);
            if text {
                println!("{}", describe(&outcome.snapshot));
                if outcome.videos().is_empty() {
                    println!(
                        "{}: the task succeeded but the answer lists no video",
                        terminal(&handle.id)
                    );
                }
            }
        }
        Err(error) => {
            result["status"] = json!(match error {
                Error::TaskFailed { snapshot, .. } => snapshot.status.word().to_owned(),
                Error::DeadlinePassed { .. } => "waiting".to_owned(),
                _ => "unknown".to_owned(),
            });
            if let Error::TaskFailed { snapshot, .. } | Error::DeadlinePassed { last: snapshot } =
                error
            {
                result["snapshot"] = json!(snapshot);
            }
            result["error"] = error_json(error);
            if text {
                eprintln!("{}", error_text(error));
            }
            exit = exit_of(error);
        }
    }
    match &finished.downloads {
        Ok(downloads) => {
            result["downloads"] = json!(downloads);
            if text {
                for download in downloads {
                    println!(
                        "downloaded {} ({} bytes)",
                        terminal(&download.path.display().to_string()),
                        download.bytes
                    );
                    if let Some(warning) = &download.warning {
                        println!(
                            "{}",
                            terminal(&format!("warning: {}: {warning}", download.url))
                        );
                    }
                }
            }
        }
        Err(error) => {
            if result["error"].is_null() {
                result["error"] = error_json(error);
            }
            if text {
                eprintln!("{}", error_text(error));
            }
            if exit == Exit::Valid {
                exit = exit_of(error);
            }
        }
    }
    exit
}

/// One line about a snapshot.
pub(crate) fn describe(snapshot: &TaskSnapshot) -> String {
    let mut line = terminal(&format!("{}: {}", snapshot.id, snapshot.status.word())).into_owned();
    if let Some(progress) = snapshot.progress.filter(|_| !snapshot.status.is_terminal()) {
        line.push_str(&format!(" {progress}%"));
    }
    if let Some(estimate) = snapshot
        .estimated_time_s
        .filter(|_| !snapshot.status.is_terminal())
    {
        line.push_str(&format!(", estimated {estimate} s"));
    }
    if let Some(actual) = snapshot.actual_time_s {
        line.push_str(&format!(" in {actual} s"));
    }
    if let Some(cost) = snapshot.cost {
        line.push_str(&format!(", cost {cost}"));
    }
    if let Some(error) = &snapshot.error
        && snapshot.status.is_terminal()
    {
        line.push_str(&format!(", error: {}", terminal(&error.message)));
    }
    for video in &snapshot.videos {
        line.push_str(&format!("\n  {}", terminal(&video.url)));
        if let Some(warning) = vidspec_transport::expiry_warning(video.expires_at, now_unix()) {
            line.push_str(&format!(" ({warning})"));
        }
    }
    for (name, value) in &snapshot.extras {
        let value = match value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        line.push_str(&format!("\n  {}: {}", terminal(name), terminal(&value)));
    }
    line
}

pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use vidspec_transport::Operation;

    use super::*;

    #[test]
    fn a_refused_key_prints_the_library_message_then_a_hint_naming_the_variable() {
        let error = Error::Unauthorized {
            operation: Operation::Submit,
            request_id: None,
        };
        let text = error_text(&error);
        let (message, hint) = text.split_once('\n').unwrap_or((&text, ""));
        assert!(
            message.starts_with("error: the gateway refused the API key (401)"),
            "{text}"
        );
        assert!(!message.contains(KEY_VARIABLE), "{text}");
        assert_eq!(
            hint,
            "hint: check APIMART_API_KEY (for `vidspec sim`, the key it prints)"
        );
    }

    #[test]
    fn a_submit_that_may_have_created_a_task_hints_at_vidspec_tasks() {
        let error = Error::Server {
            operation: Operation::Submit,
            status: 502,
            message: "bad gateway".into(),
            request_id: None,
        };
        assert!(
            hint(&error).is_some_and(|hint| hint.contains("`vidspec tasks`")),
            "{:?}",
            hint(&error)
        );
        let poll = Error::Server {
            operation: Operation::Poll,
            status: 502,
            message: "bad gateway".into(),
            request_id: None,
        };
        assert_eq!(hint(&poll), None);
    }

    #[test]
    fn a_download_over_the_video_cap_hints_at_the_flag_that_raises_it() {
        let error = Error::OverLimit {
            task_id: "t1".into(),
            limit: DownloadLimit::Videos { listed: 9, cap: 4 },
        };
        assert_eq!(
            hint(&error).as_deref(),
            Some("pass --max-videos 9 if that many are expected")
        );
        let json = error_json(&error);
        assert_eq!(json["kind"], "download");
        assert_eq!(
            json["hint"],
            "pass --max-videos 9 if that many are expected"
        );
    }

    #[test]
    fn an_existing_download_target_hints_at_force() {
        let error = Error::TargetTaken {
            path: "v.mp4".into(),
            found: Occupant::ExistingFile,
        };
        assert_eq!(
            hint(&error).as_deref(),
            Some("pass --force to overwrite it")
        );
        assert_eq!(exit_of(&error), Exit::Usage);
    }
}
