//! The cost plan of a batch: what its jobs are estimated to cost, per model,
//! per billing key and in total, and which jobs have no price.
//!
//! Owns the arithmetic (in whole micro-USD, as the budget counts, so the
//! plan's total is the figure a budget of that size lets through) and the
//! plan's serde shape, which `vidspec batch plan --json` prints as it is.
//! It must not read manifests, price files or ledgers, nor format tables:
//! callers hand in each job's id, model and charge, and print the plan.

use std::collections::BTreeMap;

use serde::Serialize;
use vidspec_core::Charge;

use crate::prices::{Price, PriceBook, usd};

/// What a batch is estimated to cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostPlan {
    /// Per model, sorted by model id.
    pub per_model: Vec<ModelCost>,
    /// Per billing key, sorted by key: its price and where it came from.
    pub per_key: Vec<KeyCost>,
    /// The estimate of every priced job, in USD.
    pub total: f64,
    /// How many jobs the plan counts.
    pub jobs: usize,
    /// The jobs whose billing key has no price, in the order given.
    pub unpriced_jobs: Vec<UnpricedJob>,
}

/// The jobs of one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelCost {
    /// The model id.
    pub model: String,
    /// How many jobs use it.
    pub jobs: usize,
    /// The estimate of its priced jobs, in USD.
    pub estimate: f64,
    /// How many of its jobs have no price.
    pub unpriced: usize,
}

/// The jobs billed under one key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyCost {
    /// The billing key.
    pub key: String,
    /// How many jobs are billed under it.
    pub jobs: usize,
    /// The sum of their multipliers: how many times the price is charged.
    pub units: u64,
    /// The key's price and its source; `None` when it has none.
    pub price: Option<Price>,
    /// The estimate of its jobs in USD; `None` when it has no price.
    pub estimate: Option<f64>,
}

/// A job without a price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnpricedJob {
    /// The job id.
    pub job: String,
    /// Its model.
    pub model: String,
    /// Its billing key, which no price covers.
    pub key: String,
}

impl CostPlan {
    /// Whether every job has a price (a budget can then be kept).
    pub fn fully_priced(&self) -> bool {
        self.unpriced_jobs.is_empty()
    }
}

/// The cost plan of `jobs` (each its id, model and charge) at `prices`.
pub fn cost_plan<'a, I, J, M>(jobs: I, prices: &PriceBook) -> CostPlan
where
    I: IntoIterator<Item = (J, M, &'a Charge)>,
    J: AsRef<str>,
    M: AsRef<str>,
{
    #[derive(Default)]
    struct ModelSums {
        jobs: usize,
        micros: u64,
        unpriced: usize,
    }
    #[derive(Default)]
    struct KeySums {
        jobs: usize,
        units: u64,
    }
    let mut models: BTreeMap<String, ModelSums> = BTreeMap::new();
    let mut keys: BTreeMap<String, KeySums> = BTreeMap::new();
    let mut unpriced_jobs = Vec::new();
    let mut total: u64 = 0;
    let mut count = 0;
    for (job, model, charge) in jobs {
        count += 1;
        let model = model.as_ref();
        let sums = match models.get_mut(model) {
            Some(sums) => sums,
            None => models.entry(model.to_owned()).or_default(),
        };
        sums.jobs += 1;
        match prices.estimate_micros(charge) {
            Some(estimate) => {
                sums.micros = sums.micros.saturating_add(estimate);
                total = total.saturating_add(estimate);
            }
            None => {
                sums.unpriced += 1;
                unpriced_jobs.push(UnpricedJob {
                    job: job.as_ref().to_owned(),
                    model: model.to_owned(),
                    key: charge.key.clone(),
                });
            }
        }
        let key = match keys.get_mut(&charge.key) {
            Some(key) => key,
            None => keys.entry(charge.key.clone()).or_default(),
        };
        key.jobs += 1;
        key.units = key.units.saturating_add(charge.multiplier);
    }
    let per_key = keys
        .into_iter()
        .map(|(key, sums)| {
            let price = prices.price(&key);
            let estimate = prices
                .estimate_micros(&Charge {
                    key: key.clone(),
                    multiplier: sums.units,
                })
                .map(usd);
            KeyCost {
                key,
                jobs: sums.jobs,
                units: sums.units,
                price,
                estimate,
            }
        })
        .collect();
    CostPlan {
        per_model: models
            .into_iter()
            .map(|(model, sums)| ModelCost {
                model,
                jobs: sums.jobs,
                estimate: usd(sums.micros),
                unpriced: sums.unpriced,
            })
            .collect(),
        per_key,
        total: usd(total),
        jobs: count,
        unpriced_jobs,
    }
}
