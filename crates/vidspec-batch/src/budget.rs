//! The budget of a batch run: a limit in USD that what was spent plus what
//! is in flight never passes.
//!
//! Owns the accounting (spent, in-flight estimates per job) and the one
//! decision "may this job be sent". Amounts are kept in whole micro-USD, so
//! "exactly at the limit" is exact (0.4 × 3 is 1.2, not 1.2000000000000002).
//! One lock guards the check and the reservation together, so concurrent
//! workers of one process never pass the limit between them.
//!
//! It must not send, poll or read the ledger: the runner tells it what the
//! ledger already cost ([`Budget::start_from`]) and what each job cost when
//! it ended ([`Budget::settle`]). Workers in other processes keep their own
//! budgets; one limit holds across them only as far as each re-reads the
//! run's entries from the shared ledger and hands over their [`tally`]
//! ([`Budget::sync`]): between syncs, each counts the others' work as it
//! last saw it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use vidspec_core::Charge;
use vidspec_core::text::short;
use vidspec_journal::{Entry, State as EntryState};

use crate::prices::{PriceBook, format_usd, micros, usd, yaml_quote};

/// A run's budget, shared by its workers as `Arc<Budget>`.
#[derive(Debug)]
pub struct Budget {
    /// The limit in micro-USD.
    limit: u64,
    prices: PriceBook,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// What ended jobs cost, in micro-USD.
    spent: u64,
    /// The estimate of each job sent (or about to be) that has not ended.
    in_flight: HashMap<String, u64>,
    /// The estimate of what other workers have in flight, as the ledger
    /// last said ([`Budget::sync`]).
    elsewhere: u64,
}

impl State {
    /// What is in flight here and elsewhere.
    fn in_flight(&self) -> u64 {
        self.in_flight
            .values()
            .fold(self.elsewhere, |sum, estimate| {
                sum.saturating_add(*estimate)
            })
    }
}

/// Where a budget stands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BudgetSnapshot {
    /// The limit in USD.
    pub limit: f64,
    /// What ended jobs cost in USD (as reported, else as estimated).
    pub spent: f64,
    /// The estimates of the jobs in flight, in USD (this worker's and, after
    /// a [`Budget::sync`], the other workers').
    pub in_flight: f64,
    /// How many of this worker's jobs are in flight.
    pub jobs_in_flight: usize,
}

impl BudgetSnapshot {
    /// What is left for new jobs: the limit less what was spent and what is
    /// in flight (never below zero).
    pub fn remaining(&self) -> f64 {
        usd(micros(self.limit)
            .saturating_sub(micros(self.spent).saturating_add(micros(self.in_flight))))
    }
}

/// Why a job may not be sent within the budget.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BudgetStop {
    /// Sending the job would pass the limit.
    #[error(
        "the budget of {} is reached: {} spent and {} in flight, and job {} would cost {} more; raise the budget to send it",
        format_usd(*.limit), format_usd(*.spent), format_usd(*.in_flight), short(.job), format_usd(*.next)
    )]
    Exhausted {
        /// The job that was not sent.
        job: String,
        /// The limit in USD.
        limit: f64,
        /// What ended jobs cost in USD.
        spent: f64,
        /// The estimates of the jobs in flight, in USD.
        in_flight: f64,
        /// What the job would cost, in USD.
        next: f64,
    },
    /// The job's billing key has no price, so its cost cannot be counted.
    #[error(
        "job {} is billed under {}, which has no price, and a budget cannot be kept without one ({} spent and {} in flight so far): add a line `{}: <USD>` to the price file",
        short(.job), yaml_quote(.key), format_usd(*.spent), format_usd(*.in_flight), yaml_quote(.key)
    )]
    Unpriced {
        /// The job that was not sent.
        job: String,
        /// Its billing key.
        key: String,
        /// What ended jobs cost in USD.
        spent: f64,
        /// The estimates of the jobs in flight, in USD.
        in_flight: f64,
    },
}

/// What a run's ledger entries say about its money ([`tally`]).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct LedgerTally {
    /// What the ended entries cost, in USD: the reported cost, else (an
    /// entry that ended with videos but no reported cost) its estimate.
    pub spent: f64,
    /// The estimates of the entries other workers have in flight (sent or
    /// maybe sent, not ended), in USD.
    pub in_flight_elsewhere: f64,
    /// How many entries in flight elsewhere have no price (counted as 0).
    pub unpriced_elsewhere: usize,
}

/// Tallies a run's ledger entries ([`vidspec_journal::all_run_entries`]):
/// what they cost, and what the entries of workers other than `me` have in
/// flight (`unknown` and `running` entries count: their task may exist).
/// Entries `me` owns are left out of the in-flight figure: this worker's
/// budget holds them ([`Budget::reserve`], [`Budget::adopt`]).
pub fn tally(entries: &[Entry], prices: &PriceBook, me: &str) -> LedgerTally {
    let mut spent: u64 = 0;
    let mut elsewhere: u64 = 0;
    let mut unpriced_elsewhere = 0;
    for entry in entries {
        let estimate = || {
            entry.billing.as_ref().and_then(|billing| {
                prices.estimate_micros(&Charge {
                    key: billing.key.clone(),
                    multiplier: billing.multiplier,
                })
            })
        };
        match (entry.cost, entry.state) {
            (Some(cost), _) => spent = spent.saturating_add(micros(cost)),
            (None, EntryState::Succeeded | EntryState::Downloaded) => {
                spent = spent.saturating_add(estimate().unwrap_or(0));
            }
            (None, EntryState::Unknown | EntryState::Running)
                if entry.owner.as_deref() != Some(me) =>
            {
                match estimate() {
                    Some(estimate) => elsewhere = elsewhere.saturating_add(estimate),
                    None => unpriced_elsewhere += 1,
                }
            }
            (None, _) => {}
        }
    }
    LedgerTally {
        spent: usd(spent),
        in_flight_elsewhere: usd(elsewhere),
        unpriced_elsewhere,
    }
}

impl Budget {
    /// A budget of `limit` USD priced by `prices`. A limit that is not a
    /// finite amount of zero or more is taken as 0: nothing may be sent.
    pub fn new(limit: f64, prices: PriceBook) -> Budget {
        Budget {
            limit: micros(limit),
            prices,
            state: Mutex::new(State::default()),
        }
    }

    /// The prices the budget estimates with.
    pub fn prices(&self) -> &PriceBook {
        &self.prices
    }

    /// Sets what was spent before this process started: the reported costs
    /// of the run's ended ledger entries (replacing any earlier figure;
    /// [`Budget::sync`] also counts other workers' jobs in flight).
    pub fn start_from(&self, spent: f64) {
        self.lock().spent = micros(spent);
    }

    /// Takes what the run's ledger says (see [`tally`]): what its ended
    /// entries cost replaces what was spent, and what other workers have in
    /// flight counts against the limit, so that several processes sharing a
    /// ledger keep one budget between them (each as exact as its last sync).
    pub fn sync(&self, tally: &LedgerTally) {
        let mut state = self.lock();
        state.spent = micros(tally.spent);
        state.elsewhere = micros(tally.in_flight_elsewhere);
    }

    /// Reserves the estimate of `charge` for `job` before it is sent.
    /// Refused when the key has no price, or when what was spent, what is in
    /// flight and this estimate together would pass the limit (reaching it
    /// exactly is allowed). Reserving a job again replaces its reservation.
    pub fn reserve(&self, job: &str, charge: &Charge) -> Result<(), BudgetStop> {
        let mut state = self.lock();
        let Some(next) = self.estimate_micros(charge) else {
            return Err(BudgetStop::Unpriced {
                job: job.to_owned(),
                key: charge.key.clone(),
                spent: usd(state.spent),
                in_flight: usd(state.in_flight()),
            });
        };
        let others = state
            .in_flight()
            .saturating_sub(state.in_flight.get(job).copied().unwrap_or(0));
        let total = state.spent.saturating_add(others).saturating_add(next);
        if total > self.limit {
            return Err(BudgetStop::Exhausted {
                job: job.to_owned(),
                limit: usd(self.limit),
                spent: usd(state.spent),
                in_flight: usd(others),
                next: usd(next),
            });
        }
        state.in_flight.insert(job.to_owned(), next);
        Ok(())
    }

    /// Counts a job that was already sent (by an earlier process, or a
    /// worker whose lease ended) as in flight, without asking: its money is
    /// committed whatever the budget says. A key without a price counts 0.
    pub fn adopt(&self, job: &str, charge: &Charge) {
        let estimate = self.estimate_micros(charge).unwrap_or(0);
        self.lock().in_flight.insert(job.to_owned(), estimate);
    }

    /// A job ended: its in-flight estimate is replaced by what the gateway
    /// reported it cost (a failed task's reported cost, often 0). Without a
    /// reported cost the estimate is counted as spent. A job that was never
    /// reserved adds its reported cost. A reported cost that is not a finite
    /// amount of zero or more counts as not reported.
    pub fn settle(&self, job: &str, cost: Option<f64>) {
        let mut state = self.lock();
        let estimate = state.in_flight.remove(job);
        let reported = cost.filter(|cost| cost.is_finite() && *cost >= 0.0);
        let spent = match (reported, estimate) {
            (Some(cost), _) => micros(cost),
            (None, Some(estimate)) => estimate,
            (None, None) => 0,
        };
        state.spent = state.spent.saturating_add(spent);
    }

    /// A reserved job was not sent after all: its reservation is dropped.
    pub fn release(&self, job: &str) {
        self.lock().in_flight.remove(job);
    }

    /// Where the budget stands now.
    pub fn snapshot(&self) -> BudgetSnapshot {
        let state = self.lock();
        BudgetSnapshot {
            limit: usd(self.limit),
            spent: usd(state.spent),
            in_flight: usd(state.in_flight()),
            jobs_in_flight: state.in_flight.len(),
        }
    }

    fn estimate_micros(&self, charge: &Charge) -> Option<u64> {
        self.prices.estimate_micros(charge)
    }

    /// The state; a worker that panicked while holding the lock left it
    /// consistent (every update is one statement), so a poisoned lock is used.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
