//! Progress on long waits: one indicatif bar per task on a terminal, plain
//! lines on stderr otherwise (one per change of status or each tenth of
//! progress), so stdout stays for results.
//!
//! Owns how waiting looks. It must not poll or decide anything.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use vidspec_transport::{Retry, TaskSnapshot};

use crate::output::terminal;

/// Shows the progress of tasks.
pub struct Progress {
    quiet: bool,
    bars: Option<(MultiProgress, Mutex<HashMap<String, ProgressBar>>)>,
    last_line: Mutex<HashMap<String, (String, u64)>>,
    started: Instant,
}

impl Progress {
    /// Bars when stderr is a terminal, lines otherwise; nothing when `quiet`.
    pub fn new(quiet: bool) -> Progress {
        let bars = (!quiet && std::io::stderr().is_terminal()).then(|| {
            (
                MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                Mutex::new(HashMap::new()),
            )
        });
        Progress {
            quiet,
            bars,
            last_line: Mutex::new(HashMap::new()),
            started: Instant::now(),
        }
    }

    /// Starts showing task `id`.
    pub fn add(&self, id: &str) {
        if let Some((multi, bars)) = &self.bars {
            let bar = multi.add(ProgressBar::new(100));
            let style =
                ProgressStyle::with_template("{prefix} [{bar:30}] {pos:>3}% {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(terminal(id).into_owned());
            bar.set_message("submitted");
            bar.enable_steady_tick(Duration::from_millis(250));
            if let Ok(mut bars) = bars.lock() {
                bars.insert(id.to_owned(), bar);
            }
        }
    }

    /// Shows a new snapshot of task `id`.
    pub fn update(&self, id: &str, snapshot: &TaskSnapshot) {
        let status = terminal(snapshot.status.word()).into_owned();
        let progress = snapshot.progress.unwrap_or(0);
        if let Some((_, bars)) = &self.bars {
            if let Ok(bars) = bars.lock()
                && let Some(bar) = bars.get(id)
            {
                bar.set_position(progress);
                bar.set_message(status);
            }
            return;
        }
        if self.quiet {
            return;
        }
        let Ok(mut last) = self.last_line.lock() else {
            return;
        };
        let changed = last.get(id).is_none_or(|(old_status, old_progress)| {
            *old_status != status || old_progress / 10 != progress / 10
        });
        if changed {
            eprintln!(
                "{}: {status} {progress}% ({} s)",
                terminal(id),
                self.started.elapsed().as_secs()
            );
            last.insert(id.to_owned(), (status, progress));
        }
    }

    /// Shows that a poll of task `id` is being retried: in the bar's message
    /// on a terminal; as a line otherwise, only when a poll failed after all
    /// its retries (single failed attempts would flood a log).
    pub fn retrying(&self, id: &str, retry: &Retry) {
        if let Some((_, bars)) = &self.bars {
            if let Ok(bars) = bars.lock()
                && let Some(bar) = bars.get(id)
            {
                bar.set_message(format!(
                    "retrying in {:.1} s (attempt {})",
                    retry.delay.as_secs_f64(),
                    retry.attempt
                ));
            }
            return;
        }
        if self.quiet || !retry.next_poll {
            return;
        }
        eprintln!(
            "{}",
            terminal(&format!(
                "{id}: a poll failed ({}); trying again in {:.1} s",
                retry.error,
                retry.delay.as_secs_f64()
            ))
        );
    }

    /// Stops showing task `id`, with a last word.
    pub fn finish(&self, id: &str, word: &str) {
        if let Some((_, bars)) = &self.bars
            && let Ok(bars) = bars.lock()
            && let Some(bar) = bars.get(id)
        {
            bar.finish_with_message(terminal(word).into_owned());
        }
    }
}
