//! One submission's record in the task store, from the claim on: what each
//! transport result becomes as a ledger step.
//!
//! Owns the rule that nothing is submitted without a durable intent, and
//! which failures prove a task was not created. It holds no body and no key.

use std::sync::Arc;

use serde_json::{Value, json};
use vidspec_journal::{Claim, Entry, Guard, Intent, LedgerError, Step, TaskStore};
use vidspec_transport::{Downloaded, Error, Outcome};

/// One submission's record: the store and its entry id. Cheap to clone and
/// `'static`, so a spawned task can record the answer of a submit.
#[derive(Clone)]
pub struct Recorder {
    store: Arc<dyn TaskStore>,
    entry: String,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Recorder")
            .field("store", &self.store.location())
            .field("entry", &self.entry)
            .finish()
    }
}

impl Recorder {
    /// The double-spend guard and the intent as one atomic step: `Err` with
    /// the earlier entry `guard` counts, else the intent is durable and the
    /// request may be sent.
    pub async fn claim(
        store: Arc<dyn TaskStore>,
        intent: Intent,
        guard: Guard,
    ) -> Result<Result<Recorder, Entry>, LedgerError> {
        Ok(match store.claim(intent, guard).await? {
            Claim::Claimed(entry) => Ok(Recorder { store, entry }),
            Claim::Duplicate(entry) => Err(*entry),
        })
    }

    /// A recorder for an entry already in the store.
    pub fn existing(store: Arc<dyn TaskStore>, entry: &Entry) -> Recorder {
        Recorder {
            store,
            entry: entry.entry.clone(),
        }
    }

    /// A recorder for the entry with this id.
    pub fn for_entry(store: Arc<dyn TaskStore>, entry: String) -> Recorder {
        Recorder { store, entry }
    }

    /// The entry id.
    pub fn entry(&self) -> &str {
        &self.entry
    }

    /// The gateway accepted the submission.
    pub async fn submitted(&self, task_id: &str) -> Result<(), LedgerError> {
        let step = Step::Submitted {
            task_id: task_id.to_owned(),
        };
        self.store.record(self.entry.clone(), step).await
    }

    /// After [`Recorder::submitted`] failed with `error`: one more try (a
    /// lock may have gone, space may have been freed) to leave the true
    /// cause, with the task id, as the entry's reason. Whether it worked.
    pub async fn record_true_cause(&self, task_id: &str, error: &LedgerError) -> bool {
        let reason = format!(
            "the gateway accepted it as task {task_id}, but recording that failed: {error}; \
             `vidspec wait {task_id}` waits for it"
        );
        self.store
            .record(self.entry.clone(), Step::Unknown { reason })
            .await
            .is_ok()
    }

    /// The submission failed: provably not created, or unknown.
    pub async fn submit_failed(&self, error: &Error) -> Result<(), LedgerError> {
        self.store
            .record(self.entry.clone(), step_of_failed_submit(error))
            .await
    }

    /// How waiting ended (nothing is recorded for a wait that stopped
    /// without an outcome: the task is still running as far as anyone knows).
    pub async fn outcome(&self, outcome: &Result<Outcome, Error>) -> Result<(), LedgerError> {
        match step_of_outcome(outcome) {
            Some(step) => self.store.record(self.entry.clone(), step).await,
            None => Ok(()),
        }
    }

    /// Videos saved (nothing is recorded for none).
    pub async fn downloaded(&self, downloads: &[Downloaded]) -> Result<(), LedgerError> {
        if downloads.is_empty() {
            return Ok(());
        }
        let paths = downloads
            .iter()
            .map(|download| download.path.display().to_string())
            .collect();
        self.store
            .record(self.entry.clone(), Step::Downloaded { paths })
            .await
    }

    /// How waiting and downloading ended. Every step is tried; the first
    /// failure is returned.
    pub async fn finished(
        &self,
        outcome: &Result<Outcome, Error>,
        downloads: &Result<Vec<Downloaded>, Error>,
    ) -> Result<(), LedgerError> {
        let recorded = self.outcome(outcome).await;
        match downloads {
            Ok(downloads) => recorded.and(self.downloaded(downloads).await),
            Err(_) => recorded,
        }
    }
}

/// The ledger step for a submit that failed: `not_sent` when the error
/// proves no task was created, else `unknown`.
pub fn step_of_failed_submit(error: &Error) -> Step {
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
    if provably_not_created {
        Step::NotSent { reason }
    } else {
        Step::Unknown { reason }
    }
}

/// The ledger step for how a wait ended, if it ended with an outcome.
pub fn step_of_outcome(outcome: &Result<Outcome, Error>) -> Option<Step> {
    match outcome {
        Ok(outcome) => Some(Step::Outcome {
            status: "succeeded".to_owned(),
            videos: outcome
                .videos()
                .iter()
                .map(|video| json!({"url": video.url, "expires_at": video.expires_at}))
                .collect::<Vec<Value>>(),
            error: None,
            cost: outcome.snapshot.cost,
        }),
        Err(Error::TaskFailed {
            snapshot, message, ..
        }) => Some(Step::Outcome {
            status: snapshot.status.word().to_owned(),
            videos: Vec::new(),
            error: Some(message.clone()),
            cost: snapshot.cost,
        }),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use vidspec_journal::{Page, PageRequest, StateFilter, StoreFuture};

    use super::*;

    /// A store whose every step fails as a full disk would, remembering what
    /// it was asked to record.
    #[derive(Default)]
    struct FullDisk {
        asked: Mutex<Vec<Step>>,
    }

    fn full() -> LedgerError {
        LedgerError::Io {
            path: "/state/ledger.sqlite3".into(),
            problem: "cannot write: the disk is full".to_owned(),
            source: None,
        }
    }

    impl TaskStore for FullDisk {
        fn location(&self) -> String {
            "/state/ledger.sqlite3".to_owned()
        }
        fn claim(&self, _: Intent, _: Guard) -> StoreFuture<'_, Claim> {
            Box::pin(async { Ok(Claim::Claimed("j1".to_owned())) })
        }
        fn record(&self, _: String, step: Step) -> StoreFuture<'_, ()> {
            if let Ok(mut asked) = self.asked.lock() {
                asked.push(step);
            }
            Box::pin(async { Err(full()) })
        }
        fn unfinished_with_request(&self, _: String) -> StoreFuture<'_, Option<Entry>> {
            Box::pin(async { Ok(None) })
        }
        fn find_by_task_id(&self, _: String) -> StoreFuture<'_, Option<Entry>> {
            Box::pin(async { Ok(None) })
        }
        fn unfinished(&self, _: StateFilter, _: PageRequest) -> StoreFuture<'_, Page> {
            Box::pin(async {
                Ok(Page {
                    entries: Vec::new(),
                    next: None,
                })
            })
        }
        fn finished(
            &self,
            _: StateFilter,
            _: Option<u64>,
            _: PageRequest,
        ) -> StoreFuture<'_, Page> {
            Box::pin(async {
                Ok(Page {
                    entries: Vec::new(),
                    next: None,
                })
            })
        }
        fn count_finished(&self, _: StateFilter) -> StoreFuture<'_, u64> {
            Box::pin(async { Ok(0) })
        }
        fn latest_with_request(&self, _: String) -> StoreFuture<'_, Option<Entry>> {
            Box::pin(async { Ok(None) })
        }
        fn renew_leases(&self, _: String, _: u32) -> StoreFuture<'_, u64> {
            Box::pin(async { Err(full()) })
        }
        fn take_over(&self, _: String, _: String, _: u32, _: usize) -> StoreFuture<'_, Vec<Entry>> {
            Box::pin(async { Err(full()) })
        }
        fn release_leases(&self, _: String) -> StoreFuture<'_, u64> {
            Box::pin(async { Err(full()) })
        }
        fn run_entries(&self, _: String, _: PageRequest) -> StoreFuture<'_, Page> {
            Box::pin(async { Err(full()) })
        }
        fn learned_prices(&self) -> StoreFuture<'_, Vec<vidspec_journal::LearnedPrice>> {
            Box::pin(async { Ok(Vec::new()) })
        }
    }

    #[tokio::test]
    async fn a_submitted_task_the_store_cannot_record_is_an_error_and_the_true_cause_is_tried_once_more()
     {
        let store = Arc::new(FullDisk::default());
        let recorder = Recorder::for_entry(store.clone(), "j1".to_owned());
        let error = recorder
            .submitted("task_42")
            .await
            .expect_err("the disk is full");
        assert!(error.to_string().contains("disk is full"), "{error}");
        assert!(!recorder.record_true_cause("task_42", &error).await);
        let asked = store
            .asked
            .lock()
            .map(|asked| asked.clone())
            .unwrap_or_default();
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
}
