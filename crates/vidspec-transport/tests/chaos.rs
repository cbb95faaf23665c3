//! The fault-injection run: 200 tasks submitted and waited for by one client
//! against a simulator that answers 10% of polls with 5xx, 10% with 429, drops
//! connections, answers slowly and sends broken JSON (submits get 429s and
//! slow answers: the faults a submit may safely be retried on). Every task must
//! end in a definite outcome, the simulator must count exactly 200 submits,
//! and every finished video must arrive intact. Run with `--nocapture` to see
//! the table:
//!
//! `cargo test -p vidspec-transport --test chaos -- --nocapture`

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;
use vidspec_core::Registry;
use vidspec_sim::{Faults, Sim, SimConfig};
use vidspec_transport::{
    ApiKey, Backoff, Client, ClientOptions, DownloadOptions, Error, PollClock, WaitOptions,
};

const TASKS: usize = 200;
const SPEED: f64 = 60.0;
const SUBMIT_FAULTS: &str = "429=0.1,slow=0.05,slow-ms=100,on=submits";
const POLL_FAULTS: &str = "500=0.1,429=0.1,drop=0.05,slow=0.05,malformed=0.02,slow-ms=100,on=polls";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_tasks_survive_injected_faults() {
    let config = SimConfig {
        speed: SPEED,
        fail_rate: 0.05,
        faults: Faults::parse(SUBMIT_FAULTS).expect("submit faults"),
        seed: 2026,
        ..SimConfig::default()
    };
    let sim = Sim::start("127.0.0.1:0".parse().expect("loopback"), config)
        .await
        .expect("sim");
    let client = Client::new(
        ApiKey::new("sim-key"),
        ClientOptions {
            base_url: sim.base_url(),
            requests_per_second: 400.0,
            timeout: Duration::from_secs(5),
            poll_backoff: Backoff::fast(),
            submit_backoff: Backoff::fast(),
            ..ClientOptions::default()
        },
    )
    .expect("client");
    let registry = Registry::embedded();
    let model = registry.model("Omni-Flash-Ext").expect("model");
    let started = Instant::now();

    let mut handles = Vec::new();
    for index in 0..TASKS {
        let plan = model
            .prepare(json!({"model": "Omni-Flash-Ext", "prompt": format!("chaos fox {index}")}))
            .expect("valid");
        handles.push(
            client
                .submit(&plan)
                .await
                .expect("429s and slow answers on submit are ridden out"),
        );
    }
    sim.set_faults(Faults::parse(POLL_FAULTS).expect("poll faults"));
    let results = client
        .with_poll_clock(PollClock::simulated(SPEED))
        .wait_all(&handles, &WaitOptions::default())
        .await;

    let dir = std::env::temp_dir().join(format!("vidspec-chaos-{}", std::process::id()));
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut intact = 0;
    let mut succeeded = 0;
    for result in &results {
        match result {
            Ok(outcome) => {
                succeeded += 1;
                *outcomes.entry("succeeded").or_default() += 1;
                let files = client
                    .download(outcome, &dir, &DownloadOptions::default())
                    .await
                    .expect("download");
                intact += files
                    .iter()
                    .filter(|file| {
                        std::fs::read(&file.path)
                            .is_ok_and(|bytes| bytes.len() > 8 && &bytes[4..8] == b"ftyp")
                    })
                    .count();
            }
            Err(Error::TaskFailed { .. }) => {
                *outcomes.entry("failed (task_failed)").or_default() += 1
            }
            Err(other) => panic!("an indefinite outcome: {other}"),
        }
    }
    let stats = sim.stats();
    let elapsed = started.elapsed();
    println!();
    println!(
        "fault-injection run: {TASKS} tasks, simulator at {SPEED}x, one client (400 requests/s cap)"
    );
    println!("  faults on submits: {SUBMIT_FAULTS}");
    println!("  faults on polls:   {POLL_FAULTS}");
    println!("  | outcome               | tasks |");
    println!("  |-----------------------|-------|");
    for (outcome, count) in &outcomes {
        println!("  | {outcome:<21} | {count:>5} |");
    }
    println!("  | counter               | value |");
    println!("  |-----------------------|-------|");
    for (name, value) in [
        ("submits (tasks made)", stats.submits),
        ("submit attempts", stats.submit_attempts),
        ("polls", stats.polls),
        ("faults injected", stats.faults_injected),
        ("downloads", stats.downloads),
        ("tasks completed", stats.tasks_completed),
        ("tasks failed", stats.tasks_failed),
    ] {
        println!("  | {name:<21} | {value:>5} |");
    }
    println!(
        "  polls per task {:.1}; videos intact {intact}/{succeeded}; {:.1} s",
        stats.polls as f64 / TASKS as f64,
        elapsed.as_secs_f64()
    );

    assert_eq!(
        outcomes.values().sum::<usize>(),
        TASKS,
        "every task has a definite outcome"
    );
    assert_eq!(
        stats.submits, TASKS as u64,
        "exactly one task per request, none twice"
    );
    assert_eq!(intact, succeeded, "every finished video arrived intact");
    assert!(stats.faults_injected > 0);
    let _ = std::fs::remove_dir_all(&dir);
    sim.shutdown().await;
}
