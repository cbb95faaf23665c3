//! `cargo xtask fuzz`: runs the cargo-fuzz targets of `fuzz/` for a time budget.
//!
//! Owns the arguments (`--seconds N`, `--target spec_loader|prepare|all`), the
//! toolchain checks (cargo-fuzz installed; nightly flags through
//! `RUSTC_BOOTSTRAP=1` on a stable rustc), seeding each target's corpus from the
//! repository's own specs and requests, running libFuzzer and reading its
//! output into one summary line per target. The targets themselves live in
//! `fuzz/fuzz_targets/`; the always-on fallback is `tests/tests/properties.rs`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};

/// The fuzz targets, as named in `fuzz/Cargo.toml`.
pub const TARGETS: &[&str] = &["spec_loader", "prepare"];

const DEFAULT_SECONDS: u64 = 60;

/// The slowest single input libFuzzer accepts before it reports a timeout.
const INPUT_TIMEOUT_SECONDS: u64 = 10;

/// What `cargo xtask fuzz` was asked to do.
#[derive(Debug, PartialEq, Eq)]
pub struct Options {
    /// Seconds per target.
    pub seconds: u64,
    /// Targets to run, in order.
    pub targets: Vec<&'static str>,
}

/// Parses the arguments after `fuzz`.
pub fn parse(args: &[&str]) -> Result<Options, String> {
    let mut options = Options {
        seconds: DEFAULT_SECONDS,
        targets: TARGETS.to_vec(),
    };
    let mut args = args.iter();
    while let Some(&arg) = args.next() {
        let (flag, inline): (&str, Option<&str>) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value)),
            None => (arg, None),
        };
        let mut value = || {
            inline
                .or_else(|| args.next().copied())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag {
            "--seconds" => {
                let text = value()?;
                options.seconds = text
                    .parse()
                    .ok()
                    .filter(|seconds| *seconds > 0)
                    .ok_or_else(|| {
                        format!("--seconds takes a positive whole number, not {text}")
                    })?;
            }
            "--target" => {
                let text = value()?;
                options.targets = match text {
                    "all" => TARGETS.to_vec(),
                    name => match TARGETS.iter().find(|target| **target == name) {
                        Some(target) => vec![*target],
                        None => {
                            return Err(format!(
                                "unknown target {name}: use {} or all",
                                TARGETS.join(", ")
                            ));
                        }
                    },
                };
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

/// What one libFuzzer run reported.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Inputs executed.
    pub runs: Option<u64>,
    /// Whether libFuzzer found a crash, a timeout or a leak.
    pub crashed: bool,
    /// The file the failing input was written to.
    pub artifact: Option<String>,
    /// libFuzzer's one-line description of the failure.
    pub finding: Option<String>,
    /// Corpus entries at the end (`cov`/`corp` of the last status line).
    pub corpus: Option<String>,
    /// Whether libFuzzer started at all (else the build or cargo-fuzz failed).
    pub started: bool,
    /// The first error line before libFuzzer started.
    pub setup_error: Option<String>,
}

impl Outcome {
    /// Reads one line of libFuzzer's output.
    pub fn read_line(&mut self, line: &str) {
        let line = line.trim();
        if line.starts_with("INFO: Seed:") {
            self.started = true;
        }
        if !self.started && self.setup_error.is_none() && line.starts_with("error") {
            self.setup_error = Some(line.to_owned());
        }
        if let Some(rest) = line.strip_prefix("Done ") {
            // `Done 123456 runs in 61 second(s)`
            if let Some(runs) = rest.split_whitespace().next().and_then(|n| n.parse().ok()) {
                self.runs = Some(runs);
            }
        } else if let Some(rest) = line.strip_prefix("stat::number_of_executed_units:") {
            if let Ok(runs) = rest.trim().parse() {
                self.runs = Some(runs);
            }
        } else if let Some(rest) = line.strip_prefix('#') {
            // `#4096	pulse  cov: 812 ft: 2630 corp: 183/9211b lim: 43 exec/s: 2048 rss: 60Mb`
            let mut words = rest.split_whitespace();
            if let Some(runs) = words.next().and_then(|n| n.parse::<u64>().ok()) {
                self.runs = Some(self.runs.map_or(runs, |known| known.max(runs)));
                if let Some(corp) = line.split("corp: ").nth(1) {
                    self.corpus = corp.split_whitespace().next().map(str::to_owned);
                }
            }
        } else if line.contains("ERROR: libFuzzer:")
            || line.contains("ERROR: AddressSanitizer")
            || line.starts_with("thread '") && line.contains("panicked")
        {
            self.crashed = true;
            if self.finding.is_none() {
                self.finding = Some(line.to_owned());
            }
        } else if let Some(rest) = line.split("Test unit written to ").nth(1) {
            self.crashed = true;
            self.artifact = Some(rest.trim().to_owned());
        }
    }

    /// One summary line.
    pub fn summary(&self, target: &str, status_ok: bool) -> String {
        let runs = self
            .runs
            .map_or_else(|| "unknown number of".to_owned(), |runs| runs.to_string());
        let corpus = self
            .corpus
            .as_deref()
            .map(|corpus| format!(", corpus {corpus}"))
            .unwrap_or_default();
        if !self.started && !status_ok {
            format!(
                "fuzz {target}: FAILED before fuzzing (build or cargo-fuzz error): {}",
                self.setup_error.as_deref().unwrap_or("see the log")
            )
        } else if self.crashed || !status_ok {
            format!(
                "fuzz {target}: {runs} runs{corpus}, CRASH FOUND: {}; input: {}",
                self.finding
                    .as_deref()
                    .unwrap_or("libFuzzer exited with a failure"),
                self.artifact
                    .as_deref()
                    .unwrap_or("(no artifact written; see the log)")
            )
        } else {
            format!("fuzz {target}: {runs} runs{corpus}, no crash")
        }
    }
}

/// `cargo xtask fuzz ARGS`.
pub fn main(root: &Path, args: &[&str]) -> ExitCode {
    let options = match parse(args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!(
                "xtask fuzz: {message}\nusage: cargo xtask fuzz [--seconds N] [--target {}|all]",
                TARGETS.join("|")
            );
            return ExitCode::from(2);
        }
    };
    match run(root, &options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("xtask fuzz: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs every requested target; `Ok(false)` when one of them found a crash.
pub fn run(root: &Path, options: &Options) -> Result<bool> {
    let dir = root.join("fuzz");
    match Command::new("cargo").args(["fuzz", "--version"]).output() {
        Ok(output) if output.status.success() => {
            println!(
                "xtask fuzz: {}",
                String::from_utf8_lossy(&output.stdout).trim()
            );
        }
        _ => bail!(
            "cargo-fuzz is not installed; install it with `cargo install cargo-fuzz` \
             (building the targets also needs a C++ compiler, for libFuzzer)"
        ),
    }
    let rustc = Command::new("rustc")
        .arg("--version")
        .current_dir(&dir)
        .output()
        .context("running rustc --version")?;
    let version = String::from_utf8_lossy(&rustc.stdout).trim().to_owned();
    let bootstrap = !version.contains("nightly") && !version.contains("-dev");
    if bootstrap {
        println!(
            "xtask fuzz: {version} is not a nightly; running cargo-fuzz with RUSTC_BOOTSTRAP=1 \
             for the nightly-only flags it passes (-Z sanitizer, coverage instrumentation)"
        );
    }
    let mut all_ok = true;
    let mut summaries = Vec::new();
    for target in &options.targets {
        seed_corpus(root, target)?;
        let (outcome, status_ok, log) = run_target(&dir, target, options.seconds, bootstrap)?;
        let summary = outcome.summary(target, status_ok);
        println!("{summary} (log: {})", log.display());
        all_ok &= status_ok && !outcome.crashed;
        summaries.push(summary);
    }
    if options.targets.len() > 1 {
        println!("\nxtask fuzz summary:");
        for summary in &summaries {
            println!("  {summary}");
        }
    }
    Ok(all_ok)
}

/// Runs one target, echoing libFuzzer's notable lines and keeping its whole
/// output in `fuzz/target/xtask-fuzz-<target>.log`.
fn run_target(
    dir: &Path,
    target: &str,
    seconds: u64,
    bootstrap: bool,
) -> Result<(Outcome, bool, PathBuf)> {
    let log_path = dir.join("target").join(format!("xtask-fuzz-{target}.log"));
    std::fs::create_dir_all(dir.join("target"))?;
    let mut log = std::fs::File::create(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    let mut command = Command::new("cargo");
    command
        .args(["fuzz", "run", target, "--"])
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={INPUT_TIMEOUT_SECONDS}"))
        .arg("-print_final_stats=1")
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if bootstrap {
        command.env("RUSTC_BOOTSTRAP", "1");
    }
    println!("xtask fuzz: cargo fuzz run {target} -- -max_total_time={seconds} (in fuzz/)");
    let mut child = command.spawn().context("starting cargo fuzz run")?;
    let stdout = child.stdout.take().context("cargo fuzz stdout")?;
    let stderr = child.stderr.take().context("cargo fuzz stderr")?;
    let (sender, receiver) = std::sync::mpsc::channel::<String>();
    let readers: Vec<_> = [
        Box::new(stdout) as Box<dyn std::io::Read + Send>,
        Box::new(stderr),
    ]
    .into_iter()
    .map(|stream| {
        let sender = sender.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        })
    })
    .collect();
    drop(sender);
    let mut outcome = Outcome::default();
    let mut status_lines = 0u64;
    for line in receiver {
        writeln!(log, "{line}")?;
        outcome.read_line(&line);
        // Status lines (`#1234 NEW cov: …`) come by the thousand: echo one in
        // 50; the recommended dictionary is in the log only.
        let noisy = line.starts_with('#') || line.starts_with("\tNEW_FUNC");
        if line.starts_with('"') && line.contains("# Uses:") {
            continue;
        }
        if noisy {
            status_lines += 1;
        }
        if !noisy || status_lines % 50 == 1 || line.contains("DONE") {
            println!("  {line}");
        }
    }
    for reader in readers {
        let _ = reader.join();
    }
    let status = child.wait().context("waiting for cargo fuzz")?;
    Ok((outcome, status.success(), log_path))
}

/// Puts the repository's own inputs in an empty corpus: the spec files for the
/// loader, the example requests and case files for `prepare`.
fn seed_corpus(root: &Path, target: &str) -> Result<()> {
    let corpus = root.join("fuzz/corpus").join(target);
    if corpus.is_dir() && std::fs::read_dir(&corpus)?.next().is_some() {
        return Ok(());
    }
    std::fs::create_dir_all(&corpus)?;
    let mut seeds = Vec::new();
    match target {
        "spec_loader" => collect(&root.join("specs"), "yaml", &mut seeds)?,
        _ => {
            collect(&root.join("examples"), "json", &mut seeds)?;
            collect(&root.join("tests/cases"), "json", &mut seeds)?;
        }
    }
    for (index, seed) in seeds.iter().enumerate() {
        let name = seed
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        std::fs::copy(seed, corpus.join(format!("seed-{index:03}-{name}")))
            .with_context(|| format!("copying {}", seed.display()))?;
    }
    println!(
        "xtask fuzz: seeded fuzz/corpus/{target} with {} file(s) from the repository",
        seeds.len()
    );
    Ok(())
}

fn collect(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) -> Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, extension, out)?;
        } else if path.extension().is_some_and(|ext| ext == extension) {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_default_to_every_target_for_a_minute() {
        assert_eq!(
            parse(&[]),
            Ok(Options {
                seconds: 60,
                targets: vec!["spec_loader", "prepare"]
            })
        );
        assert_eq!(
            parse(&["--seconds", "5", "--target=prepare"]),
            Ok(Options {
                seconds: 5,
                targets: vec!["prepare"]
            })
        );
        assert!(parse(&["--seconds", "0"]).is_err());
        assert!(parse(&["--target", "nope"]).is_err());
        assert!(parse(&["--seconds"]).is_err());
        assert!(parse(&["--jobs", "2"]).is_err());
    }

    #[test]
    fn a_clean_run_is_read_from_libfuzzers_output() {
        let mut outcome = Outcome::default();
        for line in [
            "INFO: Seed: 87789907",
            "#2\tINITED cov: 700 ft: 701 corp: 12/4096b exec/s: 0 rss: 40Mb",
            "#4096\tpulse  cov: 812 ft: 2630 corp: 183/9211b lim: 43 exec/s: 2048 rss: 60Mb",
            "Done 250000 runs in 61 second(s)",
            "stat::number_of_executed_units: 250001",
        ] {
            outcome.read_line(line);
        }
        assert!(!outcome.crashed);
        assert_eq!(outcome.runs, Some(250_001));
        assert_eq!(outcome.corpus.as_deref(), Some("183/9211b"));
        assert_eq!(
            outcome.summary("prepare", true),
            "fuzz prepare: 250001 runs, corpus 183/9211b, no crash"
        );
    }

    #[test]
    fn a_crash_names_its_artifact() {
        let mut outcome = Outcome::default();
        for line in [
            "INFO: Seed: 1464430267",
            "#1000\tNEW    cov: 900 ft: 1000 corp: 50/2000b lim: 40 exec/s: 0 rss: 50Mb",
            "thread '<unnamed>' panicked at crates/vidspec-core/src/shape.rs:10:5:",
            "==42== ERROR: libFuzzer: deadly signal",
            "artifact_prefix='/w/fuzz/artifacts/prepare/'; Test unit written to /w/fuzz/artifacts/prepare/crash-abc",
        ] {
            outcome.read_line(line);
        }
        assert!(outcome.crashed);
        assert_eq!(
            outcome.artifact.as_deref(),
            Some("/w/fuzz/artifacts/prepare/crash-abc")
        );
        let summary = outcome.summary("prepare", false);
        assert!(summary.contains("CRASH FOUND"), "{summary}");
        assert!(summary.contains("shape.rs"), "{summary}");
        assert!(summary.contains("crash-abc"), "{summary}");
    }

    #[test]
    fn a_failed_build_is_not_called_a_crash() {
        let mut outcome = Outcome::default();
        for line in [
            "error: failed to parse manifest at `crates/vidspec-core/Cargo.toml`",
            "Error: failed to build fuzz script: …",
        ] {
            outcome.read_line(line);
        }
        let summary = outcome.summary("prepare", false);
        assert!(summary.contains("FAILED before fuzzing"), "{summary}");
        assert!(summary.contains("failed to parse manifest"), "{summary}");
        assert!(!summary.contains("CRASH"), "{summary}");
    }
}
