//! The command-line spelling of faults: a full good spec, defaults, and a
//! clear error for each kind of mistake.

use vidspec_sim::{FaultSpecError, FaultTarget, Faults};

#[test]
fn a_full_spec_sets_every_field() {
    let faults = Faults::parse(
        "429=0.1,500=0.1,402=0.01,drop=0.05,slow=0.05,malformed=0.02,retry-after=2,slow-ms=500,on=polls",
    )
    .expect("a valid spec");
    assert_eq!(
        faults,
        Faults {
            payment_required: 0.01,
            rate_limited: 0.1,
            rate_limited_retry_after: Some(2),
            server_error: 0.1,
            slow: 0.05,
            slow_ms: 500,
            drop_connection: 0.05,
            malformed_json: 0.02,
            idempotency_unavailable: 0.0,
            idempotency_indeterminate: 0.0,
            apply_to: FaultTarget::Polls,
        }
    );
}

#[test]
fn an_empty_spec_is_no_faults_and_spaces_are_ignored() {
    assert_eq!(Faults::parse(""), Ok(Faults::default()));
    let faults = Faults::parse(" 429 = 0.5 , on=SUBMITS ").expect("a valid spec");
    assert_eq!(faults.rate_limited, 0.5);
    assert_eq!(faults.apply_to, FaultTarget::Submits);
}

#[test]
fn bad_specs_say_what_is_wrong() {
    let cases = [
        (
            "429",
            "fault `429` has no value; write it as `429=VALUE`, e.g. `429=0.1`",
        ),
        (
            "503=0.1",
            "unknown fault `503`; use one of 402, 429, 500, drop, slow, malformed, idem-unavailable, idem-indeterminate, retry-after, slow-ms, on",
        ),
        (
            "429=1.5",
            "rate of `429` must be a number from 0 to 1, got `1.5`",
        ),
        (
            "drop=lots",
            "rate of `drop` must be a number from 0 to 1, got `lots`",
        ),
        ("slow-ms=-5", "`slow-ms` must be a whole number, got `-5`"),
        (
            "on=uploads",
            "`on` must be submits, polls or both, got `uploads`",
        ),
        ("429=0.1,429=0.2", "`429` is given twice"),
        (
            "429=0.6,500=0.6",
            "fault rates add up to 1.2; they must add up to at most 1",
        ),
    ];
    for (spec, message) in cases {
        let error = Faults::parse(spec).expect_err(spec);
        assert_eq!(error.to_string(), message, "{spec}");
    }
    assert_eq!(
        Faults::parse("retry-after=soon"),
        Err(FaultSpecError::BadNumber {
            key: "retry-after".to_owned(),
            value: "soon".to_owned()
        })
    );
    assert_eq!(
        Faults::parse("retry-after=none").map(|f| f.rate_limited_retry_after),
        Ok(None)
    );
}

#[test]
fn the_idempotency_faults_have_rates_of_their_own_that_count_toward_the_sum() {
    let faults =
        Faults::parse("idem-unavailable=0.1, idem-indeterminate=0.05, on=submits").expect("valid");
    assert_eq!(faults.idempotency_unavailable, 0.1);
    assert_eq!(faults.idempotency_indeterminate, 0.05);
    assert!((faults.rate_sum() - 0.15).abs() < 1e-9);
    assert!(matches!(
        Faults::parse("drop=0.6,idem-unavailable=0.5"),
        Err(FaultSpecError::RatesOverOne { .. })
    ));
}
