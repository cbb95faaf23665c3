//! The account balance: `GET /v1/balance`, read once (retried as a poll is:
//! it is free and changes nothing).
//!
//! Owns the reading of the balance answer (`{"code":200,"data":{…}}` or the
//! bare object; `remain_balance`, `used_balance` and `remain_credits` as
//! numbers or numeric strings; `unlimited_quota`), and the rule that a 404
//! means the gateway offers no balance endpoint, which is an answer, not an
//! error. It must not judge whether the balance is enough for anything:
//! callers compare it with their own estimates.

use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use crate::client::Client;
use crate::error::{Error, Operation};
use crate::retry::with_retries;

/// The path of the balance endpoint.
pub const BALANCE_PATH: &str = "/v1/balance";

/// The account balance as the gateway reported it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Balance {
    /// What is left to spend, in USD (`remain_balance`), when reported.
    /// Meaningless when `unlimited`.
    pub remaining: Option<f64>,
    /// What was spent so far, in USD (`used_balance`), when reported.
    pub used: Option<f64>,
    /// What is left in credits (`remain_credits`), when reported.
    pub remaining_credits: Option<f64>,
    /// Whether the account has no quota (`unlimited_quota`): nothing runs
    /// out.
    pub unlimited: bool,
    /// `X-Oneapi-Request-Id` of the answer.
    pub request_id: Option<String>,
}

impl Client {
    /// The account balance (`GET /v1/balance`). `Ok(None)` when the gateway
    /// answers 404: it offers no balance endpoint, so nothing is known about
    /// the balance (a gateway that cannot report it is not an error).
    /// Retried as a poll is (429, 5xx, lost answers, with backoff).
    pub async fn balance(&self) -> Result<Option<Balance>, Error> {
        let span = tracing::debug_span!("balance");
        with_retries(
            &self.options().poll_backoff,
            Error::is_retryable,
            || async {
                let request = self.keyed_request(reqwest::Method::GET, BALANCE_PATH, None)?;
                let answer = self.exchange(request, Operation::Balance).await?;
                if answer.status == 404 {
                    return Ok(None);
                }
                let status = answer.status;
                let (body, request_id) = crate::client::classify(answer, None, self.redactor())?;
                read_balance(&body, request_id.clone())
                    .map(Some)
                    .ok_or_else(|| Error::Undecodable {
                        operation: Operation::Balance,
                        status,
                        reason:
                            "the balance answer holds neither remain_balance nor unlimited_quota"
                                .to_owned(),
                        excerpt: self.redactor().excerpt(body.to_string().as_bytes()),
                        request_id,
                    })
            },
        )
        .instrument(span)
        .await
    }
}

/// Reads a balance answer, enveloped (`{"code":200,"data":{…}}`) or bare;
/// `None` when it holds neither a remaining balance nor `unlimited_quota:
/// true`.
pub(crate) fn read_balance(body: &Value, request_id: Option<String>) -> Option<Balance> {
    let data = body
        .get("data")
        .filter(|data| data.is_object())
        .unwrap_or(body);
    let number = |name: &str| {
        data.get(name)
            .and_then(|value| {
                value
                    .as_f64()
                    .or_else(|| value.as_str()?.trim().parse::<f64>().ok())
            })
            .filter(|amount| amount.is_finite())
    };
    let unlimited = data
        .get("unlimited_quota")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let remaining = number("remain_balance");
    if remaining.is_none() && !unlimited {
        return None;
    }
    Some(Balance {
        remaining,
        used: number("used_balance"),
        remaining_credits: number("remain_credits"),
        unlimited,
        request_id,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_enveloped_answer_reads_its_data() {
        let body = json!({"code": 200, "data": {
            "remain_balance": 12.5, "remain_credits": 125, "used_balance": 0.4,
            "used_credits": 4, "unlimited_quota": false
        }});
        let balance = read_balance(&body, None).expect("a balance");
        assert_eq!(balance.remaining, Some(12.5));
        assert_eq!(balance.used, Some(0.4));
        assert_eq!(balance.remaining_credits, Some(125.0));
        assert!(!balance.unlimited);
    }

    #[test]
    fn a_bare_answer_with_amounts_as_strings_reads_the_same() {
        let body = json!({"remain_balance": " 3.25 ", "unlimited_quota": false});
        let balance = read_balance(&body, None).expect("a balance");
        assert_eq!(balance.remaining, Some(3.25));
    }

    #[test]
    fn an_unlimited_quota_needs_no_remaining_amount() {
        let body = json!({"data": {"unlimited_quota": true}});
        let balance = read_balance(&body, None).expect("a balance");
        assert!(balance.unlimited);
        assert_eq!(balance.remaining, None);
    }

    #[test]
    fn an_answer_without_a_balance_is_not_read_as_one() {
        assert_eq!(read_balance(&json!({"code": 200, "data": {}}), None), None);
        assert_eq!(
            read_balance(&json!({"remain_balance": "plenty"}), None),
            None
        );
    }
}
