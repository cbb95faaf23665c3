//! The ledger as its callers use it: states, the double-spend guard (also
//! from many connections at once), listings, the one-time import of an older
//! JSON-lines journal with damaged lines, and damaged or foreign files.

mod support;

use std::ops::ControlFlow;
use std::path::PathBuf;

use vidspec_journal::{Claim, Entry, Ledger, LedgerError, State, StateFilter, Step, collect};

use support::{intent, temp_dir};

fn claimed(ledger: &Ledger, request: &str) -> String {
    match ledger
        .claim(&intent(request), vidspec_journal::Guard::Unfinished)
        .expect("claim")
    {
        Claim::Claimed(entry) => entry,
        Claim::Duplicate(entry) => panic!("unexpected duplicate {entry:?}"),
    }
}

fn all(ledger: &Ledger) -> Vec<Entry> {
    let mut entries = collect(|visit| ledger.unfinished(StateFilter::Any, visit)).expect("list");
    entries.extend(collect(|visit| ledger.finished(StateFilter::Any, None, visit)).expect("list"));
    entries
}

#[test]
fn a_submission_moves_through_its_states() {
    let dir = temp_dir("states");
    let ledger = Ledger::open(dir.join("l.sqlite3")).expect("open");
    let entry = claimed(&ledger, "r1");
    let state = |ledger: &Ledger| all(ledger)[0].state;
    assert_eq!(state(&ledger), State::Unknown);
    let steps = [
        (
            Step::Submitted {
                task_id: "task_1".into(),
            },
            State::Running,
        ),
        (
            Step::Outcome {
                status: "succeeded".into(),
                videos: vec![],
                error: None,
                cost: None,
            },
            State::Succeeded,
        ),
        (
            Step::Downloaded {
                paths: vec!["v/a.mp4".into()],
            },
            State::Downloaded,
        ),
    ];
    for (step, expected) in steps {
        ledger.record(&entry, &step).expect("record");
        assert_eq!(state(&ledger), expected);
    }
    let found = ledger
        .find_by_task_id("task_1")
        .expect("find")
        .expect("an entry");
    assert_eq!(found.paths, ["v/a.mp4"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn a_new_ledger_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = temp_dir("private");
    let path = dir.join("l.sqlite3");
    let ledger = Ledger::open(&path).expect("open");
    claimed(&ledger, "r1");
    for suffix in ["", "-wal"] {
        let mut name = path.clone().into_os_string();
        name.push(suffix);
        let mode = std::fs::metadata(&name)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "{}: {mode:o}",
            PathBuf::from(name).display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_step_for_an_entry_the_ledger_does_not_hold_is_an_error() {
    let dir = temp_dir("nosuch");
    let ledger = Ledger::open(dir.join("l.sqlite3")).expect("open");
    let error = ledger
        .record(
            "j-missing",
            &Step::Submitted {
                task_id: "t".into(),
            },
        )
        .expect_err("no such entry");
    assert!(matches!(error, LedgerError::NoSuchEntry { .. }), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_claim_refuses_an_identical_unfinished_request_and_records_nothing() {
    let dir = temp_dir("guard");
    let ledger = Ledger::open(dir.join("l.sqlite3")).expect("open");
    let first = claimed(&ledger, "same");
    ledger
        .record(
            &first,
            &Step::Submitted {
                task_id: "task_1".into(),
            },
        )
        .expect("record");
    match ledger
        .claim(&intent("same"), vidspec_journal::Guard::Unfinished)
        .expect("claim")
    {
        Claim::Duplicate(entry) => assert_eq!(entry.entry, first),
        Claim::Claimed(entry) => panic!("claimed {entry} twice"),
    }
    assert_eq!(all(&ledger).len(), 1, "a refused claim writes nothing");
    claimed(&ledger, "other");
    assert_eq!(all(&ledger).len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_claim_with_again_records_a_second_identical_entry() {
    let dir = temp_dir("again");
    let ledger = Ledger::open(dir.join("l.sqlite3")).expect("open");
    claimed(&ledger, "same");
    assert!(matches!(
        ledger
            .claim(&intent("same"), vidspec_journal::Guard::Again)
            .expect("claim"),
        Claim::Claimed(_)
    ));
    assert_eq!(all(&ledger).len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_finished_request_may_be_claimed_again() {
    let dir = temp_dir("finished");
    let ledger = Ledger::open(dir.join("l.sqlite3")).expect("open");
    let first = claimed(&ledger, "same");
    let failed = Step::Outcome {
        status: "failed".into(),
        videos: vec![],
        error: Some("x".into()),
        cost: None,
    };
    ledger.record(&first, &failed).expect("record");
    assert!(
        ledger
            .unfinished_with_request("same")
            .expect("look")
            .is_none()
    );
    claimed(&ledger, "same");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sixteen connections (as sixteen processes would have) claim the same
/// request at once: exactly one wins, and the ledger holds one entry.
#[test]
fn many_connections_opening_a_new_ledger_at_once_all_succeed() {
    for round in 0..20 {
        let dir = temp_dir(&format!("first-open-{round}"));
        let path = dir.join("l.sqlite3");
        let barrier = std::sync::Barrier::new(16);
        std::thread::scope(|scope| {
            for _ in 0..16 {
                scope.spawn(|| {
                    barrier.wait();
                    Ledger::open(&path).expect("open a ledger another connection is creating")
                });
            }
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn concurrent_claims_of_one_request_from_many_connections_let_exactly_one_through() {
    let dir = temp_dir("race");
    let path = dir.join("l.sqlite3");
    let barrier = std::sync::Barrier::new(16);
    let claims: Vec<Claim> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                scope.spawn(|| {
                    let ledger = Ledger::open(&path).expect("open");
                    barrier.wait();
                    ledger
                        .claim(&intent("same"), vidspec_journal::Guard::Unfinished)
                        .expect("claim")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("thread"))
            .collect()
    });
    let winners = claims
        .iter()
        .filter(|claim| matches!(claim, Claim::Claimed(_)))
        .count();
    assert_eq!(winners, 1, "{claims:?}");
    assert_eq!(all(&Ledger::open(&path).expect("open")).len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn listings_give_every_unfinished_entry_and_the_newest_finished_ones_with_a_count() {
    let dir = temp_dir("listing");
    let ledger = Ledger::open(dir.join("l.sqlite3")).expect("open");
    let mut finished = Vec::new();
    for index in 0..10 {
        let entry = claimed(&ledger, &format!("r{index}"));
        if index != 3 {
            ledger
                .record(&entry, &Step::NotSent { reason: "x".into() })
                .expect("record");
            finished.push(entry);
        }
    }
    let unfinished = collect(|visit| ledger.unfinished(StateFilter::Any, visit)).expect("list");
    assert_eq!(unfinished.len(), 1);
    assert_eq!(unfinished[0].request, "r3");
    let newest = collect(|visit| ledger.finished(StateFilter::Any, Some(4), visit)).expect("list");
    let ids: Vec<&str> = newest.iter().map(|entry| entry.entry.as_str()).collect();
    assert_eq!(
        ids,
        finished[5..].iter().map(String::as_str).collect::<Vec<_>>(),
        "oldest first"
    );
    assert_eq!(ledger.count_finished(StateFilter::Any).expect("count"), 9);
    assert_eq!(
        ledger
            .count_finished(StateFilter::Only(State::Failed))
            .expect("count"),
        0
    );
    // A visitor may stop early.
    let mut seen = 0;
    ledger
        .finished(StateFilter::Any, None, &mut |_| {
            seen += 1;
            ControlFlow::Break(())
        })
        .expect("list");
    assert_eq!(seen, 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// What today's journals can hold after a full disk or a bad sector: one
/// invalid UTF-8 byte, a line that is not JSON, an event for no entry, and a
/// torn last line. Everything else survives the import, and each damaged
/// line is named by file and line with what to do.
#[test]
fn an_import_skips_damaged_lines_by_number_and_keeps_every_other_entry() {
    let dir = temp_dir("import");
    let journal = dir.join("journal.jsonl");
    let mut bytes = Vec::new();
    bytes.extend_from_slice(br#"{"v":1,"entry":"e1","at":10,"event":"intent","model":"m","spec":"s","request":"r1","endpoint":"/v1/x"}"#);
    bytes.extend_from_slice(b"\n");
    bytes.extend_from_slice(
        br#"{"v":1,"entry":"e1","at":11,"event":"submitted","task_id":"task_1"}"#,
    );
    bytes.extend_from_slice(b"\n");
    bytes.extend_from_slice(
        b"{\"v\":1,\"entry\":\"e9\",\"at\":12,\"event\":\"not_sent\",\"reason\":\"caf\xc3\"}\n",
    );
    bytes.extend_from_slice(b"not json at all\n");
    bytes.extend_from_slice(br#"{"v":1,"entry":"e2","at":13,"event":"intent","model":"m","spec":"s","request":"r2","endpoint":"/v1/x","download_dir":"out"}"#);
    bytes.extend_from_slice(b"\n\n");
    bytes.extend_from_slice(
        br#"{"v":1,"entry":"e7","at":14,"event":"submitted","task_id":"task_7"}"#,
    );
    bytes.extend_from_slice(b"\n");
    bytes.extend_from_slice(br#"{"v":1,"entry":"e3","at":1,"event":"inte"#);
    std::fs::write(&journal, &bytes).expect("write");

    let ledger = Ledger::open(dir.join("journal.sqlite3")).expect("open");
    let imported = ledger
        .import_jsonl(&journal)
        .expect("import")
        .expect("imported");
    assert_eq!(imported.entries, 2);
    let at = |line: usize| format!("{}:{line}: ", journal.display());
    assert_eq!(imported.problems.len(), 4, "{:#?}", imported.problems);
    assert!(
        imported.problems[0].starts_with(&at(3)),
        "{:?}",
        imported.problems
    );
    assert!(
        imported.problems[0].contains("invalid UTF-8"),
        "{:?}",
        imported.problems
    );
    assert!(
        imported.problems[1].starts_with(&at(4)),
        "{:?}",
        imported.problems
    );
    assert!(
        imported.problems[1].contains("not a journal event"),
        "{:?}",
        imported.problems
    );
    assert!(
        imported.problems[2].starts_with(&at(7)),
        "{:?}",
        imported.problems
    );
    assert!(
        imported.problems[2].contains("no intent before it"),
        "{:?}",
        imported.problems
    );
    assert!(
        imported.problems[3].starts_with(&at(8)),
        "{:?}",
        imported.problems
    );
    assert!(
        imported.problems[3].contains("torn last line"),
        "{:?}",
        imported.problems
    );
    for problem in &imported.problems {
        assert!(problem.contains("the line was skipped"), "{problem}");
        assert!(problem.contains("gateway's console"), "{problem}");
    }
    let entries = all(&ledger);
    let summary: Vec<(&str, State, Option<&str>)> = entries
        .iter()
        .map(|entry| (entry.entry.as_str(), entry.state, entry.task_id.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            ("e1", State::Running, Some("task_1")),
            ("e2", State::Unknown, None)
        ]
    );
    assert_eq!(entries[0].submitted_at, 10);
    assert_eq!(entries[1].download_dir.as_deref(), Some("out"));
    assert_eq!(
        std::fs::read(&journal).expect("read"),
        bytes,
        "the file is left as it was"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_journal_is_imported_only_once() {
    let dir = temp_dir("once");
    let journal = dir.join("journal.jsonl");
    std::fs::write(
        &journal,
        concat!(
            r#"{"v":1,"entry":"e1","at":10,"event":"intent","model":"m","spec":"s","request":"r1","endpoint":"/v1/x"}"#,
            "\n"
        ),
    )
    .expect("write");
    let path = dir.join("journal.sqlite3");
    let ledger = Ledger::open(&path).expect("open");
    assert!(ledger.import_jsonl(&journal).expect("import").is_some());
    assert!(ledger.import_jsonl(&journal).expect("import").is_none());
    let reopened = Ledger::open(&path).expect("open");
    assert!(reopened.import_jsonl(&journal).expect("import").is_none());
    assert_eq!(all(&reopened).len(), 1);
    assert!(
        ledger
            .import_jsonl(&dir.join("missing.jsonl"))
            .expect("import")
            .is_none()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_garbage_file_in_place_of_the_ledger_is_reported_as_damaged_with_what_to_do() {
    let dir = temp_dir("garbage");
    let path = dir.join("l.sqlite3");
    std::fs::write(
        &path,
        "this is not a database, just some text\n".repeat(200),
    )
    .expect("write");
    let error = Ledger::open(&path).expect_err("damaged");
    let message = error.to_string();
    assert!(matches!(error, LedgerError::Damaged { .. }), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("move it aside"), "{message}");
    assert!(message.contains(".bak"), "{message}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_sqlite_database_of_another_program_is_not_taken_over() {
    let dir = temp_dir("foreign");
    let path = dir.join("other.db");
    rusqlite::Connection::open(&path)
        .and_then(|connection| connection.execute_batch("CREATE TABLE notes (text TEXT);"))
        .expect("another program's database");
    let error = Ledger::open(&path).expect_err("foreign");
    assert!(matches!(error, LedgerError::Foreign { .. }), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}
