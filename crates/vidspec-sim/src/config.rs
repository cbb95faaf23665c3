//! Configuration of the simulator: [`SimConfig`], the fault rates in
//! [`Faults`] and their command-line spelling ([`Faults::parse`]).
//!
//! This module owns plain data and its parsing only. It must not touch the
//! network, the clock or the random generator: the server reads these values,
//! this module never acts on them.

use thiserror::Error;

/// Everything that shapes how the simulated gateway behaves.
///
/// Build one with `SimConfig::default()` and change the fields you need:
///
/// ```
/// use vidspec_sim::{Faults, SimConfig};
///
/// let config = SimConfig {
///     speed: 1000.0,
///     task_seconds: 2.0,
///     faults: Faults::parse("429=0.1,retry-after=2").unwrap(),
///     ..SimConfig::default()
/// };
/// assert_eq!(config.api_key, "sim-key");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    /// The one API key the simulator accepts, sent as `Authorization: Bearer <api_key>`.
    /// Other requests to the API endpoints get a 401 in the gateway's own shape.
    /// Default `"sim-key"`.
    pub api_key: String,
    /// Time scale: a task that takes 60 s takes `60 / speed` s of real (tokio) time.
    /// Must be a positive, finite number. Default 1.0.
    pub speed: f64,
    /// Random fault rates, applied to submits and/or polls.
    pub faults: Faults,
    /// How a successful submit answers (the gateway has two shapes).
    pub submit_shape: SubmitShape,
    /// Share (0..=1) of tasks that end `failed` (standard shape) or `FAILURE`
    /// (Midjourney shape). A task whose prompt contains the word `FAIL` always
    /// fails, whatever this rate. Default 0.
    pub fail_rate: f64,
    /// Lifetime of a result URL: `expires_at` = completion time + `url_ttl_s`.
    /// Default 86400 (24 h, as the gateway's pages say).
    pub url_ttl_s: u64,
    /// Generation time of a task in simulated (unscaled) seconds, before `speed`
    /// is applied. Default 60.
    pub task_seconds: f64,
    /// Spread of task durations: each task takes `task_seconds × (1 ± spread)`,
    /// drawn uniformly (0 = every task takes exactly `task_seconds`). Default 0.
    pub duration_spread: f64,
    /// The range of `estimated_time / actual_time`, drawn uniformly per task:
    /// real tasks report pessimistic estimates (600 s for 265 s, 100 s for
    /// 51 s). Default (2.0, 2.0).
    pub estimate_factor: (f64, f64),
    /// Seed of the random generators, so that a run with the same seed and the
    /// same request order injects the same faults and fails the same tasks.
    pub seed: u64,
    /// Starting balance in USD for `GET /v1/balance`; each created task is
    /// charged its `cost` (a failed task is refunded when it fails) and a
    /// submit the remaining balance cannot pay for gets 402
    /// `payment_required`. `None` (the default): `unlimited_quota`, never 402.
    pub balance: Option<f64>,
    /// Share (0..=1) of delivered webhook callbacks sent twice, as the
    /// gateway "rarely" does. Default 0.
    pub webhook_duplicate_rate: f64,
    /// Share (0..=1) of webhook callbacks never sent at all (a lost
    /// callback, for fallback-polling tests). Default 0.
    pub webhook_drop_rate: f64,
    /// Whether callbacks may go to loopback and private addresses. The
    /// gateway refuses them (silently); the simulator allows them by default
    /// so that tests can receive on `127.0.0.1`. `false` drops them like the
    /// gateway.
    pub webhook_allow_private: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            api_key: "sim-key".to_owned(),
            speed: 1.0,
            faults: Faults::default(),
            submit_shape: SubmitShape::default(),
            fail_rate: 0.0,
            url_ttl_s: 86_400,
            task_seconds: 60.0,
            duration_spread: 0.0,
            estimate_factor: (2.0, 2.0),
            seed: 0x5eed,
            balance: None,
            webhook_duplicate_rate: 0.0,
            webhook_drop_rate: 0.0,
            webhook_allow_private: true,
        }
    }
}

impl SimConfig {
    /// Checks the numbers the server divides by or turns into durations.
    ///
    /// [`crate::Sim::start`] and [`crate::serve`] call this and refuse to
    /// start (with `io::ErrorKind::InvalidInput`) on an error.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.speed.is_finite() && self.speed > 0.0) {
            return Err(ConfigError::Speed(self.speed));
        }
        if !(self.task_seconds.is_finite() && self.task_seconds >= 0.0) {
            return Err(ConfigError::TaskSeconds(self.task_seconds));
        }
        if !(0.0..=1.0).contains(&self.fail_rate) {
            return Err(ConfigError::FailRate(self.fail_rate));
        }
        if let Some(balance) = self.balance
            && !(balance.is_finite() && balance >= 0.0)
        {
            return Err(ConfigError::Balance(balance));
        }
        for (name, rate) in [
            ("webhook_duplicate_rate", self.webhook_duplicate_rate),
            ("webhook_drop_rate", self.webhook_drop_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(ConfigError::WebhookRate { name, rate });
            }
        }
        Ok(())
    }
}

/// A [`SimConfig`] the simulator refuses to run with.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ConfigError {
    /// `speed` is zero, negative or not finite.
    #[error("speed must be a positive number, got {0}")]
    Speed(f64),
    /// `task_seconds` is negative or not finite.
    #[error("task_seconds must be zero or a positive number, got {0}")]
    TaskSeconds(f64),
    /// `fail_rate` is outside 0..=1.
    #[error("fail_rate must be between 0 and 1, got {0}")]
    FailRate(f64),
    /// `balance` is negative or not finite.
    #[error(
        "balance must be zero or a positive amount (leave it unset for an unlimited quota), got {0}"
    )]
    Balance(f64),
    /// A webhook rate is outside 0..=1.
    #[error("{name} must be between 0 and 1, got {rate}")]
    WebhookRate {
        /// The field's name.
        name: &'static str,
        /// The value given.
        rate: f64,
    },
}

/// The body a successful submit answers with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SubmitShape {
    /// `{"code":200,"data":[{"status":"submitted","task_id":"task_…"}]}`, the
    /// shape on every seed page.
    #[default]
    Array,
    /// `{"code":200,"data":{"id":"task_…","status":"submitted"}}`, the shape
    /// some other models answer with.
    Object,
    /// `Array` for the first created task, `Object` for the second, and so on.
    Alternate,
}

/// Which requests a fault may hit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FaultTarget {
    /// Only `POST` to a submit endpoint.
    Submits,
    /// Only `GET /v1/tasks/{id}`.
    Polls,
    /// Submits and polls (never uploads or the `/__sim/*` routes).
    #[default]
    Both,
}

impl FaultTarget {
    /// Whether a fault aimed at `self` may hit a request of kind `request`
    /// (`Submits` or `Polls`; `Both` as a request kind matches anything).
    pub fn covers(self, request: FaultTarget) -> bool {
        matches!(
            (self, request),
            (FaultTarget::Both, _)
                | (_, FaultTarget::Both)
                | (FaultTarget::Submits, FaultTarget::Submits)
                | (FaultTarget::Polls, FaultTarget::Polls)
        )
    }
}

/// Random fault rates. Each rate is the share (0..=1) of targeted requests
/// that get that fault; one random draw per request picks at most one fault,
/// so the rates should add up to at most 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Faults {
    /// HTTP 402 `payment_required` ("Insufficient balance…").
    pub payment_required: f64,
    /// HTTP 429 `rate_limit_error`.
    pub rate_limited: f64,
    /// Value of the `Retry-After` header (seconds) sent with a 429; `None`
    /// sends no header (the gateway does not promise one).
    pub rate_limited_retry_after: Option<u64>,
    /// HTTP 500 `server_error`.
    pub server_error: f64,
    /// Sleep `slow_ms`, then answer normally.
    pub slow: f64,
    /// How long a slow answer sleeps, in real milliseconds (not scaled by `speed`).
    pub slow_ms: u64,
    /// Abort the connection without a complete response. On a submit the task
    /// is created first, as when a real answer is lost on the way back.
    pub drop_connection: f64,
    /// Answer 200 with the normal body cut in half (invalid JSON). On a submit
    /// the task is created first.
    pub malformed_json: f64,
    /// To a submit carrying an idempotency key: 503
    /// `idempotency_unavailable`, the request not executed.
    pub idempotency_unavailable: f64,
    /// To a submit carrying an idempotency key: the task is created, the
    /// answer is 409 `idempotency_result_indeterminate`, and so is every
    /// later answer for that key.
    pub idempotency_indeterminate: f64,
    /// Which requests the rates apply to.
    pub apply_to: FaultTarget,
}

impl Default for Faults {
    /// No faults; `slow_ms` 500; aimed at both submits and polls.
    fn default() -> Self {
        Faults {
            payment_required: 0.0,
            rate_limited: 0.0,
            rate_limited_retry_after: None,
            server_error: 0.0,
            slow: 0.0,
            slow_ms: 500,
            drop_connection: 0.0,
            malformed_json: 0.0,
            idempotency_unavailable: 0.0,
            idempotency_indeterminate: 0.0,
            apply_to: FaultTarget::Both,
        }
    }
}

/// A fault specification that [`Faults::parse`] refuses.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum FaultSpecError {
    /// An item without `=`.
    #[error("fault `{item}` has no value; write it as `{item}=VALUE`, e.g. `429=0.1`")]
    MissingValue {
        /// The item as written.
        item: String,
    },
    /// A key that is not one of the known faults or settings.
    #[error(
        "unknown fault `{key}`; use one of 402, 429, 500, drop, slow, malformed, idem-unavailable, idem-indeterminate, retry-after, slow-ms, on"
    )]
    UnknownKey {
        /// The key as written.
        key: String,
    },
    /// A rate that is not a number in 0..=1.
    #[error("rate of `{key}` must be a number from 0 to 1, got `{value}`")]
    BadRate {
        /// The fault whose rate is wrong.
        key: String,
        /// The value as written.
        value: String,
    },
    /// A setting that needs a whole number of seconds or milliseconds.
    #[error("`{key}` must be a whole number, got `{value}`")]
    BadNumber {
        /// `retry-after` or `slow-ms`.
        key: String,
        /// The value as written.
        value: String,
    },
    /// An `on=` value other than submits, polls or both.
    #[error("`on` must be submits, polls or both, got `{value}`")]
    BadTarget {
        /// The value as written.
        value: String,
    },
    /// The same key twice.
    #[error("`{key}` is given twice")]
    Duplicate {
        /// The repeated key.
        key: String,
    },
    /// Rates whose sum exceeds 1 (one draw picks at most one fault).
    #[error("fault rates add up to {sum}; they must add up to at most 1")]
    RatesOverOne {
        /// The sum of all rates.
        sum: f64,
    },
}

impl Faults {
    /// Parses the command-line spelling of faults: comma-separated `key=value`
    /// items, e.g. `429=0.1,500=0.1,402=0.01,drop=0.05,slow=0.05,malformed=0.02,retry-after=2,slow-ms=500,on=polls`.
    ///
    /// Rates: `402`, `429`, `500`, `drop`, `slow`, `malformed`, and for submits
    /// carrying an idempotency key `idem-unavailable` and `idem-indeterminate`
    /// (0..=1, adding up to at most 1). Settings: `retry-after` (seconds, or `none`), `slow-ms`
    /// (milliseconds), `on` (`submits`, `polls` or `both`). Spaces around items
    /// are ignored; an empty string means no faults. Keys not given keep the
    /// [`Faults::default`] values.
    ///
    /// ```
    /// use vidspec_sim::{FaultTarget, Faults};
    ///
    /// let faults = Faults::parse("429=0.25, retry-after=2, on=submits").unwrap();
    /// assert_eq!(faults.rate_limited, 0.25);
    /// assert_eq!(faults.rate_limited_retry_after, Some(2));
    /// assert_eq!(faults.apply_to, FaultTarget::Submits);
    /// assert!(Faults::parse("429=2").is_err());
    /// ```
    pub fn parse(spec: &str) -> Result<Faults, FaultSpecError> {
        let mut faults = Faults::default();
        let mut seen: Vec<String> = Vec::new();
        for item in spec
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            let Some((key, value)) = item.split_once('=') else {
                return Err(FaultSpecError::MissingValue {
                    item: item.to_owned(),
                });
            };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
            if seen.contains(&key) {
                return Err(FaultSpecError::Duplicate { key });
            }
            match key.as_str() {
                "402" => faults.payment_required = parse_rate(&key, value)?,
                "429" => faults.rate_limited = parse_rate(&key, value)?,
                "500" => faults.server_error = parse_rate(&key, value)?,
                "drop" => faults.drop_connection = parse_rate(&key, value)?,
                "slow" => faults.slow = parse_rate(&key, value)?,
                "malformed" => faults.malformed_json = parse_rate(&key, value)?,
                "idem-unavailable" => faults.idempotency_unavailable = parse_rate(&key, value)?,
                "idem-indeterminate" => faults.idempotency_indeterminate = parse_rate(&key, value)?,
                "retry-after" => {
                    faults.rate_limited_retry_after = if value.eq_ignore_ascii_case("none") {
                        None
                    } else {
                        Some(parse_number(&key, value)?)
                    }
                }
                "slow-ms" => faults.slow_ms = parse_number(&key, value)?,
                "on" => {
                    faults.apply_to = match value.to_ascii_lowercase().as_str() {
                        "submits" | "submit" => FaultTarget::Submits,
                        "polls" | "poll" => FaultTarget::Polls,
                        "both" => FaultTarget::Both,
                        _ => {
                            return Err(FaultSpecError::BadTarget {
                                value: value.to_owned(),
                            });
                        }
                    }
                }
                _ => return Err(FaultSpecError::UnknownKey { key }),
            }
            seen.push(key);
        }
        let sum = faults.rate_sum();
        if sum > 1.0 + 1e-9 {
            return Err(FaultSpecError::RatesOverOne { sum });
        }
        Ok(faults)
    }

    /// The sum of all rates (the share of targeted requests that get some fault).
    pub fn rate_sum(&self) -> f64 {
        self.payment_required
            + self.rate_limited
            + self.server_error
            + self.slow
            + self.drop_connection
            + self.malformed_json
            + self.idempotency_unavailable
            + self.idempotency_indeterminate
    }
}

fn parse_rate(key: &str, value: &str) -> Result<f64, FaultSpecError> {
    match value.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(FaultSpecError::BadRate {
            key: key.to_owned(),
            value: value.to_owned(),
        }),
    }
}

fn parse_number(key: &str, value: &str) -> Result<u64, FaultSpecError> {
    value.parse::<u64>().map_err(|_| FaultSpecError::BadNumber {
        key: key.to_owned(),
        value: value.to_owned(),
    })
}
