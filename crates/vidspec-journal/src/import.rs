//! The one-time import of a JSON-lines journal (what vidspec kept before the
//! ledger) into the ledger.
//!
//! Owns reading that file line by line as bytes, with a cap on a line's
//! length, so a damaged line (invalid UTF-8, bad JSON, a torn write) is
//! reported as `PATH:LINE: what is wrong; what to do` and skipped while every
//! other line survives. It never changes or deletes the file it reads.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use rusqlite::OptionalExtension;

use crate::entry::Intent;
use crate::error::LedgerError;
use crate::event::{Event, EventKind};
use crate::ledger::{Ledger, apply_step, insert_intent, now};

/// The longest journal line read, in bytes; a longer one is skipped (the
/// events vidspec wrote are well under 100 KiB).
pub const MAX_LINE_BYTES: usize = 1024 * 1024;
/// How many damaged lines an import reports one by one; the rest are counted.
pub const MAX_REPORTED_PROBLEMS: usize = 20;

/// What reading a damaged line's neighbours cannot fix: the advice every
/// problem ends with.
const WHAT_TO_DO: &str = "the line was skipped and the file left as it was; if it recorded a \
                          submission, check the gateway's console for a task it may have created";

/// What an import did.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The JSON-lines journal read.
    pub source: PathBuf,
    /// Submissions imported.
    pub entries: u64,
    /// The first [`MAX_REPORTED_PROBLEMS`] damaged lines, each
    /// `PATH:LINE: what is wrong; what to do`.
    pub problems: Vec<String>,
    /// Damaged lines beyond those.
    pub more_problems: u64,
}

impl Ledger {
    /// Imports the JSON-lines journal at `source` once: `None` if it does not
    /// exist or was imported before (by any process).
    pub fn import_jsonl(&self, source: &Path) -> Result<Option<Imported>, LedgerError> {
        let file = match File::open(source) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(import_error(source, "cannot open it", error)),
        };
        let key = std::fs::canonicalize(source)
            .unwrap_or_else(|_| source.to_path_buf())
            .display()
            .to_string();
        let connection = self.connection();
        if self.imported_before(&connection, &key)? {
            return Ok(None);
        }
        let transaction = self.immediate(&connection)?;
        // Another process may have imported it while this one waited.
        if self.imported_before(&connection, &key)? {
            return Ok(None);
        }
        let mut imported = Imported {
            source: source.to_path_buf(),
            entries: 0,
            problems: Vec::new(),
            more_problems: 0,
        };
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        let mut number = 0u64;
        while let Some(read) = read_line(&mut reader, &mut line, MAX_LINE_BYTES)
            .map_err(|error| import_error(source, "cannot read it", error))?
        {
            number += 1;
            let problem = match self.import_line(&transaction, &line, read) {
                Ok(Some(inserted)) => {
                    imported.entries += inserted;
                    continue;
                }
                Ok(None) => continue,
                Err(LineProblem::Ledger(error)) => return Err(error),
                Err(LineProblem::Damaged(what)) => what,
            };
            if imported.problems.len() < MAX_REPORTED_PROBLEMS {
                imported.problems.push(format!(
                    "{}:{number}: {problem}; {WHAT_TO_DO}",
                    source.display()
                ));
            } else {
                imported.more_problems += 1;
            }
        }
        transaction
            .execute(
                "INSERT INTO imports (source, entries, imported_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![
                    key,
                    i64::try_from(imported.entries).unwrap_or(i64::MAX),
                    now()
                ],
            )
            .map_err(|error| self.error(error))?;
        transaction.commit().map_err(|error| self.error(error))?;
        Ok(Some(imported))
    }

    fn imported_before(
        &self,
        connection: &rusqlite::Connection,
        key: &str,
    ) -> Result<bool, LedgerError> {
        connection
            .query_row("SELECT 1 FROM imports WHERE source = ?1", [key], |_| Ok(()))
            .optional()
            .map(|found| found.is_some())
            .map_err(|error| self.error(error))
    }

    /// Imports one line: `Some(1)` for a new submission, `Some(0)` for a
    /// step, `None` for a blank line.
    fn import_line(
        &self,
        connection: &rusqlite::Connection,
        line: &[u8],
        read: LineRead,
    ) -> Result<Option<u64>, LineProblem> {
        if read == LineRead::TooLong {
            return Err(LineProblem::Damaged(format!(
                "a line longer than {} MiB is not a journal event (the file is damaged)",
                MAX_LINE_BYTES / (1024 * 1024)
            )));
        }
        let text = match std::str::from_utf8(line) {
            Ok(text) => text,
            Err(error) => {
                return Err(LineProblem::Damaged(format!(
                    "invalid UTF-8 at byte {} of the line (a damaged or torn write)",
                    error.valid_up_to() + 1
                )));
            }
        };
        if text.trim().is_empty() {
            return Ok(None);
        }
        let event: Event = serde_json::from_str(text).map_err(|error| {
            LineProblem::Damaged(if read == LineRead::Unterminated {
                format!(
                    "a torn last line ({} bytes): a write was cut short (the process stopped \
                     mid-write); earlier lines are intact",
                    line.len()
                )
            } else {
                format!("not a journal event ({error})")
            })
        })?;
        let sqlite = |error| LineProblem::Ledger(self.error(error));
        match event.kind {
            EventKind::Intent {
                model,
                spec,
                request,
                endpoint,
                download_dir,
            } => {
                let intent = Intent {
                    model,
                    spec,
                    request,
                    endpoint,
                    download_dir,
                    idempotency_key: None,
                    body: None,
                    ..Default::default()
                };
                let inserted =
                    insert_intent(connection, &event.entry, &intent, event.at).map_err(sqlite)?;
                Ok(Some(u64::try_from(inserted).unwrap_or(0)))
            }
            kind => {
                let Some(step) = kind.into_step() else {
                    return Ok(None);
                };
                let changed =
                    apply_step(connection, &event.entry, &step, event.at).map_err(sqlite)?;
                if changed == 0 {
                    return Err(LineProblem::Damaged(format!(
                        "an event for entry {} with no intent before it",
                        event.entry
                    )));
                }
                Ok(Some(0))
            }
        }
    }
}

enum LineProblem {
    /// The line is skipped.
    Damaged(String),
    /// The ledger failed: the import stops (and is rolled back).
    Ledger(LedgerError),
}

fn import_error(source: &Path, what: &str, error: std::io::Error) -> LedgerError {
    LedgerError::Io {
        path: source.to_owned(),
        problem: format!(
            "{what}; the journal is imported when it can be read (move it aside to start \
             without it)"
        ),
        source: Some(error),
    }
}

/// How a line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineRead {
    /// With a newline.
    Complete,
    /// At the end of the file without a newline.
    Unterminated,
    /// Longer than the cap: `line` holds only its start, the rest was skipped
    /// without being kept.
    TooLong,
}

/// Reads the next line (without its newline) into `line`, keeping at most
/// `cap` bytes of it; `None` at the end of the file.
fn read_line(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<Option<LineRead>> {
    line.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok(match (any, too_long) {
                (false, _) => None,
                (true, true) => Some(LineRead::TooLong),
                (true, false) => Some(LineRead::Unterminated),
            });
        }
        any = true;
        let newline = available.iter().position(|&byte| byte == b'\n');
        let taken = newline.unwrap_or(available.len());
        let room = cap.saturating_sub(line.len());
        if taken > room {
            too_long = true;
        }
        line.extend_from_slice(&available[..taken.min(room)]);
        let consumed = newline.map_or(taken, |at| at + 1);
        reader.consume(consumed);
        if newline.is_some() {
            return Ok(Some(if too_long {
                LineRead::TooLong
            } else {
                LineRead::Complete
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_line_keeps_at_most_the_cap_and_skips_the_rest_of_a_long_line() {
        let mut reader = BufReader::with_capacity(4, &b"abcdefghij\nxy\nlast"[..]);
        let mut line = Vec::new();
        assert_eq!(
            read_line(&mut reader, &mut line, 5).expect("read"),
            Some(LineRead::TooLong)
        );
        assert_eq!(line, b"abcde");
        assert_eq!(
            read_line(&mut reader, &mut line, 5).expect("read"),
            Some(LineRead::Complete)
        );
        assert_eq!(line, b"xy");
        assert_eq!(
            read_line(&mut reader, &mut line, 5).expect("read"),
            Some(LineRead::Unterminated)
        );
        assert_eq!(line, b"last");
        assert_eq!(read_line(&mut reader, &mut line, 5).expect("read"), None);
    }
}
