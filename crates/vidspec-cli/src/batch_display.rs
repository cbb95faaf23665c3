//! How a batch run looks while it runs and when it ends: one indicatif bar
//! (queued, running, done, failed, spent) with the slowest running tasks
//! under it when stderr is a terminal; plain lines otherwise (one per
//! submit, finish and stop, and a summary line every [`SUMMARY_EVERY`]),
//! nothing animated in a pipe; and the table of jobs printed at the end.
//!
//! It owns the wording and the tallies shown; it must not decide anything
//! about jobs (what to submit, retry or stop is vidspec-batch's) and must
//! not print text from outside (job ids, task ids, gateway messages)
//! without [`terminal`].

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::terminal;

/// How often a plain-lines display prints its summary line.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(10);

/// How many of the slowest running tasks the bar shows under it.
const SLOWEST_SHOWN: usize = 5;

/// How a job ended, as the display counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Its videos are saved.
    Done,
    /// The task failed (or its download did).
    Failed,
    /// Sent, answer lost: counted apart, never resubmitted.
    Unknown,
    /// Not finished in this run (the budget stopped it, it was not sent,
    /// it still runs): a run again continues it.
    Left,
}

/// A running task, for the slowest-tasks lines.
#[derive(Debug, Clone)]
struct Running {
    task_id: Option<String>,
    since: Instant,
    progress: Option<u64>,
}

/// What the display counts.
#[derive(Debug, Default)]
struct Tally {
    total: u64,
    submitted_here: u64,
    done: u64,
    failed: u64,
    unknown: u64,
    left: u64,
    spent: f64,
    running: HashMap<String, Running>,
}

impl Tally {
    fn ended(&self) -> u64 {
        self.done + self.failed + self.unknown + self.left
    }

    fn queued(&self) -> u64 {
        self.total
            .saturating_sub(self.ended())
            .saturating_sub(self.running.len() as u64)
    }

    /// `queued 3 · running 8 · done 40 · failed 1 · spent $3.20`, and
    /// `unknown N` when there are some.
    fn summary(&self) -> String {
        let mut text = format!(
            "queued {} · running {} · done {} · failed {}",
            self.queued(),
            self.running.len(),
            self.done,
            self.failed
        );
        if self.unknown > 0 {
            text.push_str(&format!(" · unknown {}", self.unknown));
        }
        if self.left > 0 {
            text.push_str(&format!(" · left {}", self.left));
        }
        text.push_str(&format!(" · spent ${:.2}", self.spent));
        text
    }

    /// The slowest running tasks, oldest first, as display lines.
    fn slowest(&self, now: Instant) -> Vec<String> {
        let mut running: Vec<(&String, &Running)> = self.running.iter().collect();
        running.sort_by_key(|(job, task)| (task.since, job.as_str()));
        running
            .into_iter()
            .take(SLOWEST_SHOWN)
            .map(|(job, task)| {
                let progress = task
                    .progress
                    .map(|progress| format!("{progress:>3}%"))
                    .unwrap_or_else(|| "   ?".to_owned());
                format!(
                    "  {}  {}  {}  {progress}",
                    terminal(job),
                    terminal(task.task_id.as_deref().unwrap_or("(submitting)")),
                    elapsed(now.saturating_duration_since(task.since)),
                )
            })
            .collect()
    }
}

/// `42s`, `3m05s`, `1h02m`.
pub fn elapsed(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m{:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h{:02}m", seconds / 3600, (seconds % 3600) / 60),
    }
}

/// The terminal's bar and the lines under it.
struct Bars {
    // Kept so the bars stay drawn together.
    _multi: MultiProgress,
    overall: ProgressBar,
    slowest: Vec<ProgressBar>,
}

/// The live display of a batch run.
pub struct BatchDisplay {
    bars: Option<Bars>,
    quiet: bool,
    tally: Mutex<Tally>,
    last_summary: Mutex<Instant>,
}

impl BatchDisplay {
    /// A bar when stderr is a terminal, plain lines otherwise; nothing at
    /// all when `quiet` (JSON output).
    pub fn new(quiet: bool) -> BatchDisplay {
        let bars = (!quiet && io::stderr().is_terminal()).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let overall = multi.add(ProgressBar::new(0));
            overall.set_style(
                ProgressStyle::with_template("[{bar:30}] {pos}/{len} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            let line_style = ProgressStyle::with_template("{msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let slowest = (0..SLOWEST_SHOWN)
                .map(|_| {
                    let line = multi.add(ProgressBar::new(0));
                    line.set_style(line_style.clone());
                    line
                })
                .collect();
            overall.enable_steady_tick(Duration::from_millis(500));
            Bars {
                _multi: multi,
                overall,
                slowest,
            }
        });
        BatchDisplay {
            bars,
            quiet,
            tally: Mutex::new(Tally::default()),
            last_summary: Mutex::new(Instant::now()),
        }
    }

    /// Whether this display draws a bar (stderr is a terminal).
    pub fn is_animated(&self) -> bool {
        self.bars.is_some()
    }

    /// `total` jobs are in this run.
    pub fn start(&self, total: u64) {
        if let Ok(mut tally) = self.tally.lock() {
            tally.total = total;
        }
        if let Some(bars) = &self.bars {
            bars.overall.set_length(total);
        }
        self.redraw();
    }

    /// A job was submitted now, as task `task_id`.
    pub fn submitted(&self, job: &str, task_id: &str) {
        if let Ok(mut tally) = self.tally.lock() {
            tally.submitted_here += 1;
            tally.running.insert(
                job.to_owned(),
                Running {
                    task_id: Some(task_id.to_owned()),
                    since: Instant::now(),
                    progress: None,
                },
            );
        }
        self.line(&format!(
            "submitted {} as {}",
            terminal(job),
            terminal(task_id)
        ));
        self.redraw();
    }

    /// A running job's task moved (`progress` from 0 to 100 when the
    /// gateway says). A job not seen running before (its task was
    /// submitted by an earlier run or another worker) is said once.
    pub fn progress(&self, job: &str, task_id: &str, progress: Option<u64>) {
        let first_seen = if let Ok(mut tally) = self.tally.lock() {
            let first_seen = !tally.running.contains_key(job);
            let running = tally.running.entry(job.to_owned()).or_insert(Running {
                task_id: Some(task_id.to_owned()),
                since: Instant::now(),
                progress: None,
            });
            if progress.is_some() {
                running.progress = progress.map(|progress| progress.min(100));
            }
            first_seen
        } else {
            false
        };
        if first_seen {
            self.line(&format!(
                "waiting for {} ({})",
                terminal(job),
                terminal(task_id)
            ));
        }
        self.redraw();
    }

    /// A job ended for this run as `word` (`downloaded`, `failed`, …);
    /// `cost` is what the gateway reported for it, `detail` a few words
    /// (files saved, why it failed). `said` is false for a job finished
    /// before this run: it is counted without a line.
    pub fn ended(
        &self,
        job: &str,
        ended: Ended,
        word: &str,
        cost: Option<f64>,
        detail: &str,
        said: bool,
    ) {
        let task_id = if let Ok(mut tally) = self.tally.lock() {
            let task_id = tally
                .running
                .remove(job)
                .and_then(|running| running.task_id);
            match ended {
                Ended::Done => tally.done += 1,
                Ended::Failed => tally.failed += 1,
                Ended::Unknown => tally.unknown += 1,
                Ended::Left => tally.left += 1,
            }
            if let Some(cost) = cost.filter(|cost| cost.is_finite() && *cost > 0.0) {
                tally.spent += cost;
            }
            if let Some(bars) = &self.bars {
                bars.overall.set_position(tally.ended());
            }
            task_id
        } else {
            None
        };
        if said {
            let task = task_id
                .map(|task| format!(" ({})", terminal(&task)))
                .unwrap_or_default();
            let cost = cost.map(|cost| format!(", ${cost:.2}")).unwrap_or_default();
            let detail = if detail.is_empty() {
                String::new()
            } else {
                format!(": {}", terminal(detail))
            };
            self.line(&format!("{word} {}{task}{cost}{detail}", terminal(job)));
        }
        self.redraw();
    }

    /// A line that always shows: a stop (budget, Ctrl-C), a warning. Above
    /// the bar on a terminal, on stderr otherwise. `text` must already be
    /// escaped where it holds text from outside.
    pub fn notice(&self, text: &str) {
        if self.quiet {
            return;
        }
        match &self.bars {
            Some(bars) => bars.overall.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// Prints the summary line when lines are printed and it is due; call it
    /// now and then (each event calls it too).
    pub fn tick(&self) {
        if self.bars.is_some() {
            self.redraw();
            return;
        }
        if self.quiet {
            return;
        }
        let Ok(mut last) = self.last_summary.lock() else {
            return;
        };
        if last.elapsed() >= SUMMARY_EVERY {
            *last = Instant::now();
            if let Ok(tally) = self.tally.lock() {
                eprintln!("progress: {}", tally.summary());
            }
        }
    }

    /// The jobs running now with their task ids, oldest first: printed on
    /// Ctrl-C so the user knows what is still paid for.
    pub fn running_now(&self) -> Vec<(String, Option<String>)> {
        let Ok(tally) = self.tally.lock() else {
            return Vec::new();
        };
        let mut running: Vec<(&String, &Running)> = tally.running.iter().collect();
        running.sort_by_key(|(job, task)| (task.since, job.as_str()));
        running
            .into_iter()
            .map(|(job, task)| (job.clone(), task.task_id.clone()))
            .collect()
    }

    /// Removes the bar (before the final table) and prints the last summary.
    pub fn finish(&self) {
        let summary = self.tally.lock().map(|tally| tally.summary()).ok();
        if let Some(bars) = &self.bars {
            for line in &bars.slowest {
                line.finish_and_clear();
            }
            bars.overall.finish_and_clear();
        }
        if let Some(summary) = summary
            && !self.quiet
        {
            eprintln!("batch: {summary}");
        }
    }

    /// A per-event line: only when lines are printed (the bar says it otherwise).
    fn line(&self, text: &str) {
        if self.bars.is_none() && !self.quiet {
            eprintln!("{text}");
        }
        self.tick();
    }

    fn redraw(&self) {
        let Some(bars) = &self.bars else {
            return;
        };
        let Ok(tally) = self.tally.lock() else {
            return;
        };
        bars.overall.set_message(tally.summary());
        let slowest = tally.slowest(Instant::now());
        for (index, line) in bars.slowest.iter().enumerate() {
            line.set_message(slowest.get(index).cloned().unwrap_or_default());
        }
    }
}

/// One row of the final table.
#[derive(Debug, Clone, Default)]
pub struct TableRow {
    pub job: String,
    pub status: String,
    pub task_id: String,
    pub mode: String,
    pub billing_key: String,
    pub cost: String,
    pub files: String,
}

/// The final table: a header, then one aligned row per job; every cell
/// escaped for the terminal.
pub fn write_table(out: &mut dyn Write, rows: &[TableRow]) -> io::Result<()> {
    const HEADER: [&str; 7] = [
        "JOB",
        "STATUS",
        "TASK",
        "MODE",
        "BILLING KEY",
        "COST",
        "FILES",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|row| {
            [
                &row.job,
                &row.status,
                &row.task_id,
                &row.mode,
                &row.billing_key,
                &row.cost,
                &row.files,
            ]
            .map(|cell| {
                let cell = if cell.is_empty() { "-" } else { cell.as_str() };
                terminal(cell).into_owned()
            })
        })
        .collect();
    let mut widths = HEADER.map(|title| title.chars().count());
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut write_row = |row: [&str; 7]| -> io::Result<()> {
        let mut line = String::new();
        for (index, (cell, width)) in row.iter().zip(widths).enumerate() {
            if index + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                let pad = width.saturating_sub(cell.chars().count()) + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{}", line.trim_end())
    };
    write_row(HEADER)?;
    for row in &cells {
        write_row([
            &row[0], &row[1], &row[2], &row[3], &row[4], &row[5], &row[6],
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_times_read_as_seconds_minutes_or_hours() {
        assert_eq!(elapsed(Duration::from_secs(42)), "42s");
        assert_eq!(elapsed(Duration::from_secs(185)), "3m05s");
        assert_eq!(elapsed(Duration::from_secs(3720)), "1h02m");
    }

    #[test]
    fn the_summary_counts_queued_as_what_is_neither_running_nor_ended() {
        let mut tally = Tally {
            total: 10,
            done: 3,
            failed: 1,
            spent: 0.6,
            ..Tally::default()
        };
        tally.running.insert(
            "a".to_owned(),
            Running {
                task_id: None,
                since: Instant::now(),
                progress: None,
            },
        );
        assert_eq!(
            tally.summary(),
            "queued 5 · running 1 · done 3 · failed 1 · spent $0.60"
        );
    }

    #[test]
    fn the_table_aligns_columns_and_escapes_cells_from_outside() {
        let rows = [TableRow {
            job: "clip-\u{1b}[2J".to_owned(),
            status: "downloaded".to_owned(),
            task_id: "task_1".to_owned(),
            mode: "text_to_video".to_owned(),
            billing_key: "m@720p".to_owned(),
            cost: "0.20".to_owned(),
            files: "out/clip-1.mp4".to_owned(),
        }];
        let mut out = Vec::new();
        write_table(&mut out, &rows).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('\u{1b}'), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0].find("STATUS"),
            lines[1].find("downloaded"),
            "{text}"
        );
    }
}
