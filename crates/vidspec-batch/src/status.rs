//! A run's state from the task store alone (`vidspec batch status`): the
//! newest entry of each job counted per state, what the run spent, the jobs
//! left `unknown`, and the workers holding leases.
//!
//! Owns that summary. It must not send anything or change the store.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use vidspec_journal::{Entry, LedgerError, State, TaskStore, all_run_entries};

/// A run as the task store holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunStatus {
    /// The run's name.
    pub run: String,
    /// Jobs with at least one entry.
    pub jobs: usize,
    /// Entries of the run in all (a job retried has several).
    pub entries: usize,
    /// Jobs per state of their newest entry (every state, zeros included).
    pub by_state: BTreeMap<State, usize>,
    /// The sum of the costs the gateway reported for the run's tasks.
    pub spent: f64,
    /// Jobs whose newest entry is `unknown`: the task may exist.
    pub unknown: Vec<UnknownJob>,
    /// Workers holding leases on unfinished entries of the run.
    pub workers: Vec<WorkerLeases>,
}

/// A job left `unknown`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnknownJob {
    /// The job id.
    pub job: String,
    /// The task store's entry.
    pub entry: String,
    /// Why it is unknown.
    pub reason: Option<String>,
    /// Whether it was sent with an idempotency key (a run resends it under
    /// that key; without one it is never sent again).
    pub resendable: bool,
}

/// A worker and the unfinished entries it holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerLeases {
    /// The worker's id.
    pub owner: String,
    /// Unfinished entries it holds.
    pub entries: usize,
    /// The latest end of its leases (Unix seconds of the store's clock).
    pub lease_until: Option<i64>,
}

/// The status of run `run`, read page by page from `store`.
pub async fn run_status(store: &dyn TaskStore, run: &str) -> Result<RunStatus, LedgerError> {
    let entries = all_run_entries(store, run).await?;
    Ok(summarise(run, &entries))
}

/// The status of a run from its entries, oldest first.
pub fn summarise(run: &str, entries: &[Entry]) -> RunStatus {
    let mut newest: HashMap<&str, &Entry> = HashMap::new();
    let mut spent = 0.0;
    let mut workers: BTreeMap<&str, WorkerLeases> = BTreeMap::new();
    for entry in entries {
        spent += entry.cost.filter(|cost| cost.is_finite()).unwrap_or(0.0);
        let job = entry
            .job
            .as_ref()
            .map_or(entry.entry.as_str(), |job| job.job.as_str());
        newest.insert(job, entry);
        if entry.state.is_unfinished()
            && let Some(owner) = &entry.owner
        {
            let worker = workers.entry(owner).or_insert_with(|| WorkerLeases {
                owner: owner.clone(),
                entries: 0,
                lease_until: None,
            });
            worker.entries += 1;
            worker.lease_until = worker.lease_until.max(entry.lease_until);
        }
    }
    let mut by_state: BTreeMap<State, usize> =
        State::ALL.into_iter().map(|state| (state, 0)).collect();
    let mut unknown = Vec::new();
    for (job, entry) in &newest {
        *by_state.entry(entry.state).or_insert(0) += 1;
        if entry.state == State::Unknown {
            unknown.push(UnknownJob {
                job: (*job).to_owned(),
                entry: entry.entry.clone(),
                reason: entry.reason.clone(),
                resendable: entry.idempotency_key.is_some(),
            });
        }
    }
    unknown.sort_by(|a, b| a.job.cmp(&b.job));
    RunStatus {
        run: run.to_owned(),
        jobs: newest.len(),
        entries: entries.len(),
        by_state,
        spent,
        unknown,
        workers: workers.into_values().collect(),
    }
}
