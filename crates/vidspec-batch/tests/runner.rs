//! The batch runner against the in-process simulator on loopback and a real
//! SQLite ledger in a temporary folder: each job is paid for once across
//! re-runs, interruptions and several workers, and every video is saved
//! under its job id.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vidspec_batch::{
    Batch, BatchEvent, BatchOptions, Job, JobStatus, Report, manifest, run_status,
};
use vidspec_core::Registry;
use vidspec_journal::{Ledger, State, TaskStore};
use vidspec_sim::{FaultTarget, Scripted, Sim, SimConfig};
use vidspec_transport::{ApiKey, Client, ClientOptions};
use vidspec_workflow::Workflow;

const MODEL: &str = "Omni-Flash-Ext";

struct Fixture {
    sim: Sim,
    workflow: Workflow,
    ledger: Ledger,
    dir: PathBuf,
}

impl Fixture {
    async fn new(label: &str) -> Fixture {
        let config = SimConfig {
            speed: 1000.0,
            task_seconds: 2.0,
            ..SimConfig::default()
        };
        let sim = Sim::start("127.0.0.1:0".parse().expect("addr"), config)
            .await
            .expect("sim");
        let client = Client::new(
            ApiKey::parse("sim-key").expect("key"),
            ClientOptions {
                base_url: sim.base_url(),
                allow_insecure_http: true,
                requests_per_second: 0.0,
                ..ClientOptions::default()
            },
        )
        .expect("client")
        .with_poll_clock(vidspec_transport::PollClock::simulated(1000.0));
        let dir = tempfile::Builder::new()
            .prefix(&format!("vidspec-batch-{label}-"))
            .tempdir()
            .expect("temp dir")
            .keep();
        let ledger = Ledger::open(dir.join("ledger.sqlite3")).expect("ledger");
        let workflow = Workflow::new(Registry::embedded(), client, Arc::new(ledger.clone()));
        Fixture {
            sim,
            workflow,
            ledger,
            dir,
        }
    }

    fn out(&self) -> PathBuf {
        self.dir.join("out")
    }

    fn options(&self) -> BatchOptions {
        let mut options = BatchOptions::new("march", self.out());
        options.rps = 0.0;
        options.concurrency = 4;
        options.lease_seconds = 3;
        options.store_poll = Duration::from_millis(50);
        options
    }

    fn batch(&self, options: BatchOptions) -> Batch {
        Batch::new(self.workflow.clone(), options)
    }

    async fn finish(self) {
        self.sim.shutdown().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The jobs of a manifest of `count` lines `{"id": "job-<n>", …}`, with
/// "FAIL" in the prompt of the ids in `failing`.
fn jobs(count: usize, failing: &[usize]) -> Vec<Job> {
    let text: String = (0..count)
        .map(|index| {
            let prompt = if failing.contains(&index) {
                format!("a kite number {index} that will FAIL")
            } else {
                format!("a kite number {index}")
            };
            format!(
                "{{\"id\": \"job-{index}\", \"model\": \"{MODEL}\", \"prompt\": \"{prompt}\"}}\n"
            )
        })
        .collect();
    let manifest = manifest::parse(text.as_bytes(), Registry::embedded()).expect("read");
    assert!(manifest.invalid.is_empty(), "{:?}", manifest.invalid);
    manifest.jobs
}

/// The submit options another worker, `owner`, sends job `job` of run
/// "march" with: the job's key, `Guard::Once` and a lease of `seconds`.
fn another_workers_options(
    job: &str,
    owner: &str,
    seconds: u32,
) -> vidspec_workflow::SubmitOptions {
    let mut options = vidspec_workflow::SubmitOptions::new();
    options.guard = vidspec_journal::Guard::Once {
        retry_failed: false,
    };
    options.key = Some(vidspec_batch::job_key("march", job));
    options.job = Some(vidspec_batch::job_ref("march", job));
    options.lease = Some(vidspec_journal::Lease {
        owner: owner.to_owned(),
        seconds,
    });
    options
}

fn statuses(report: &Report) -> Vec<(String, JobStatus)> {
    report
        .rows
        .iter()
        .map(|row| (row.job.clone(), row.status))
        .collect()
}

fn all(report: &Report, status: JobStatus) -> bool {
    !report.rows.is_empty() && report.rows.iter().all(|row| row.status == status)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| !name.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn a_run_saves_every_video_under_its_job_id_and_reports_each_job() {
    let fixture = Fixture::new("run").await;
    let report = fixture
        .batch(fixture.options())
        .run(jobs(3, &[]), |_| {})
        .await
        .expect("run");
    assert!(all(&report, JobStatus::Downloaded), "{:?}", report.rows);
    assert_eq!(
        files_in(&fixture.out()),
        ["job-0-0.mp4", "job-1-0.mp4", "job-2-0.mp4"]
    );
    let row = &report.rows[0];
    assert_eq!(row.job, "job-0");
    assert_eq!(row.model.as_deref(), Some(MODEL));
    assert!(row.mode.is_some() && row.billing_key.is_some(), "{row:?}");
    assert!(
        row.task_id
            .as_deref()
            .is_some_and(|id| id.starts_with("task_"))
    );
    assert_eq!(row.files, [fixture.out().join("job-0-0.mp4")]);
    assert_eq!(fixture.sim.stats().submits, 3);
    fixture.finish().await;
}

#[tokio::test]
async fn running_a_finished_manifest_again_sends_no_request_at_all() {
    let fixture = Fixture::new("rerun").await;
    fixture
        .batch(fixture.options())
        .run(jobs(3, &[]), |_| {})
        .await
        .expect("first run");
    let before = fixture.sim.stats();
    let mut events = Vec::new();
    let report = fixture
        .batch(fixture.options())
        .run(jobs(3, &[]), |event| events.push(event.clone()))
        .await
        .expect("second run");
    let after = fixture.sim.stats();
    assert!(all(&report, JobStatus::Downloaded), "{:?}", report.rows);
    assert_eq!(after.submit_attempts, before.submit_attempts);
    assert_eq!(after.polls, before.polls);
    assert_eq!(after.downloads, before.downloads);
    assert!(
        matches!(
            events.first(),
            Some(BatchEvent::Started {
                jobs: 3,
                already_done: 3,
                ..
            })
        ),
        "{events:?}"
    );
    fixture.finish().await;
}

#[tokio::test]
async fn a_run_dropped_mid_way_and_run_again_creates_each_task_once_and_saves_every_video() {
    let fixture = Fixture::new("interrupted").await;
    let mut options = fixture.options();
    options.concurrency = 2;
    let batch = fixture.batch(options);
    let first = batch.run(jobs(6, &[]), |_| {});
    let sim = &fixture.sim;
    let some_sent = async {
        while sim.stats().submits < 3 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    tokio::select! {
        _ = first => panic!("the run finished before it was dropped"),
        () = some_sent => {}
    }
    // The dropped run's spawned sends record their answers, and its leases
    // are released by its drop guard.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let report = fixture
        .batch(fixture.options())
        .run(jobs(6, &[]), |_| {})
        .await
        .expect("second run");
    // A submit under way when the run was dropped finished on its own: no
    // entry is left `unknown`, and every job has one task and its video.
    assert!(
        all(&report, JobStatus::Downloaded),
        "{:?}",
        statuses(&report)
    );
    assert_eq!(fixture.sim.stats().submits, 6);
    assert_eq!(files_in(&fixture.out()).len(), 6);
    fixture.finish().await;
}

#[tokio::test]
async fn two_workers_on_one_ledger_at_once_create_each_task_once() {
    let fixture = Fixture::new("two-workers").await;
    let one = fixture.batch(fixture.options());
    let two = fixture.batch(fixture.options());
    let (first, second) =
        tokio::join!(one.run(jobs(8, &[]), |_| {}), two.run(jobs(8, &[]), |_| {}));
    let (first, second) = (first.expect("first"), second.expect("second"));
    assert_eq!(fixture.sim.stats().submits, 8);
    assert!(all(&first, JobStatus::Downloaded), "{:?}", statuses(&first));
    assert!(
        all(&second, JobStatus::Downloaded),
        "{:?}",
        statuses(&second)
    );
    assert_eq!(files_in(&fixture.out()).len(), 8);
    fixture.finish().await;
}

#[tokio::test]
async fn a_failed_job_is_submitted_again_only_with_retry_failed() {
    let fixture = Fixture::new("retry-failed").await;
    let first = fixture
        .batch(fixture.options())
        .run(jobs(2, &[1]), |_| {})
        .await
        .expect("first run");
    assert_eq!(
        statuses(&first),
        [
            ("job-0".to_owned(), JobStatus::Downloaded),
            ("job-1".to_owned(), JobStatus::Failed)
        ]
    );
    assert_eq!(fixture.sim.stats().submits, 2);
    // An entry is from an earlier run when it is older than the run's
    // start, in whole seconds of the store's clock.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = fixture
        .batch(fixture.options())
        .run(jobs(2, &[1]), |_| {})
        .await
        .expect("run without retry");
    assert_eq!(again.rows[1].status, JobStatus::Failed);
    assert_eq!(fixture.sim.stats().submits, 2, "not retried");
    let mut options = fixture.options();
    options.retry_failed = true;
    let retried = fixture
        .batch(options)
        .run(jobs(2, &[1]), |_| {})
        .await
        .expect("run with retry");
    assert_eq!(retried.rows[1].status, JobStatus::Failed);
    assert_eq!(fixture.sim.stats().submits, 3, "retried once");
    fixture.finish().await;
}

#[tokio::test]
async fn a_submit_whose_answer_was_lost_is_reported_unknown_and_never_sent_again() {
    let fixture = Fixture::new("unknown").await;
    fixture.sim.script(vec![Scripted::Drop {
        on: FaultTarget::Submits,
    }]);
    let mut options = fixture.options();
    options.concurrency = 1;
    let mut unknown_events = 0;
    let report = fixture
        .batch(options.clone())
        .run(jobs(2, &[]), |event| {
            if matches!(event, BatchEvent::Unknown { .. }) {
                unknown_events += 1;
            }
        })
        .await
        .expect("run");
    assert_eq!(
        statuses(&report),
        [
            ("job-0".to_owned(), JobStatus::Unknown),
            ("job-1".to_owned(), JobStatus::Downloaded)
        ]
    );
    assert_eq!(unknown_events, 1);
    let attempts = fixture.sim.stats().submit_attempts;
    let again = fixture
        .batch(fixture.options())
        .run(jobs(2, &[]), |_| {})
        .await
        .expect("second run");
    assert_eq!(again.rows[0].status, JobStatus::Unknown);
    assert_eq!(fixture.sim.stats().submit_attempts, attempts);
    let status = run_status(&fixture.ledger, "march").await.expect("status");
    assert_eq!(status.unknown.len(), 1);
    assert_eq!(status.by_state[&State::Downloaded], 1);
    fixture.finish().await;
}

#[tokio::test]
async fn no_more_jobs_than_the_concurrency_are_in_flight_at_once() {
    let fixture = Fixture::new("concurrency").await;
    let mut options = fixture.options();
    options.concurrency = 2;
    let in_flight = Mutex::new((0_i64, 0_i64));
    fixture
        .batch(options)
        .run(jobs(6, &[]), |event| {
            let Ok(mut counts) = in_flight.lock() else {
                return;
            };
            match event {
                BatchEvent::Submitted { .. } => {
                    counts.0 += 1;
                    counts.1 = counts.1.max(counts.0);
                }
                BatchEvent::Finished { .. } => counts.0 -= 1,
                _ => {}
            }
        })
        .await
        .expect("run");
    let (_, most) = *in_flight.lock().expect("counts");
    assert_eq!(most, 2);
    fixture.finish().await;
}

#[tokio::test]
async fn submits_are_spaced_by_the_rate_limit() {
    let fixture = Fixture::new("rps").await;
    let mut options = fixture.options();
    options.concurrency = 6;
    options.rps = 20.0;
    let submitted: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let sink = Arc::clone(&submitted);
    fixture
        .batch(options)
        .run(jobs(6, &[]), move |event| {
            if let (BatchEvent::Submitted { .. }, Ok(mut times)) = (event, sink.lock()) {
                times.push(Instant::now());
            }
        })
        .await
        .expect("run");
    let times = submitted.lock().expect("times").clone();
    assert_eq!(times.len(), 6);
    // Five gaps of 1/20 s between the first and the last send (each event
    // comes after its answer, whose time varies by a few milliseconds).
    let spread = times[5].duration_since(times[0]);
    assert!(spread >= Duration::from_millis(200), "{spread:?}");
    fixture.finish().await;
}

#[tokio::test]
async fn the_run_status_counts_each_jobs_newest_entry_and_what_was_spent() {
    let fixture = Fixture::new("status").await;
    fixture
        .batch(fixture.options())
        .run(jobs(3, &[2]), |_| {})
        .await
        .expect("run");
    let store: &dyn TaskStore = &fixture.ledger;
    let status = run_status(store, "march").await.expect("status");
    assert_eq!(status.jobs, 3);
    assert_eq!(status.by_state[&State::Downloaded], 2);
    assert_eq!(status.by_state[&State::Failed], 1);
    assert!(status.spent > 0.0, "{status:?}");
    assert!(status.workers.is_empty(), "leases released: {status:?}");
    fixture.finish().await;
}

#[tokio::test]
async fn a_job_of_a_worker_that_died_is_taken_over_when_its_lease_ends_and_not_sent_again() {
    let fixture = Fixture::new("take-over").await;
    let jobs = jobs(2, &[]);
    // A worker sent job-0 and died: its entry is running, its lease lapses.
    let options = another_workers_options("job-0", "dead-worker", 1);
    fixture
        .workflow
        .submit(jobs[0].request.clone(), &options, &mut |_| {})
        .await
        .expect("sent by the dead worker");
    let mut events = Vec::new();
    let report = fixture
        .batch(fixture.options())
        .run(jobs, |event| events.push(event.clone()))
        .await
        .expect("run");
    assert!(
        all(&report, JobStatus::Downloaded),
        "{:?}",
        statuses(&report)
    );
    assert_eq!(fixture.sim.stats().submits, 2);
    assert!(
        events.iter().any(|event| matches!(
            event,
            BatchEvent::HeldElsewhere { job, owner } if job == "job-0" && owner == "dead-worker"
        )),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|event| matches!(event, BatchEvent::TakenOver { job, .. } if job == "job-0")),
        "{events:?}"
    );
    assert_eq!(files_in(&fixture.out()), ["job-0-0.mp4", "job-1-0.mp4"]);
    fixture.finish().await;
}

#[tokio::test]
async fn once_the_budget_would_be_passed_no_new_job_is_sent_and_the_run_says_so_once() {
    let fixture = Fixture::new("budget").await;
    let prices =
        vidspec_batch::PriceBook::from_yaml_str("prices.yaml", "\"*\": 0.2\n").expect("prices");
    let mut options = fixture.options();
    options.concurrency = 1;
    options.budget = Some(Arc::new(vidspec_batch::Budget::new(0.5, prices)));
    let mut stops = Vec::new();
    let report = fixture
        .batch(options)
        .run(jobs(4, &[]), |event| {
            if let BatchEvent::BudgetStopped {
                next_job, budget, ..
            } = event
            {
                stops.push((next_job.clone(), *budget));
            }
        })
        .await
        .expect("run");
    assert_eq!(
        report.rows.iter().map(|row| row.status).collect::<Vec<_>>(),
        [
            JobStatus::Downloaded,
            JobStatus::Downloaded,
            JobStatus::BudgetStopped,
            JobStatus::BudgetStopped
        ]
    );
    assert_eq!(stops, [("job-2".to_owned(), 0.5)]);
    assert_eq!(fixture.sim.stats().submits, 2);
    assert!((report.summary().spent - 0.4).abs() < 1e-9);
    fixture.finish().await;
}

/// A waiter that waits with the client's poller and counts its calls, as a
/// webhook receiver plugged in through [`vidspec_batch::Waiter`] would wait.
struct CountingWaiter {
    client: Client,
    calls: std::sync::atomic::AtomicUsize,
}

impl vidspec_batch::Waiter for CountingWaiter {
    fn wait(
        &self,
        handle: &vidspec_transport::TaskHandle,
    ) -> futures_util::future::BoxFuture<
        '_,
        Result<vidspec_transport::Outcome, vidspec_transport::Error>,
    > {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let handle = handle.clone();
        Box::pin(async move {
            self.client
                .wait(&handle, &vidspec_transport::WaitOptions::default())
                .await
        })
    }
}

#[tokio::test]
async fn a_plugged_in_waiter_waits_instead_of_the_poller_and_its_outcome_is_recorded() {
    let fixture = Fixture::new("waiter").await;
    let waiter = Arc::new(CountingWaiter {
        client: fixture.workflow.client().clone(),
        calls: Default::default(),
    });
    let mut options = fixture.options();
    options.waiter = Some(waiter.clone());
    options.webhook = Some(
        "http://127.0.0.1:9/hooks/secret-token"
            .parse()
            .expect("url"),
    );
    let report = fixture
        .batch(options)
        .run(jobs(2, &[]), |_| {})
        .await
        .expect("run");
    assert!(
        all(&report, JobStatus::Downloaded),
        "{:?}",
        statuses(&report)
    );
    assert_eq!(waiter.calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    let status = run_status(&fixture.ledger, "march").await.expect("status");
    assert_eq!(status.by_state[&State::Downloaded], 2);
    // The callback URL went with each submit: the gateway calls it back.
    let mut stats = fixture.sim.stats();
    for _ in 0..200 {
        if stats.callbacks_sent + stats.callbacks_dropped + stats.callbacks_failed >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        stats = fixture.sim.stats();
    }
    assert!(
        stats.callbacks_sent + stats.callbacks_dropped + stats.callbacks_failed >= 2,
        "{stats:?}"
    );
    fixture.finish().await;
}

#[tokio::test]
async fn a_run_dropped_while_its_claims_wait_for_the_ledger_still_sends_what_it_claimed() {
    let fixture = Fixture::new("dropped-in-claim").await;
    // Once the run has started, another process takes the ledger's write
    // lock: the run's claims wait for it.
    let holder = Mutex::new(Some(
        rusqlite::Connection::open(fixture.dir.join("ledger.sqlite3")).expect("open"),
    ));
    let batch = fixture.batch(fixture.options());
    let run = batch.run(jobs(2, &[]), |event| {
        if let (BatchEvent::Started { .. }, Ok(holder)) = (event, holder.lock())
            && let Some(connection) = holder.as_ref()
        {
            connection
                .execute_batch("BEGIN IMMEDIATE")
                .expect("write lock");
        }
    });
    tokio::select! {
        _ = run => panic!("the run finished while the ledger was locked"),
        () = tokio::time::sleep(Duration::from_millis(300)) => {}
    }
    drop(holder.lock().expect("holder").take());
    // The claims go through once the lock is gone; a claimed job is sent
    // and its answer recorded although its run was dropped.
    let store: &dyn TaskStore = &fixture.ledger;
    let mut entries = Vec::new();
    for _ in 0..300 {
        entries = vidspec_journal::all_run_entries(store, "march")
            .await
            .expect("entries");
        if entries.len() == 2 && entries.iter().all(|entry| entry.state == State::Running) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let states: Vec<State> = entries.iter().map(|entry| entry.state).collect();
    assert_eq!(states, [State::Running, State::Running]);
    assert_eq!(fixture.sim.stats().submits, 2);
    fixture.finish().await;
}

#[tokio::test]
async fn entries_whose_lease_ended_before_the_run_started_are_taken_over_first() {
    let fixture = Fixture::new("taken-at-start").await;
    let jobs = jobs(3, &[]);
    let options = another_workers_options("job-2", "dead-worker", 1);
    fixture
        .workflow
        .submit(jobs[2].request.clone(), &options, &mut |_| {})
        .await
        .expect("sent by the dead worker");
    // Its lease ends (whole seconds of the store's clock).
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let mut events = Vec::new();
    let report = fixture
        .batch(fixture.options())
        .run(jobs, |event| events.push(event.clone()))
        .await
        .expect("run");
    assert!(
        all(&report, JobStatus::Downloaded),
        "{:?}",
        statuses(&report)
    );
    assert_eq!(fixture.sim.stats().submits, 3);
    let taken = events
        .iter()
        .position(|event| matches!(event, BatchEvent::TakenOver { job, .. } if job == "job-2"));
    let first_submit = events
        .iter()
        .position(|event| matches!(event, BatchEvent::Submitted { .. }));
    assert!(taken.is_some() && taken < first_submit, "{events:?}");
    assert!(
        !events
            .iter()
            .any(|event| matches!(event, BatchEvent::HeldElsewhere { .. })),
        "{events:?}"
    );
    assert_eq!(
        report.rows[2].mode.as_deref(),
        Some(report.rows[0].mode.as_deref().unwrap_or(""))
    );
    fixture.finish().await;
}

#[tokio::test]
async fn a_run_again_counts_what_the_runs_entries_already_cost_against_the_budget() {
    let fixture = Fixture::new("budget-rerun").await;
    let budget = |limit| {
        let prices =
            vidspec_batch::PriceBook::from_yaml_str("prices.yaml", "\"*\": 0.2\n").expect("prices");
        Some(Arc::new(vidspec_batch::Budget::new(limit, prices)))
    };
    let mut options = fixture.options();
    options.budget = budget(10.0);
    let first = fixture
        .batch(options)
        .run(jobs(4, &[]).into_iter().take(2).collect(), |_| {})
        .await
        .expect("first run");
    assert!(all(&first, JobStatus::Downloaded), "{:?}", statuses(&first));
    // 0.4 spent by the first run; 0.5 leaves no room for one more 0.2 job.
    let mut options = fixture.options();
    options.budget = budget(0.5);
    let again = fixture
        .batch(options)
        .run(jobs(4, &[]), |_| {})
        .await
        .expect("second run");
    assert_eq!(
        again.rows.iter().map(|row| row.status).collect::<Vec<_>>(),
        [
            JobStatus::Downloaded,
            JobStatus::Downloaded,
            JobStatus::BudgetStopped,
            JobStatus::BudgetStopped
        ]
    );
    assert_eq!(fixture.sim.stats().submits, 2);
    fixture.finish().await;
}

#[tokio::test]
async fn a_job_id_with_dots_names_its_file_as_written() {
    let fixture = Fixture::new("dotted-id").await;
    let text =
        format!("{{\"id\": \"scene.1_take-2\", \"model\": \"{MODEL}\", \"prompt\": \"a kite\"}}\n");
    let jobs = manifest::parse(text.as_bytes(), Registry::embedded())
        .expect("read")
        .jobs;
    let report = fixture
        .batch(fixture.options())
        .run(jobs, |_| {})
        .await
        .expect("run");
    assert!(
        all(&report, JobStatus::Downloaded),
        "{:?}",
        statuses(&report)
    );
    assert_eq!(files_in(&fixture.out()), ["scene.1_take-2-0.mp4"]);
    fixture.finish().await;
}

#[tokio::test]
async fn a_lost_answer_without_a_key_held_by_a_live_worker_is_reported_not_waited_for() {
    let fixture = Fixture::new("settled-unknown").await;
    let jobs = jobs(2, &[]);
    // A live worker (its lease lasts an hour) sent job-0, lost the answer
    // and recorded it as unknown: there is no key to resend it under.
    fixture.sim.script(vec![Scripted::Drop {
        on: FaultTarget::Submits,
    }]);
    let options = another_workers_options("job-0", "live-worker", 3600);
    fixture
        .workflow
        .submit(jobs[0].request.clone(), &options, &mut |_| {})
        .await
        .expect_err("the answer was dropped");
    let attempts = fixture.sim.stats().submit_attempts;
    let report = tokio::time::timeout(
        Duration::from_secs(20),
        fixture.batch(fixture.options()).run(jobs, |_| {}),
    )
    .await
    .expect("the run ends without waiting for the live worker")
    .expect("run");
    assert_eq!(
        statuses(&report),
        [
            ("job-0".to_owned(), JobStatus::Unknown),
            ("job-1".to_owned(), JobStatus::Downloaded)
        ]
    );
    assert_eq!(fixture.sim.stats().submit_attempts, attempts + 1);
    fixture.finish().await;
}

#[tokio::test]
async fn an_intent_without_a_key_taken_over_from_a_dead_worker_is_recorded_as_settled() {
    let fixture = Fixture::new("settled-take-over").await;
    let jobs = jobs(1, &[]);
    // A worker claimed job-0 and died before any answer was recorded.
    let intent = vidspec_journal::Intent {
        model: MODEL.to_owned(),
        request: vidspec_batch::job_key("march", "job-0"),
        job: Some(vidspec_batch::job_ref("march", "job-0")),
        lease: Some(vidspec_journal::Lease {
            owner: "dead-worker".to_owned(),
            seconds: 0,
        }),
        ..Default::default()
    };
    TaskStore::claim(
        &fixture.ledger,
        intent,
        vidspec_journal::Guard::Once {
            retry_failed: false,
        },
    )
    .await
    .expect("claimed by the dead worker");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let report = fixture
        .batch(fixture.options())
        .run(jobs, |_| {})
        .await
        .expect("run");
    assert_eq!(report.rows[0].status, JobStatus::Unknown);
    let entry =
        TaskStore::latest_with_request(&fixture.ledger, vidspec_batch::job_key("march", "job-0"))
            .await
            .expect("look")
            .expect("the entry");
    // Other workers read a settled reason as final instead of waiting for
    // this worker's lease on it.
    assert_ne!(
        entry.reason.as_deref(),
        Some(vidspec_journal::NO_ANSWER_RECORDED)
    );
    assert_eq!(fixture.sim.stats().submit_attempts, 0);
    fixture.finish().await;
}

#[tokio::test]
async fn temporary_files_a_killed_download_left_are_removed_once_their_job_is_saved() {
    let fixture = Fixture::new("sweep").await;
    std::fs::create_dir_all(fixture.out()).expect("out");
    let left = fixture.out().join(".job-0-AI3K4t.part");
    let other_jobs = fixture.out().join(".job-0-x-AI3K4t.part");
    std::fs::write(&left, b"cut short").expect("left");
    std::fs::write(&other_jobs, b"another job's").expect("other");
    let report = fixture
        .batch(fixture.options())
        .run(jobs(2, &[]), |_| {})
        .await
        .expect("run");
    assert!(
        all(&report, JobStatus::Downloaded),
        "{:?}",
        statuses(&report)
    );
    assert!(!left.exists(), "the leftover of job-0 is removed");
    assert!(other_jobs.exists(), "a name of another job is left alone");
    fixture.finish().await;
}
