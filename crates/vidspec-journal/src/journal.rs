//! The journal file: appending events durably and folding them into entries.
//!
//! Owns the file (create, append with one write per event, fsync) and the fold
//! from events to [`Entry`] states, with torn-line tolerance. It knows nothing
//! of HTTP or of any model.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde_json::Value;

use crate::event::{Event, EventKind};

/// The largest journal read, in bytes (a line per event; millions of tasks fit).
const MAX_JOURNAL_BYTES: u64 = 512 * 1024 * 1024;

/// Something went wrong with the journal file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file or its directory could not be used.
    #[error("journal {path}: {message}")]
    Io {
        /// The journal path.
        path: String,
        /// What failed and how to fix it.
        message: String,
    },
}

/// Where a submission stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// About to be sent, and nothing since: the process stopped in between, so
    /// the task may exist. Check the gateway's console before sending it again.
    Unknown,
    /// Accepted; the task has not been seen to end.
    Running,
    /// Ended with videos not yet saved.
    Succeeded,
    /// Ended with videos saved.
    Downloaded,
    /// Ended without a result.
    Failed,
    /// Provably not created.
    NotSent,
}

impl State {
    /// The state's name, as `--state` takes it.
    pub fn name(self) -> &'static str {
        match self {
            State::Unknown => "unknown",
            State::Running => "running",
            State::Succeeded => "succeeded",
            State::Downloaded => "downloaded",
            State::Failed => "failed",
            State::NotSent => "not_sent",
        }
    }

    /// Whether money may still be tied up in it: the task may exist and its
    /// videos are not saved yet.
    pub fn is_unfinished(self) -> bool {
        matches!(self, State::Unknown | State::Running | State::Succeeded)
    }
}

/// One submission, folded from its events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Journal id of the submission.
    pub entry: String,
    /// Where it stands.
    pub state: State,
    /// Model id.
    pub model: String,
    /// Digest of the spec that shaped it.
    pub spec: String,
    /// Digest of the body sent.
    pub request: String,
    /// Endpoint path.
    pub endpoint: String,
    /// Task id, once known.
    pub task_id: Option<String>,
    /// Unix seconds of the intent.
    pub submitted_at: i64,
    /// Unix seconds of the last event.
    pub updated_at: i64,
    /// Where the caller wanted the videos.
    pub download_dir: Option<String>,
    /// Result videos (URL and expiry).
    pub videos: Vec<Value>,
    /// Saved files.
    pub paths: Vec<String>,
    /// Why it failed, was not sent, or is unknown.
    pub reason: Option<String>,
}

/// What reading the journal found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Read {
    /// Entries in order of submission.
    pub entries: Vec<Entry>,
    /// Lines that could not be read (torn or damaged), with why.
    pub warnings: Vec<String>,
}

/// An append-only journal file.
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
}

/// `$VIDSPEC_JOURNAL`, else `$XDG_STATE_HOME/vidspec/journal.jsonl`, else
/// `~/.local/state/vidspec/journal.jsonl`.
pub fn default_path() -> PathBuf {
    if let Some(path) = std::env::var_os("VIDSPEC_JOURNAL").filter(|path| !path.is_empty()) {
        return PathBuf::from(path);
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|path| !path.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("."));
    state.join("vidspec").join("journal.jsonl")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

impl Journal {
    /// The journal at `path` (created on first write).
    pub fn at(path: impl Into<PathBuf>) -> Journal {
        Journal { path: path.into() }
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, message: String) -> JournalError {
        JournalError::Io {
            path: self.path.display().to_string(),
            message,
        }
    }

    /// A new entry id, unique across processes in practice.
    pub fn new_entry_id() -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos())
            .unwrap_or(0);
        format!(
            "j{nanos:x}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Appends one event and flushes it to disk before returning.
    pub fn append(&self, entry: &str, kind: EventKind) -> Result<(), JournalError> {
        let event = Event {
            v: 1,
            entry: entry.to_owned(),
            at: now(),
            kind,
        };
        let mut line = serde_json::to_string(&event)
            .map_err(|error| self.error(format!("cannot encode an event: {error}")))?;
        line.push('\n');
        if let Some(dir) = self.path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|error| self.error(format!("cannot create {}: {error}", dir.display())))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&self.path)
            .map_err(|error| {
                self.error(format!(
                    "cannot open for appending: {error}; pass --journal PATH or set VIDSPEC_JOURNAL"
                ))
            })?;
        // After a torn write the file may not end with a newline: start a fresh line.
        let length = file.metadata().map(|meta| meta.len()).unwrap_or(0);
        if length > 0 {
            let mut last = [0u8; 1];
            if file.seek(SeekFrom::End(-1)).is_ok()
                && file.read_exact(&mut last).is_ok()
                && last[0] != b'\n'
            {
                line.insert(0, '\n');
            }
        }
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|error| self.error(format!("cannot write: {error}")))?;
        Ok(())
    }

    /// Reads every entry. A missing file is an empty journal.
    pub fn read(&self) -> Result<Read, JournalError> {
        let mut text = String::new();
        match File::open(&self.path) {
            Ok(file) => {
                file.take(MAX_JOURNAL_BYTES)
                    .read_to_string(&mut text)
                    .map_err(|error| self.error(format!("cannot read: {error}")))?;
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Read::default());
            }
            Err(error) => return Err(self.error(format!("cannot open: {error}"))),
        }
        Ok(fold(&text))
    }

    /// The unfinished entry whose body digest is `request`, if any (the
    /// double-spend guard).
    pub fn unfinished_with_request(&self, request: &str) -> Result<Option<Entry>, JournalError> {
        Ok(self
            .read()?
            .entries
            .into_iter()
            .rev()
            .find(|entry| entry.request == request && entry.state.is_unfinished()))
    }
}

/// Folds journal text into entries.
fn fold(text: &str) -> Read {
    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut warnings = Vec::new();
    let lines: Vec<&str> = text.split('\n').collect();
    let last_index = lines.len().saturating_sub(1);
    for (index, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let event: Event = match serde_json::from_str(line) {
            Ok(event) => event,
            Err(error) => {
                let torn = index == last_index;
                warnings.push(if torn {
                    format!(
                        "line {}: a torn last line ({} bytes) was ignored: a write was cut short (the process stopped mid-write); earlier entries are intact",
                        index + 1,
                        line.len()
                    )
                } else {
                    format!("line {}: a damaged line was ignored ({error})", index + 1)
                });
                continue;
            }
        };
        let id = event.entry.clone();
        match event.kind {
            EventKind::Intent {
                model,
                spec,
                request,
                endpoint,
                download_dir,
            } => {
                if !entries.contains_key(&id) {
                    order.push(id.clone());
                }
                entries.insert(
                    id.clone(),
                    Entry {
                        entry: id,
                        state: State::Unknown,
                        model,
                        spec,
                        request,
                        endpoint,
                        task_id: None,
                        submitted_at: event.at,
                        updated_at: event.at,
                        download_dir,
                        videos: Vec::new(),
                        paths: Vec::new(),
                        reason: Some(
                            "the process stopped between sending and the answer".to_owned(),
                        ),
                    },
                );
            }
            kind => {
                let Some(entry) = entries.get_mut(&id) else {
                    warnings.push(format!(
                        "line {}: an event for unknown entry {id} was ignored",
                        index + 1
                    ));
                    continue;
                };
                entry.updated_at = event.at;
                match kind {
                    EventKind::Intent { .. } => {}
                    EventKind::Submitted { task_id } => {
                        entry.task_id = Some(task_id);
                        entry.state = State::Running;
                        entry.reason = None;
                    }
                    EventKind::NotSent { reason } => {
                        entry.state = State::NotSent;
                        entry.reason = Some(reason);
                    }
                    EventKind::Unknown { reason } => {
                        entry.state = State::Unknown;
                        entry.reason = Some(reason);
                    }
                    EventKind::Outcome {
                        status,
                        videos,
                        error,
                    } => {
                        entry.state = if status == "succeeded" {
                            State::Succeeded
                        } else {
                            State::Failed
                        };
                        entry.videos = videos;
                        entry.reason = error;
                    }
                    EventKind::Downloaded { paths } => {
                        entry.state = State::Downloaded;
                        entry.paths = paths;
                    }
                }
            }
        }
    }
    Read {
        entries: order
            .into_iter()
            .filter_map(|id| entries.remove(&id))
            .collect(),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(label: &str) -> Journal {
        let path = std::env::temp_dir().join(format!(
            "vidspec-journal-{}-{label}.jsonl",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        Journal::at(path)
    }

    fn intent(journal: &Journal, entry: &str, request: &str) {
        journal
            .append(
                entry,
                EventKind::Intent {
                    model: "m".into(),
                    spec: "s".into(),
                    request: request.into(),
                    endpoint: "/v1/x".into(),
                    download_dir: None,
                },
            )
            .expect("append");
    }

    #[test]
    fn a_submission_moves_through_its_states() {
        let journal = temp("states");
        intent(&journal, "e1", "r1");
        assert_eq!(
            journal.read().expect("read").entries[0].state,
            State::Unknown
        );
        journal
            .append(
                "e1",
                EventKind::Submitted {
                    task_id: "task_1".into(),
                },
            )
            .expect("append");
        assert_eq!(
            journal.read().expect("read").entries[0].state,
            State::Running
        );
        journal
            .append(
                "e1",
                EventKind::Outcome {
                    status: "succeeded".into(),
                    videos: vec![],
                    error: None,
                },
            )
            .expect("append");
        assert_eq!(
            journal.read().expect("read").entries[0].state,
            State::Succeeded
        );
        journal
            .append(
                "e1",
                EventKind::Downloaded {
                    paths: vec!["v/a.mp4".into()],
                },
            )
            .expect("append");
        let entry = &journal.read().expect("read").entries[0];
        assert_eq!(
            (entry.state, entry.task_id.as_deref()),
            (State::Downloaded, Some("task_1"))
        );
        let _ = std::fs::remove_file(journal.path());
    }

    #[test]
    fn a_torn_last_line_is_reported_and_earlier_lines_survive() {
        let journal = temp("torn");
        intent(&journal, "e1", "r1");
        journal
            .append(
                "e1",
                EventKind::Submitted {
                    task_id: "task_1".into(),
                },
            )
            .expect("append");
        let mut file = OpenOptions::new()
            .append(true)
            .open(journal.path())
            .expect("open");
        file.write_all(br#"{"v":1,"entry":"e2","at":1,"event":"inte"#)
            .expect("torn write");
        let read = journal.read().expect("read");
        assert_eq!(read.entries.len(), 1);
        assert_eq!(read.entries[0].state, State::Running);
        assert_eq!(read.warnings.len(), 1);
        assert!(
            read.warnings[0].contains("torn last line"),
            "{:?}",
            read.warnings
        );
        // The next append starts on a fresh line, so nothing more is lost.
        intent(&journal, "e3", "r3");
        let read = journal.read().expect("read");
        assert_eq!(read.entries.len(), 2);
        assert!(
            read.warnings[0].contains("damaged line"),
            "{:?}",
            read.warnings
        );
        let _ = std::fs::remove_file(journal.path());
    }

    #[test]
    fn the_guard_finds_an_unfinished_identical_request() {
        let journal = temp("guard");
        intent(&journal, "e1", "same");
        journal
            .append(
                "e1",
                EventKind::Submitted {
                    task_id: "task_1".into(),
                },
            )
            .expect("append");
        assert!(
            journal
                .unfinished_with_request("same")
                .expect("read")
                .is_some()
        );
        assert!(
            journal
                .unfinished_with_request("other")
                .expect("read")
                .is_none()
        );
        journal
            .append(
                "e1",
                EventKind::Outcome {
                    status: "failed".into(),
                    videos: vec![],
                    error: Some("x".into()),
                },
            )
            .expect("append");
        assert!(
            journal
                .unfinished_with_request("same")
                .expect("read")
                .is_none()
        );
        let _ = std::fs::remove_file(journal.path());
    }

    #[test]
    fn a_missing_journal_is_empty() {
        let journal = temp("missing");
        assert_eq!(journal.read().expect("read"), Read::default());
    }
}
