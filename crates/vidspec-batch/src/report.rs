//! The end of a run: one [`JobReport`] per job, written as JSON lines, and
//! the counts of [`Report::summary`].
//!
//! Owns the report's shape (a contract scripts read: fields are only ever
//! added). It must not decide a job's status (the runner does) or print.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::manifest::InvalidLine;

/// How a job ended in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Its videos are saved.
    Downloaded,
    /// The task ended with a result, but saving the videos failed (a run
    /// again downloads them).
    Succeeded,
    /// Still running when waiting stopped (the deadline, a lost worker):
    /// a run again waits on.
    Running,
    /// The task ended without a result (a run with retry-failed submits it
    /// again).
    Failed,
    /// The submission may or may not have created a task and cannot be
    /// resent safely: never submitted again; check the gateway's console.
    Unknown,
    /// Provably not created (refused, or a local problem before sending).
    NotSent,
    /// Not submitted: the budget would have been passed.
    BudgetStopped,
    /// Its manifest line is invalid and was skipped.
    Invalid,
}

impl JobStatus {
    /// Every status, in the order a summary lists them.
    pub const ALL: [JobStatus; 8] = [
        JobStatus::Downloaded,
        JobStatus::Succeeded,
        JobStatus::Running,
        JobStatus::Failed,
        JobStatus::Unknown,
        JobStatus::NotSent,
        JobStatus::BudgetStopped,
        JobStatus::Invalid,
    ];

    /// The status's name, as the report writes it.
    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Downloaded => "downloaded",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Running => "running",
            JobStatus::Failed => "failed",
            JobStatus::Unknown => "unknown",
            JobStatus::NotSent => "not_sent",
            JobStatus::BudgetStopped => "budget_stopped",
            JobStatus::Invalid => "invalid",
        }
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name())
    }
}

/// One job's line of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobReport {
    /// The job id.
    pub job: String,
    /// How it ended.
    pub status: JobStatus,
    /// The gateway's task id, when one is known.
    pub task_id: Option<String>,
    /// The model id, when known.
    pub model: Option<String>,
    /// The mode it was sent in, when known.
    pub mode: Option<String>,
    /// Its billing key, when known.
    pub billing_key: Option<String>,
    /// What the gateway reported it cost.
    pub cost: Option<f64>,
    /// The videos saved.
    pub files: Vec<PathBuf>,
    /// Why it did not end downloaded (or a warning), when there is a reason.
    pub error: Option<String>,
}

impl JobReport {
    /// The line of a manifest line that was invalid and skipped.
    pub fn invalid(line: &InvalidLine) -> JobReport {
        let problems: Vec<String> = line.problems.iter().map(ToString::to_string).collect();
        JobReport {
            job: line
                .id
                .clone()
                .unwrap_or_else(|| format!("line-{}", line.line)),
            status: JobStatus::Invalid,
            task_id: None,
            model: None,
            mode: None,
            billing_key: None,
            cost: None,
            files: Vec::new(),
            error: Some(format!("line {}: {}", line.line, problems.join("; "))),
        }
    }
}

/// Every job's line, in the manifest's order.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Report {
    /// One line per job.
    pub rows: Vec<JobReport>,
}

/// How many jobs ended in each status, and what they cost.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Summary {
    /// Jobs in all.
    pub jobs: usize,
    /// Jobs per status (only statuses with jobs).
    pub by_status: BTreeMap<JobStatus, usize>,
    /// The sum of the reported costs.
    pub spent: f64,
    /// Whether every job is downloaded (nothing is left to do).
    pub complete: bool,
}

impl Summary {
    /// How many jobs ended in `status`.
    pub fn count(&self, status: JobStatus) -> usize {
        self.by_status.get(&status).copied().unwrap_or(0)
    }
}

impl Report {
    /// The counts per status and the money spent.
    pub fn summary(&self) -> Summary {
        let mut by_status = BTreeMap::new();
        let mut spent = 0.0;
        for row in &self.rows {
            *by_status.entry(row.status).or_insert(0) += 1;
            spent += row.cost.filter(|cost| cost.is_finite()).unwrap_or(0.0);
        }
        Summary {
            jobs: self.rows.len(),
            complete: self
                .rows
                .iter()
                .all(|row| row.status == JobStatus::Downloaded),
            by_status,
            spent,
        }
    }

    /// Adds the lines of skipped invalid manifest lines.
    pub fn add_invalid(&mut self, lines: &[InvalidLine]) {
        self.rows.extend(lines.iter().map(JobReport::invalid));
    }
}

/// Writes the report as JSON lines: one object per job.
pub fn write_jsonl(report: &Report, mut writer: impl Write) -> std::io::Result<()> {
    for row in &report.rows {
        serde_json::to_writer(&mut writer, row)?;
        writer.write_all(b"\n")?;
    }
    writer.flush()
}
