//! The chaos run's shared ledger: one SQLite file in the run's temporary
//! folder, or a fresh PostgreSQL database on the server `VIDSPEC_TEST_POSTGRES`
//! names (created with `psql`, dropped afterwards); and the jobs the workers'
//! reports leave `unknown`.
//!
//! Owns where the ledger lives and its clean-up; it must not read or write
//! ledger entries itself (the workers do) — the `unknown` list comes from
//! `vidspec batch status --json` (or, if that fails, the workers' reports),
//! and is only listed, never used for the counts.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use anyhow::Context;

/// The environment variable naming the PostgreSQL server (`.ci/postgres`
/// prints it).
const POSTGRES_ENV: &str = "VIDSPEC_TEST_POSTGRES";

/// Which ledger the workers share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedgerKind {
    /// One SQLite file.
    Sqlite,
    /// A database on a PostgreSQL server.
    Postgres,
}

impl LedgerKind {
    /// `sqlite` or `postgres`.
    pub fn parse(text: &str) -> anyhow::Result<LedgerKind> {
        match text {
            "sqlite" => Ok(LedgerKind::Sqlite),
            "postgres" | "postgresql" => Ok(LedgerKind::Postgres),
            other => anyhow::bail!("--ledger {other}: use sqlite or postgres"),
        }
    }

    /// The name on the summary line.
    pub fn name(self) -> &'static str {
        match self {
            LedgerKind::Sqlite => "sqlite",
            LedgerKind::Postgres => "postgres",
        }
    }
}

/// A prepared ledger: where the workers find it, and what to drop afterwards.
pub struct Prepared {
    location: String,
    shown: String,
    /// The server URL and the database to drop when done.
    postgres: Option<(url::Url, String)>,
}

/// Prepares a ledger of `kind` for a run in `work`.
pub fn prepare(kind: LedgerKind, work: &Path, seed: u64) -> anyhow::Result<Prepared> {
    match kind {
        LedgerKind::Sqlite => {
            let path = work.join("ledger.sqlite3");
            let location = path
                .to_str()
                .context("the temporary folder's path is not UTF-8")?
                .to_owned();
            Ok(Prepared {
                shown: location.clone(),
                location,
                postgres: None,
            })
        }
        LedgerKind::Postgres => prepare_postgres(seed),
    }
}

fn prepare_postgres(seed: u64) -> anyhow::Result<Prepared> {
    let server = std::env::var(POSTGRES_ENV).map_err(|_| {
        anyhow::anyhow!(
            "--ledger postgres needs {POSTGRES_ENV}=postgres://…; start a throw-away server with \
             `eval \"$(.ci/postgres)\"` (or point it at your own)"
        )
    })?;
    let server = url::Url::parse(&server)
        .with_context(|| format!("{POSTGRES_ENV} is not a URL (postgres://user@host:port/db)"))?;
    let database = format!("batch_chaos_{seed}_{}", std::process::id());
    psql(&server, &format!("CREATE DATABASE {database}"))?;
    let mut location = server.clone();
    location.set_path(&format!("/{database}"));
    let mut shown = location.clone();
    let _ = shown.set_password(None);
    Ok(Prepared {
        location: location.to_string(),
        shown: shown.to_string(),
        postgres: Some((server, database)),
    })
}

/// Runs one SQL statement with `psql` on `server`.
fn psql(server: &url::Url, statement: &str) -> anyhow::Result<()> {
    let output = Command::new("psql")
        .arg(server.as_str())
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", statement])
        .output()
        .context("cannot run psql (install the PostgreSQL client)")?;
    anyhow::ensure!(
        output.status.success(),
        "psql could not run `{statement}`: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(())
}

impl Prepared {
    /// What the workers' `--ledger` gets.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The location without a password, for printing.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Drops the run's PostgreSQL database (a SQLite file goes with the
    /// temporary folder).
    pub fn finish(&self) {
        if let Some((server, database)) = &self.postgres
            && let Err(error) = psql(
                server,
                &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
            )
        {
            eprintln!("batch-chaos: {error:#}");
        }
    }
}

/// The jobs of run `run` that `vidspec batch status --json` reports
/// `unknown` in the ledger at `location`.
pub fn unknown_in_ledger(
    vidspec: &Path,
    location: &str,
    run: &str,
    jobs: &BTreeSet<String>,
) -> anyhow::Result<BTreeSet<String>> {
    let output = Command::new(vidspec)
        .args([
            "batch", "status", "--run", run, "--ledger", location, "--json",
        ])
        .output()
        .context("cannot run vidspec batch status")?;
    anyhow::ensure!(
        output.status.success(),
        "vidspec batch status failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout)
        .context("vidspec batch status --json printed no JSON")?;
    // `unknown: [{job, …}]` (vidspec-batch's run status), or an
    // `attention: [{job, state, …}]` list of an older CLI.
    let listed: Vec<&serde_json::Value> = match (
        summary["unknown"].as_array(),
        summary["attention"].as_array(),
    ) {
        (Some(unknown), _) => unknown.iter().collect(),
        (None, Some(attention)) => attention
            .iter()
            .filter(|row| row["state"] == "unknown")
            .collect(),
        (None, None) => {
            anyhow::bail!("vidspec batch status --json lists no unknown jobs (no `unknown` key)")
        }
    };
    Ok(listed
        .into_iter()
        .filter_map(|row| row["job"].as_str())
        .filter(|job| jobs.contains(*job))
        .map(str::to_owned)
        .collect())
}

/// The jobs of `jobs` that a worker's report lists as `unknown`.
pub fn unknown_in_reports(
    reports: &Path,
    jobs: &BTreeSet<String>,
) -> anyhow::Result<BTreeSet<String>> {
    let mut unknown = BTreeSet::new();
    let entries =
        std::fs::read_dir(reports).with_context(|| format!("cannot list {}", reports.display()))?;
    for entry in entries.flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        for line in text.lines() {
            let Ok(row) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let job = row["job"].as_str().unwrap_or_default();
            if row["status"] == "unknown" && jobs.contains(job) {
                unknown.insert(job.to_owned());
            }
        }
    }
    Ok(unknown)
}
