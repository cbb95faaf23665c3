//! The balance check before a run: is the account's balance enough for what
//! the run is estimated to cost?
//!
//! Owns the verdict (enough, not enough, unlimited, not offered) and its
//! words. It asks the gateway once ([`vidspec_transport::Client::balance`])
//! and must not decide what happens next: the runner refuses to start on
//! [`BalanceVerdict::NotEnough`], the CLI says the rest.

use serde::Serialize;
use vidspec_transport::{Balance, Client};

use crate::prices::{format_usd, micros};

/// What the balance says about a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum BalanceVerdict {
    /// The balance covers the estimate (or is above zero, when there is no
    /// estimate).
    Enough {
        /// What is left, in USD.
        remaining: f64,
        /// The estimate of the run, in USD, if there is one.
        needed: Option<f64>,
    },
    /// The balance does not cover the estimate (or is zero, when there is
    /// no estimate).
    NotEnough {
        /// What is left, in USD.
        remaining: f64,
        /// The estimate of the run, in USD, if there is one.
        needed: Option<f64>,
    },
    /// The account has no quota: nothing runs out.
    Unlimited,
    /// The gateway offers no balance endpoint: nothing is known.
    NotOffered,
}

impl BalanceVerdict {
    /// Whether a run may start: anything but [`BalanceVerdict::NotEnough`].
    pub fn allows_start(&self) -> bool {
        !matches!(self, BalanceVerdict::NotEnough { .. })
    }
}

impl std::fmt::Display for BalanceVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BalanceVerdict::Enough {
                remaining,
                needed: Some(needed),
            } => write!(
                f,
                "the balance of {} covers the estimate of {}",
                format_usd(*remaining),
                format_usd(*needed)
            ),
            BalanceVerdict::Enough {
                remaining,
                needed: None,
            } => write!(
                f,
                "the balance is {} (the run has no estimate to compare it with)",
                format_usd(*remaining)
            ),
            BalanceVerdict::NotEnough {
                remaining,
                needed: Some(needed),
            } => write!(
                f,
                "the balance of {} does not cover the estimate of {}: top up the account, or run fewer jobs",
                format_usd(*remaining),
                format_usd(*needed)
            ),
            BalanceVerdict::NotEnough {
                remaining,
                needed: None,
            } => write!(
                f,
                "the balance is {}: top up the account before running",
                format_usd(*remaining)
            ),
            BalanceVerdict::Unlimited => f.write_str("the account has no quota limit"),
            BalanceVerdict::NotOffered => f.write_str(
                "the gateway offers no balance endpoint (404), so the balance was not checked",
            ),
        }
    }
}

/// Why the balance could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum BalanceCheckError {
    /// The gateway could not be asked, or its answer could not be read.
    #[error("cannot check the account balance: {0}")]
    Gateway(#[source] vidspec_transport::Error),
}

/// Asks the gateway for the balance and judges it against `needed`, the
/// run's estimate in USD (`None` when it has none: then only an empty
/// balance is not enough).
pub async fn check_balance(
    client: &Client,
    needed: Option<f64>,
) -> Result<BalanceVerdict, BalanceCheckError> {
    let balance = client.balance().await.map_err(BalanceCheckError::Gateway)?;
    Ok(verdict(balance.as_ref(), needed))
}

/// The verdict of a balance (`None`: the gateway offers none) on `needed`.
/// Amounts are compared in whole micro-USD, so a balance equal to the
/// estimate is enough.
pub fn verdict(balance: Option<&Balance>, needed: Option<f64>) -> BalanceVerdict {
    let Some(balance) = balance else {
        return BalanceVerdict::NotOffered;
    };
    if balance.unlimited {
        return BalanceVerdict::Unlimited;
    }
    let remaining = balance.remaining.unwrap_or(0.0);
    let enough = match needed {
        Some(needed) => micros(remaining) >= micros(needed),
        None => micros(remaining) > 0,
    };
    if enough {
        BalanceVerdict::Enough { remaining, needed }
    } else {
        BalanceVerdict::NotEnough { remaining, needed }
    }
}
