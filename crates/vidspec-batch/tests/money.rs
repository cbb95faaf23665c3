//! Money without the network: the price file and its pattern precedence,
//! learned prices, estimates, the cost plan and the budget (exact at its
//! limit, also under concurrent reserves).

use std::sync::Arc;

use vidspec_batch::prices::{format_usd, yaml_quote};
use vidspec_batch::{
    Budget, BudgetStop, LedgerTally, PriceBook, PriceFileError, PriceSource, cost_plan, tally,
};
use vidspec_core::Charge;
use vidspec_journal::{Billing, Entry, LearnedPrice, State};

fn book(yaml: &str) -> PriceBook {
    PriceBook::from_yaml_str("prices.yaml", yaml)
        .unwrap_or_else(|error| panic!("the price file is valid: {error}"))
}

fn refusal(yaml: &str) -> String {
    match PriceBook::from_yaml_str("prices.yaml", yaml) {
        Ok(book) => panic!("{yaml} was accepted as {book:?}"),
        Err(error) => error.to_string(),
    }
}

fn charge(key: &str, multiplier: u64) -> Charge {
    Charge {
        key: key.to_owned(),
        multiplier,
    }
}

fn learned(key: &str, price: f64, tasks: u64) -> LearnedPrice {
    LearnedPrice {
        key: key.to_owned(),
        price,
        tasks,
    }
}

fn pattern_of(book: &PriceBook, key: &str) -> String {
    match book.price(key).map(|price| price.source) {
        Some(PriceSource::File { pattern }) => pattern,
        other => panic!("{key} is priced by {other:?}, not by a file line"),
    }
}

// ----- the price file -----

#[test]
fn an_exact_key_beats_every_pattern_that_matches_it() {
    let prices = book("\"*\": 0.2\n\"kling@*\": 0.3\n\"kling@720p\": 0.25\n");
    assert_eq!(pattern_of(&prices, "kling@720p"), "kling@720p");
    assert_eq!(
        prices.price("kling@720p").map(|price| price.amount),
        Some(0.25)
    );
}

#[test]
fn fewer_wildcards_win_over_a_longer_pattern() {
    let prices = book("\"p*xverse-v6@1080p/5*\": 0.5\n\"pixverse-v6@*\": 0.4\n");
    assert_eq!(pattern_of(&prices, "pixverse-v6@1080p/5s"), "pixverse-v6@*");
}

#[test]
fn among_patterns_with_as_many_wildcards_the_longest_wins() {
    let prices = book("\"*\": 0.2\n\"pix*\": 0.3\n\"pixverse-v6*\": 0.4\n");
    assert_eq!(pattern_of(&prices, "pixverse-v6@1080p/5s"), "pixverse-v6*");
    assert_eq!(pattern_of(&prices, "pika@720p"), "*");
}

#[test]
fn among_equally_specific_patterns_the_earlier_line_wins() {
    let prices = book("\"a*c\": 1\n\"ab*\": 2\n");
    assert_eq!(pattern_of(&prices, "abc"), "a*c");
}

#[test]
fn a_star_matches_any_run_of_characters_including_none() {
    let prices = book("\"veo*@*p\": 1.5\n");
    for key in ["veo@p", "veo3.1@1080p", "veo3@720p"] {
        assert!(prices.price(key).is_some(), "{key}");
    }
    for key in ["veo3@1080", "xveo@720p", "veo"] {
        assert!(prices.price(key).is_none(), "{key}");
    }
}

#[test]
fn a_key_no_line_matches_and_nothing_learned_has_no_price() {
    let prices = book("\"kling@*\": 0.3\n");
    assert_eq!(prices.price("veo3@720p"), None);
    assert_eq!(prices.estimate(&charge("veo3@720p", 2)), None);
}

#[test]
fn an_empty_file_is_a_book_without_prices() {
    assert!(book("").is_empty());
    assert!(book("# prices to come\n").is_empty());
}

#[test]
fn a_duplicate_pattern_is_refused_with_its_line() {
    let message = refusal("\"*\": 0.2\n\"kling@*\": 0.3\n\"kling@*\": 0.4\n");
    assert!(message.starts_with("prices.yaml:3:"), "{message}");
    assert!(
        message.ends_with("the pattern \"kling@*\" is given twice: keep one price per pattern"),
        "{message}"
    );
}

#[test]
fn negative_and_nan_prices_are_refused_each_with_its_line() {
    let message = refusal("\"a\": -0.1\n\"b\": 0.2\n\"c\": .nan\n");
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 2, "{message}");
    assert!(lines[0].starts_with("prices.yaml:1:"), "{message}");
    assert!(lines[0].contains("zero or more"), "{message}");
    assert!(lines[1].starts_with("prices.yaml:3:"), "{message}");
}

#[test]
fn a_price_that_is_not_a_number_is_refused_with_its_line() {
    let message = refusal("\"a\": 0.2\n\"b\": \"$0.40\"\n");
    assert!(
        message.starts_with("prices.yaml:2:6: a price is a number of USD"),
        "{message}"
    );
}

#[test]
fn a_file_that_is_not_a_map_is_refused() {
    let message = refusal("- kling@720p\n- 0.3\n");
    assert!(
        message.starts_with(
            "prices.yaml:1:1: a price file is a map from billing-key patterns to prices in USD"
        ),
        "{message}"
    );
}

#[test]
fn an_empty_pattern_is_refused_with_its_line() {
    let message = refusal("\"a\": 0.2\n\"\": 0.3\n");
    assert!(message.starts_with("prices.yaml:2:"), "{message}");
    assert!(message.contains("the pattern is empty"), "{message}");
}

#[test]
fn a_price_file_is_read_from_disk_and_named_in_its_errors() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = folder.path().join("prices.yaml");
    std::fs::write(&path, "\"kling@*\": 0.3\n\"veo@*\": -1\n").expect("write");
    let error = PriceBook::from_yaml_file(&path).expect_err("a negative price");
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:2:", path.display())),
        "{error}"
    );
    std::fs::write(&path, "\"kling@*\": 0.3\n").expect("write");
    let prices = PriceBook::from_yaml_file(&path).expect("a valid file");
    assert_eq!(
        prices.price("kling@720p").map(|price| price.amount),
        Some(0.3)
    );
}

#[test]
fn a_folder_given_as_the_price_file_is_refused_with_words_not_a_panic() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let error = PriceBook::from_yaml_file(folder.path()).expect_err("a folder");
    assert!(matches!(error, PriceFileError::Read { .. }), "{error:?}");
    assert!(error.to_string().contains("not a regular file"), "{error}");
}

// ----- learned prices -----

#[test]
fn a_file_line_wins_over_a_learned_price() {
    let prices = book("\"kling@*\": 0.3\n").with_learned(vec![learned("kling@720p", 0.28, 12)]);
    assert_eq!(pattern_of(&prices, "kling@720p"), "kling@*");
}

#[test]
fn a_learned_price_applies_where_no_file_line_matches() {
    let prices = book("\"kling@*\": 0.3\n").with_learned(vec![learned("veo3@720p", 1.2, 4)]);
    let price = prices.price("veo3@720p").expect("a learned price");
    assert_eq!(price.amount, 1.2);
    assert_eq!(price.source, PriceSource::Learned { tasks: 4 });
}

#[test]
fn a_learned_price_that_is_not_an_amount_is_ignored() {
    let prices =
        PriceBook::empty().with_learned(vec![learned("a", f64::NAN, 3), learned("b", -1.0, 3)]);
    assert!(prices.is_empty());
}

// ----- estimates -----

#[test]
fn an_estimate_is_the_price_times_the_multiplier() {
    let prices = book("\"midjourney@video-720p\": 0.25\n");
    assert_eq!(
        prices.estimate(&charge("midjourney@video-720p", 4)),
        Some(1.0)
    );
}

#[test]
fn estimates_are_exact_to_the_micro_dollar() {
    let prices = book("\"a\": 0.1\n");
    assert_eq!(prices.estimate(&charge("a", 3)), Some(0.3));
}

#[test]
fn amounts_are_shown_in_cents_or_finer_when_cents_are_not_enough() {
    assert_eq!(format_usd(0.4), "$0.40");
    assert_eq!(format_usd(12.0), "$12.00");
    assert_eq!(format_usd(0.0035), "$0.0035");
}

#[test]
fn a_key_is_quoted_so_that_it_can_be_pasted_into_a_price_file() {
    let key = "odd\"key\\with\u{1b}[31m";
    let quoted = yaml_quote(key);
    assert!(!quoted.contains('\u{1b}'), "{quoted}");
    let prices = book(&format!("{quoted}: 0.5\n"));
    assert_eq!(prices.price(key).map(|price| price.amount), Some(0.5));
}

// ----- the cost plan -----

#[test]
fn the_plan_sums_each_model_and_the_total() {
    let prices = book("\"kling@*\": 0.3\n\"veo@*\": 1.5\n");
    let kling = charge("kling@720p", 2);
    let veo = charge("veo@1080p", 1);
    let plan = cost_plan(
        [
            ("j1", "kling", &kling),
            ("j2", "kling", &kling),
            ("j3", "veo", &veo),
        ],
        &prices,
    );
    assert_eq!(plan.jobs, 3);
    assert_eq!(plan.total, 2.7);
    let models: Vec<(&str, usize, f64)> = plan
        .per_model
        .iter()
        .map(|model| (model.model.as_str(), model.jobs, model.estimate))
        .collect();
    assert_eq!(models, [("kling", 2, 1.2), ("veo", 1, 1.5)]);
    assert!(plan.fully_priced());
}

#[test]
fn jobs_without_a_price_are_listed_and_left_out_of_the_total() {
    let prices = book("\"kling@*\": 0.3\n");
    let kling = charge("kling@720p", 1);
    let pika = charge("pika@720p", 1);
    let plan = cost_plan(
        [
            ("j1", "kling", &kling),
            ("j2", "pika", &pika),
            ("j3", "pika", &pika),
        ],
        &prices,
    );
    assert_eq!(plan.total, 0.3);
    let unpriced: Vec<(&str, &str)> = plan
        .unpriced_jobs
        .iter()
        .map(|job| (job.job.as_str(), job.key.as_str()))
        .collect();
    assert_eq!(unpriced, [("j2", "pika@720p"), ("j3", "pika@720p")]);
    let pika_model = &plan.per_model[1];
    assert_eq!(
        (pika_model.jobs, pika_model.unpriced, pika_model.estimate),
        (2, 2, 0.0)
    );
    assert!(!plan.fully_priced());
}

#[test]
fn the_plan_lists_each_key_with_its_price_and_where_it_came_from() {
    let prices = book("\"kling@*\": 0.3\n").with_learned(vec![learned("veo@1080p", 1.5, 7)]);
    let kling = charge("kling@720p", 2);
    let veo = charge("veo@1080p", 1);
    let plan = cost_plan([("j1", "kling", &kling), ("j2", "veo", &veo)], &prices);
    let json = serde_json::to_value(&plan).expect("JSON");
    assert_eq!(
        json["per_key"],
        serde_json::json!([
            {"key": "kling@720p", "jobs": 1, "units": 2, "estimate": 0.6,
             "price": {"amount": 0.3, "source": {"kind": "file", "pattern": "kling@*"}}},
            {"key": "veo@1080p", "jobs": 1, "units": 1, "estimate": 1.5,
             "price": {"amount": 1.5, "source": {"kind": "learned", "tasks": 7}}},
        ])
    );
}

// ----- the budget -----

fn budget(limit: f64) -> Budget {
    Budget::new(limit, book("\"a\": 0.4\n\"b\": 0.1\n"))
}

#[test]
fn a_budget_lets_jobs_through_up_to_exactly_its_limit() {
    let budget = budget(1.2);
    for job in ["j1", "j2", "j3"] {
        budget
            .reserve(job, &charge("a", 1))
            .expect("within the limit");
    }
    let stop = budget
        .reserve("j4", &charge("b", 1))
        .expect_err("past the limit");
    assert!(matches!(stop, BudgetStop::Exhausted { .. }), "{stop:?}");
    assert_eq!(budget.snapshot().in_flight, 1.2);
}

#[test]
fn the_stop_says_what_was_spent_what_is_in_flight_and_what_the_next_job_costs() {
    let budget = budget(1.0);
    budget.start_from(0.5);
    budget.reserve("j1", &charge("a", 1)).expect("0.9 of 1.0");
    let stop = budget
        .reserve("j2", &charge("b", 2))
        .expect_err("1.1 of 1.0");
    assert_eq!(
        stop.to_string(),
        "the budget of $1.00 is reached: $0.50 spent and $0.40 in flight, and job j2 would cost $0.20 more; raise the budget to send it"
    );
}

#[test]
fn a_job_without_a_price_is_refused_and_told_which_line_to_add() {
    let budget = budget(100.0);
    let stop = budget
        .reserve("j1", &charge("veo@1080p", 1))
        .expect_err("unpriced");
    assert!(matches!(stop, BudgetStop::Unpriced { .. }), "{stop:?}");
    assert!(
        stop.to_string()
            .contains("add a line `\"veo@1080p\": <USD>` to the price file"),
        "{stop}"
    );
}

#[test]
fn what_the_ledger_already_cost_counts_against_the_limit() {
    let budget = budget(1.0);
    budget.start_from(0.7);
    budget.reserve("j1", &charge("b", 3)).expect("exactly 1.0");
    assert!(budget.reserve("j2", &charge("b", 1)).is_err());
}

#[test]
fn settling_replaces_the_estimate_with_the_reported_cost() {
    let budget = budget(1.0);
    budget.reserve("j1", &charge("a", 2)).expect("0.8 of 1.0");
    budget.settle("j1", Some(0.5));
    let snapshot = budget.snapshot();
    assert_eq!((snapshot.spent, snapshot.in_flight), (0.5, 0.0));
    budget.reserve("j2", &charge("b", 5)).expect("exactly 1.0");
}

#[test]
fn a_failed_task_that_cost_nothing_frees_its_estimate() {
    let budget = budget(0.4);
    budget.reserve("j1", &charge("a", 1)).expect("0.4 of 0.4");
    budget.settle("j1", Some(0.0));
    budget
        .reserve("j2", &charge("a", 1))
        .expect("0.4 of 0.4 again");
}

#[test]
fn settling_without_a_reported_cost_counts_the_estimate_as_spent() {
    let budget = budget(1.0);
    budget.reserve("j1", &charge("a", 1)).expect("0.4 of 1.0");
    budget.settle("j1", None);
    assert_eq!(budget.snapshot().spent, 0.4);
}

#[test]
fn releasing_a_job_that_was_not_sent_frees_its_reservation() {
    let budget = budget(0.4);
    budget.reserve("j1", &charge("a", 1)).expect("0.4 of 0.4");
    budget.release("j1");
    assert_eq!(budget.snapshot().in_flight, 0.0);
    budget
        .reserve("j2", &charge("a", 1))
        .expect("0.4 of 0.4 again");
}

#[test]
fn reserving_a_job_again_replaces_its_reservation() {
    let budget = budget(0.4);
    budget.reserve("j1", &charge("a", 1)).expect("0.4 of 0.4");
    budget
        .reserve("j1", &charge("a", 1))
        .expect("the same job, counted once");
    assert_eq!(budget.snapshot().jobs_in_flight, 1);
}

#[test]
fn an_adopted_job_counts_in_flight_even_past_the_limit() {
    let budget = budget(0.4);
    budget.adopt("j1", &charge("a", 2));
    assert_eq!(budget.snapshot().in_flight, 0.8);
    assert_eq!(budget.snapshot().remaining(), 0.0);
    assert!(budget.reserve("j2", &charge("b", 1)).is_err());
}

#[test]
fn concurrent_reserves_from_many_tasks_never_pass_the_limit() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .expect("a runtime");
    // 0.3 each against 10.0: exactly 33 fit (9.9), whatever the order.
    let budget = Arc::new(Budget::new(10.0, book("\"c\": 0.3\n")));
    let accepted = runtime.block_on(async {
        let tasks: Vec<_> = (0..200)
            .map(|index| {
                let budget = Arc::clone(&budget);
                tokio::spawn(async move {
                    tokio::task::yield_now().await;
                    budget
                        .reserve(&format!("j{index}"), &charge("c", 1))
                        .is_ok()
                })
            })
            .collect();
        let mut accepted = 0;
        for task in tasks {
            if task.await.expect("the task ends") {
                accepted += 1;
            }
        }
        accepted
    });
    assert_eq!(accepted, 33);
    let snapshot = budget.snapshot();
    assert_eq!(snapshot.in_flight, 9.9);
    assert!(snapshot.spent + snapshot.in_flight <= snapshot.limit);
}

#[test]
fn a_limit_that_is_not_an_amount_lets_nothing_through() {
    let budget = Budget::new(f64::NAN, book("\"free\": 0\n\"a\": 0.1\n"));
    assert!(budget.reserve("j1", &charge("a", 1)).is_err());
    budget
        .reserve("j2", &charge("free", 1))
        .expect("a free job costs nothing");
}

// ----- several workers: the ledger's tally -----

fn entry(state: State, key: &str, cost: Option<f64>, owner: &str) -> Entry {
    Entry {
        entry: format!("e-{key}-{owner}"),
        state,
        model: "m".into(),
        spec: "s".into(),
        request: "r".into(),
        endpoint: "/v1/videos/generations".into(),
        task_id: None,
        submitted_at: 0,
        updated_at: 0,
        download_dir: None,
        videos: Vec::new(),
        paths: Vec::new(),
        reason: None,
        idempotency_key: None,
        body: None,
        job: None,
        billing: Some(Billing {
            key: key.into(),
            multiplier: 1,
        }),
        cost,
        owner: Some(owner.into()),
        lease_until: None,
    }
}

#[test]
fn the_tally_counts_reported_costs_and_other_workers_jobs_in_flight() {
    let prices = book("\"a\": 0.4\n\"b\": 0.1\n");
    let entries = [
        entry(State::Downloaded, "a", Some(0.35), "w1"),
        entry(State::Failed, "a", Some(0.0), "w2"),
        entry(State::Downloaded, "b", None, "w2"),
        entry(State::Running, "a", None, "w2"),
        entry(State::Unknown, "b", None, "w2"),
        entry(State::Running, "a", None, "w1"),
        entry(State::NotSent, "a", None, "w2"),
        entry(State::Running, "zzz", None, "w2"),
    ];
    let tally = tally(&entries, &prices, "w1");
    assert_eq!(tally.spent, 0.45);
    assert_eq!(tally.in_flight_elsewhere, 0.5);
    assert_eq!(tally.unpriced_elsewhere, 1);
}

#[test]
fn a_synced_budget_counts_what_other_workers_have_in_flight() {
    let budget = budget(1.0);
    budget.sync(&LedgerTally {
        spent: 0.2,
        in_flight_elsewhere: 0.4,
        unpriced_elsewhere: 0,
    });
    budget.reserve("j1", &charge("a", 1)).expect("exactly 1.0");
    assert!(budget.reserve("j2", &charge("b", 1)).is_err());
}
