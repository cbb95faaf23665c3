//! Ledger throughput on PostgreSQL: batch jobs claimed per second by 4
//! workers, and expired entries taken over per second by 4 workers.
//!
//! ```text
//! eval "$(.ci/postgres)"
//! cargo run --release -p vidspec-journal --example pg_claims -- [JOBS] [URL]
//! ```
//!
//! Each worker is its own [`PgLedger`] handle (its own connections), as a
//! worker process is. Phase 1: the workers claim `JOBS` distinct jobs of one
//! run between them, one `Guard::Once` claim after another, each with a
//! lease of 0 seconds. Phase 2, once those leases have ended: the workers
//! take the entries over, `TAKE` at a time, until none is left (checking
//! that no entry was taken twice). It works in a schema of its own, dropped
//! at the end, and prints one line:
//! `pg_claims: workers=4 jobs=N claims_per_s=… takeovers_per_s=…`.
//! The URL defaults to `VIDSPEC_TEST_POSTGRES`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use tokio_postgres::NoTls;
use vidspec_journal::{Claim, Guard, Intent, JobRef, Lease, PgLedger, TaskStore};

const WORKERS: usize = 4;
/// Entries one take-over asks for.
const TAKE: usize = 25;
const RUN: &str = "bench";

fn job_intent(job: usize, owner: &str) -> Intent {
    Intent {
        model: "m".into(),
        spec: "s".into(),
        request: format!("{RUN}/{job}"),
        endpoint: "/v1/x".into(),
        job: Some(JobRef {
            run: RUN.into(),
            job: job.to_string(),
        }),
        lease: Some(Lease {
            owner: owner.into(),
            seconds: 0,
        }),
        ..Intent::default()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut arguments = std::env::args().skip(1);
    let jobs: usize = match arguments.next() {
        Some(jobs) => jobs.parse()?,
        None => 4_000,
    };
    let Some(server) = arguments
        .next()
        .or_else(|| std::env::var("VIDSPEC_TEST_POSTGRES").ok())
    else {
        return Err("name a server: pass its URL, or set VIDSPEC_TEST_POSTGRES \
                    (eval \"$(.ci/postgres)\" starts one)"
            .into());
    };
    let schema = format!("bench_{:016x}", fastrand::u64(..));
    let (admin, connection) = tokio_postgres::connect(&server, NoTls).await?;
    tokio::spawn(connection);
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await?;
    let mut url = url::Url::parse(&server)?;
    url.query_pairs_mut()
        .append_pair("options", &format!("-csearch_path={schema}"));
    let result = measure(url.as_str(), jobs).await;
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await?;
    let (claims_per_s, takeovers_per_s) = result?;
    println!(
        "pg_claims: workers={WORKERS} jobs={jobs} claims_per_s={claims_per_s:.0} \
         takeovers_per_s={takeovers_per_s:.0}"
    );
    Ok(())
}

async fn measure(url: &str, jobs: usize) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        workers.push(PgLedger::open(url).await?);
    }

    let started = Instant::now();
    let mut tasks = Vec::new();
    for (worker, store) in workers.iter().enumerate() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let owner = format!("claimer {worker}");
            let mut claimed = 0usize;
            for job in (worker..jobs).step_by(WORKERS) {
                let once = Guard::Once {
                    retry_failed: false,
                };
                if let Claim::Claimed(_) = store.claim(job_intent(job, &owner), once).await? {
                    claimed += 1;
                }
            }
            Ok::<usize, vidspec_journal::LedgerError>(claimed)
        }));
    }
    let mut claimed = 0;
    for task in tasks {
        claimed += task.await??;
    }
    let claims_per_s = claimed as f64 / started.elapsed().as_secs_f64();
    if claimed != jobs {
        return Err(format!("{claimed} of {jobs} jobs claimed").into());
    }

    // Leases of 0 seconds end once the database's clock passes their second.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (worker, store) in workers.iter().enumerate() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let owner = format!("taker {worker}");
            let mut taken = Vec::new();
            loop {
                let entries = store
                    .take_over(RUN.into(), owner.clone(), 600, TAKE)
                    .await?;
                if entries.is_empty() {
                    return Ok::<Vec<String>, vidspec_journal::LedgerError>(taken);
                }
                taken.extend(entries.into_iter().map(|entry| entry.entry));
            }
        }));
    }
    let mut taken = BTreeSet::new();
    let mut taken_count = 0;
    for task in tasks {
        let entries = task.await??;
        taken_count += entries.len();
        taken.extend(entries);
    }
    let takeovers_per_s = taken_count as f64 / started.elapsed().as_secs_f64();
    if taken.len() != jobs || taken_count != jobs {
        return Err(format!(
            "{taken_count} take-overs of {} distinct entries, for {jobs} jobs",
            taken.len()
        )
        .into());
    }
    Ok((claims_per_s, takeovers_per_s))
}
