//! The journal from a command's side: which file, the request key of the
//! double-spend guard, and turning transport results into journal events.
//!
//! Owns the rule that nothing is submitted without a durable intent in the
//! journal. Reading and folding events is vidspec-journal's; this module must
//! not write anything secret (no key, no request body).

use std::path::Path;

use serde_json::{Value, json};
use vidspec_core::Plan;
use vidspec_core::digest::{digest, digest_json};
use vidspec_journal::{Entry, EventKind, Journal, JournalError};
use vidspec_transport::Error;

use crate::cli::JournalArgs;
use crate::gateway::Finished;

/// The journal chosen by `--journal`, `$VIDSPEC_JOURNAL` or the default place.
pub fn journal(args: &JournalArgs) -> Journal {
    Journal::at(
        args.journal
            .clone()
            .unwrap_or_else(vidspec_journal::default_path),
    )
}

/// The key of a request for the double-spend guard: the endpoint and the
/// shaped body, with each local image standing for its file's contents (its
/// upload URL differs on every upload).
pub fn request_key(plan: &Plan, local_files: &[(String, String)]) -> anyhow::Result<String> {
    let mut files = Vec::new();
    for (pointer, path) in local_files {
        let bytes = std::fs::read(Path::new(path))
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

/// One submission's record in the journal.
pub struct Recorder {
    journal: Journal,
    entry: String,
}

impl Recorder {
    /// Writes the intent, durably, before anything is sent.
    pub fn intent(
        journal: &Journal,
        plan: &Plan,
        spec: &str,
        key: &str,
        download_dir: Option<&Path>,
    ) -> Result<Recorder, JournalError> {
        let entry = Journal::new_entry_id();
        journal.append(
            &entry,
            EventKind::Intent {
                model: plan.model().to_owned(),
                spec: spec.to_owned(),
                request: key.to_owned(),
                endpoint: plan.endpoint().path.clone(),
                download_dir: download_dir.map(|dir| dir.display().to_string()),
            },
        )?;
        Ok(Recorder {
            journal: journal.clone(),
            entry,
        })
    }

    /// A recorder for an entry already in the journal.
    pub fn existing(journal: &Journal, entry: &Entry) -> Recorder {
        Recorder {
            journal: journal.clone(),
            entry: entry.entry.clone(),
        }
    }

    fn write(&self, kind: EventKind) {
        if let Err(error) = self.journal.append(&self.entry, kind) {
            let error = crate::output::terminal(&error.to_string()).into_owned();
            eprintln!("warning: {error}; `vidspec tasks` will not show this step");
        }
    }

    /// The gateway accepted the submission.
    pub fn submitted(&self, task_id: &str) {
        self.write(EventKind::Submitted {
            task_id: task_id.to_owned(),
        });
    }

    /// The submission failed: provably not created, or unknown.
    pub fn submit_failed(&self, error: &Error) {
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
        self.write(if provably_not_created {
            EventKind::NotSent { reason }
        } else {
            EventKind::Unknown { reason }
        });
    }

    /// How waiting and downloading ended.
    pub fn finished(&self, finished: &Finished) {
        match &finished.outcome {
            Ok(outcome) => {
                let videos: Vec<Value> = outcome
                    .videos()
                    .iter()
                    .map(|video| json!({"url": video.url, "expires_at": video.expires_at}))
                    .collect();
                self.write(EventKind::Outcome {
                    status: "succeeded".to_owned(),
                    videos,
                    error: None,
                });
            }
            Err(Error::TaskFailed {
                snapshot, message, ..
            }) => {
                self.write(EventKind::Outcome {
                    status: snapshot.status.word().to_owned(),
                    videos: Vec::new(),
                    error: Some(message.clone()),
                });
            }
            Err(_) => {}
        }
        if let Ok(downloads) = &finished.downloads
            && !downloads.is_empty()
        {
            let paths = downloads
                .iter()
                .map(|download| download.path.display().to_string())
                .collect();
            self.write(EventKind::Downloaded { paths });
        }
    }
}
