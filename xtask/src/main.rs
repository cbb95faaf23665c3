//! `cargo xtask`: the workspace's maintenance commands.
//!
//! Owns argument dispatch only. `codegen` writes every generated file and
//! `check` verifies them (plus spec lint and meta-schema validation); both live
//! in `codegen.rs`, the capability matrix `docs/models.md` is rendered by
//! `docs.rs` and the key tables of `docs/spec-language.md` by `language.rs`. `fuzz` runs the cargo-fuzz targets of `fuzz/` (`fuzz.rs`); `loadtest`
//! measures the poller and webhooks against the simulator (`loadtest.rs`);
//! `batch-chaos` kills `vidspec batch run` workers against the simulator and
//! counts from its side (`batch_chaos.rs`).

mod batch_chaos;
mod codegen;
mod docs;
mod fuzz;
mod language;
mod loadtest;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  codegen   write schemas/spec.schema.json, schemas/vocabulary.schema.json,
            schemas/models/<model>.json, docs/models.md and the key tables
            of docs/spec-language.md
  check     fail if a generated file is stale or missing, a spec does not lint,
            a model schema is not a valid draft 2020-12 schema, or a spec key
            is not explained in docs/spec-language.md
  fuzz [--seconds N] [--target spec_loader|prepare|all]
            run the cargo-fuzz targets in fuzz/ for N seconds each (default 60);
            needs `cargo install cargo-fuzz`
  loadtest [--tasks N] [--speed S]
            vidspec's poller against a fixed 5 s poller and against webhooks
            (with a 60 s fallback poll) on the simulator (default 2000 tasks);
            prints API requests per task, detection lag, peak RSS and CPU, a
            `loadtest-webhook: …` line and a last `loadtest: …` line for scripts
  batch-chaos [--ledger sqlite|postgres] [--workers W] [--jobs N] [--seed S]
            [--kills K] [--no-idempotency] [--no-webhooks] [--speed X]
            [--concurrency C] [--faults SPEC] [--timeout SECONDS] [--vidspec PATH] [--keep]
            N jobs (default 500) through W `vidspec batch run` processes (default 2)
            sharing one ledger, against the simulator with faults and dropped
            callbacks, SIGKILLing workers at seeded random moments; counts from
            the simulator's side; last line `batch-chaos: ledger=L workers=W
            jobs=N kills=K submits=S videos=V duplicates=D lost=X`; exits 1 when
            duplicates or lost are not 0 or a check fails (postgres needs
            VIDSPEC_TEST_POSTGRES, see .ci/postgres)
  help      print this message";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = codegen::workspace_root();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["codegen"] => match codegen::write(&root) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("xtask codegen: {error:#}");
                ExitCode::FAILURE
            }
        },
        ["check"] => match codegen::check(&root) {
            Ok(report) if report.failures.is_empty() => {
                println!("{}", report.summary());
                ExitCode::SUCCESS
            }
            Ok(report) => {
                for failure in &report.failures {
                    eprintln!("{failure}");
                }
                eprintln!("xtask check: {} problem(s)", report.failures.len());
                ExitCode::FAILURE
            }
            Err(error) => {
                eprintln!("xtask check: {error:#}");
                ExitCode::FAILURE
            }
        },
        ["fuzz", rest @ ..] => fuzz::main(&root, rest),
        ["loadtest", rest @ ..] => loadtest::main(rest),
        ["batch-chaos", rest @ ..] => batch_chaos::main(&root, rest),
        ["__loadtest-sim", rest @ ..] => loadtest::sim_main(rest),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        [] => {
            eprintln!("{USAGE}");
            ExitCode::FAILURE
        }
        [other, ..] => {
            eprintln!("xtask: unknown command or arguments starting at `{other}`\n\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}
