//! The ledger from a command's side: which file (and the one-time import of
//! an older journal), the request key of the double-spend guard, and turning
//! transport results into ledger steps.
//!
//! Owns the rule that nothing is submitted without a durable intent in the
//! ledger, and what a command says when the ledger cannot record a task that
//! exists. Storage is vidspec-journal's; this module must not write anything
//! secret (no key, no request body).

use std::path::Path;

use serde_json::{Value, json};
use vidspec_core::Plan;
use vidspec_core::digest::{digest, digest_json};
use vidspec_journal::{Claim, Entry, Intent, Ledger, LedgerError, Step, TaskStore};
use vidspec_transport::Error;

use crate::cli::JournalArgs;
use crate::gateway::Finished;

/// The ledger chosen by `--journal`, `$VIDSPEC_JOURNAL` or the default place,
/// with an older JSON-lines journal imported into it the first time (said on
/// stderr, each damaged line as `PATH:LINE: what; what to do`).
pub fn ledger(args: &JournalArgs) -> Result<Ledger, LedgerError> {
    let location = vidspec_journal::locate(args.journal.as_deref());
    let ledger = Ledger::open(&location.ledger)?;
    if let Some(legacy) = &location.legacy
        && let Some(imported) = ledger.import_jsonl(legacy)?
    {
        for problem in &imported.problems {
            eprintln!("warning: {problem}");
        }
        if imported.more_problems > 0 {
            eprintln!(
                "warning: {}: {} more damaged lines were skipped",
                legacy.display(),
                imported.more_problems
            );
        }
        eprintln!(
            "note: imported {} entries from {} into {}",
            imported.entries,
            legacy.display(),
            ledger.path().display()
        );
    }
    Ok(ledger)
}

/// The key of a request for the double-spend guard: the endpoint and the
/// shaped body, with each local image standing for its file's contents (its
/// upload URL differs on every upload).
pub fn request_key(plan: &Plan, local_files: &[(String, String)]) -> anyhow::Result<String> {
    let mut files = Vec::new();
    for (pointer, path) in local_files {
        // The one bounded reader of local images: a regular file, at most the
        // upload limit, never a FIFO or a device.
        let bytes = vidspec_transport::read_local_image(Path::new(path))
            .map_err(|error| anyhow::anyhow!("cannot read {path} (for {pointer}): {error}"))?;
        files.push(json!([pointer, digest(&bytes)]));
    }
    Ok(digest_json(&json!({
        "endpoint": plan.endpoint().path,
        "model": plan.model(),
        "body": plan.body(),
        "local_files": files,
    })))
}

/// The refusal of an identical unfinished request (exit 2).
pub fn duplicate_message(entry: &Entry) -> String {
    let task = entry.task_id.as_deref().unwrap_or("task id unknown");
    format!(
        "an identical request is already in the ledger as {} ({task}, entry {}): \
         `vidspec resume` waits for it and saves its videos; pass --again to pay for another",
        entry.state.name(),
        entry.entry
    )
}

/// A shell word for `text`: as is when it is plain, else single-quoted; a
/// control character (a terminal escape from a gateway's task id) is written
/// as `$'\xNN'` so it never reaches the terminal raw.
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&byte));
    if plain {
        return text.to_owned();
    }
    let mut word = String::from("'");
    for character in text.chars() {
        match character {
            '\'' => word.push_str(r"'\''"),
            control if control.is_control() => {
                let mut bytes = [0u8; 4];
                word.push('\'');
                for byte in control.encode_utf8(&mut bytes).bytes() {
                    word.push_str(&format!("$'\\x{byte:02x}'"));
                }
                word.push('\'');
            }
            other => word.push(other),
        }
    }
    word.push('\'');
    word
}

/// The command that waits for `task_id` (and saves its videos into `download`).
pub fn wait_command(task_id: &str, model: &str, download: Option<&Path>) -> String {
    let mut command = format!(
        "vidspec wait {} --model {}",
        shell_word(task_id),
        shell_word(model)
    );
    let dir = download.map_or_else(
        || "DIR".to_owned(),
        |dir| shell_word(&dir.display().to_string()),
    );
    command.push_str(" --download ");
    command.push_str(&dir);
    command
}

/// What to say when a task exists but the ledger could not record it.
pub fn unrecorded_message(
    error: &LedgerError,
    task_id: &str,
    model: &str,
    download: Option<&Path>,
) -> String {
    format!(
        "the gateway accepted task {task_id} ({model}) and will charge it, but the ledger could \
         not record it; do not submit it again: `{}` waits for it and saves its videos \
         (the ledger's error: {error})",
        wait_command(task_id, model, download)
    )
}

/// One submission's record in the ledger.
pub struct Recorder<'a> {
    store: &'a dyn TaskStore,
    entry: String,
}

impl<'a> Recorder<'a> {
    /// The double-spend guard and the intent as one atomic step: `Err` with
    /// the identical unfinished entry (unless `again`), else the intent is
    /// on disk and the request may be sent.
    pub fn claim(
        store: &'a dyn TaskStore,
        plan: &Plan,
        spec: &str,
        key: &str,
        download_dir: Option<&Path>,
        again: bool,
    ) -> Result<Result<Recorder<'a>, Entry>, LedgerError> {
        let intent = Intent {
            model: plan.model().to_owned(),
            spec: spec.to_owned(),
            request: key.to_owned(),
            endpoint: plan.endpoint().path.clone(),
            download_dir: download_dir.map(|dir| dir.display().to_string()),
        };
        Ok(match store.claim(&intent, again)? {
            Claim::Claimed(entry) => Ok(Recorder { store, entry }),
            Claim::Duplicate(entry) => Err(*entry),
        })
    }

    /// A recorder for an entry already in the ledger.
    pub fn existing(store: &'a dyn TaskStore, entry: &Entry) -> Recorder<'a> {
        Recorder {
            store,
            entry: entry.entry.clone(),
        }
    }

    /// The gateway accepted the submission.
    pub fn submitted(&self, task_id: &str) -> Result<(), LedgerError> {
        let step = Step::Submitted {
            task_id: task_id.to_owned(),
        };
        self.store.record(&self.entry, &step)
    }

    /// After [`Recorder::submitted`] failed with `error`: one more try (a
    /// lock may have gone, space may have been freed) to leave the true cause,
    /// with the task id, as the entry's reason. Whether it worked.
    pub fn record_true_cause(&self, task_id: &str, error: &LedgerError) -> bool {
        let reason = format!(
            "the gateway accepted it as task {task_id}, but recording that failed: {error}; \
             `vidspec wait {task_id}` waits for it"
        );
        self.store
            .record(&self.entry, &Step::Unknown { reason })
            .is_ok()
    }

    /// The submission failed: provably not created, or unknown.
    pub fn submit_failed(&self, error: &Error) -> Result<(), LedgerError> {
        let reason = error.to_string();
        let provably_not_created = error.is_safe_to_resubmit()
            || matches!(
                error,
                Error::Unauthorized { .. }
                    | Error::PaymentRequired { .. }
                    | Error::Rejected {
                        status: 400..=499,
                        ..
                    }
                    | Error::Config(_)
            );
        self.store.record(
            &self.entry,
            &if provably_not_created {
                Step::NotSent { reason }
            } else {
                Step::Unknown { reason }
            },
        )
    }

    /// How waiting and downloading ended. Every step is tried; the first
    /// failure is returned.
    pub fn finished(&self, finished: &Finished) -> Result<(), LedgerError> {
        let mut result = Ok(());
        let outcome = match &finished.outcome {
            Ok(outcome) => Some(Step::Outcome {
                status: "succeeded".to_owned(),
                videos: outcome
                    .videos()
                    .iter()
                    .map(|video| json!({"url": video.url, "expires_at": video.expires_at}))
                    .collect::<Vec<Value>>(),
                error: None,
            }),
            Err(Error::TaskFailed {
                snapshot, message, ..
            }) => Some(Step::Outcome {
                status: snapshot.status.word().to_owned(),
                videos: Vec::new(),
                error: Some(message.clone()),
            }),
            Err(_) => None,
        };
        if let Some(step) = outcome {
            result = self.store.record(&self.entry, &step);
        }
        if let Ok(downloads) = &finished.downloads
            && !downloads.is_empty()
        {
            let paths = downloads
                .iter()
                .map(|download| download.path.display().to_string())
                .collect();
            let recorded = self.store.record(&self.entry, &Step::Downloaded { paths });
            result = result.and(recorded);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use vidspec_journal::{StateFilter, Visit};

    use super::*;

    /// A store whose every step fails as a full disk would, remembering what
    /// it was asked to record.
    #[derive(Default)]
    struct FullDisk {
        asked: RefCell<Vec<Step>>,
    }

    impl TaskStore for FullDisk {
        fn location(&self) -> String {
            "/state/ledger.sqlite3".to_owned()
        }
        fn claim(&self, _: &Intent, _: bool) -> Result<Claim, LedgerError> {
            Ok(Claim::Claimed("j1".to_owned()))
        }
        fn record(&self, _: &str, step: &Step) -> Result<(), LedgerError> {
            self.asked.borrow_mut().push(step.clone());
            Err(LedgerError::Io {
                path: self.location().into(),
                problem: "cannot write: the disk is full".to_owned(),
                source: None,
            })
        }
        fn unfinished_with_request(&self, _: &str) -> Result<Option<Entry>, LedgerError> {
            Ok(None)
        }
        fn find_by_task_id(&self, _: &str) -> Result<Option<Entry>, LedgerError> {
            Ok(None)
        }
        fn unfinished(&self, _: StateFilter, _: Visit<'_>) -> Result<(), LedgerError> {
            Ok(())
        }
        fn finished(
            &self,
            _: StateFilter,
            _: Option<u64>,
            _: Visit<'_>,
        ) -> Result<(), LedgerError> {
            Ok(())
        }
        fn count_finished(&self, _: StateFilter) -> Result<u64, LedgerError> {
            Ok(0)
        }
    }

    #[test]
    fn a_submitted_task_the_ledger_cannot_record_is_an_error_that_tries_to_record_the_true_cause() {
        let store = FullDisk::default();
        let recorder = Recorder {
            store: &store,
            entry: "j1".to_owned(),
        };
        let error = recorder.submitted("task_42").expect_err("the disk is full");
        assert!(error.to_string().contains("disk is full"), "{error}");
        assert!(!recorder.record_true_cause("task_42", &error));
        let asked = store.asked.borrow();
        assert_eq!(asked.len(), 2, "{asked:?}");
        match &asked[1] {
            Step::Unknown { reason } => {
                assert!(
                    reason.contains("task_42") && reason.contains("disk is full"),
                    "{reason}"
                );
            }
            other => panic!("expected the true cause as an unknown step, got {other:?}"),
        }
    }

    #[test]
    fn the_unrecorded_message_names_the_task_and_the_command_that_waits_for_it() {
        let error = LedgerError::Io {
            path: "/state/ledger.sqlite3".into(),
            problem: "cannot write: the disk is full".to_owned(),
            source: None,
        };
        let message = unrecorded_message(
            &error,
            "task_42",
            "veo3.1-fast",
            Some(Path::new("my videos")),
        );
        assert!(message.contains("task_42"), "{message}");
        assert!(message.contains("disk is full"), "{message}");
        assert!(message.contains("do not submit it again"), "{message}");
        assert!(
            message.contains("`vidspec wait task_42 --model veo3.1-fast --download 'my videos'`"),
            "{message}"
        );
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed_and_quotes_survive() {
        assert_eq!(shell_word("videos/out-1"), "videos/out-1");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("$(rm -rf ~)"), "'$(rm -rf ~)'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("t\u{1b}[2J"), r"'t'$'\x1b''[2J'");
        assert_eq!(shell_word("a\u{85}"), r"'a'$'\xc2'$'\x85'''");
    }
}
