//! The `vidspec` binary: parse the command line, run one command, map the
//! outcome to an exit code.
//!
//! Owns the exit-code contract (0 valid or done, 1 invalid request or unknown
//! model, 2 usage error or broken specs, 3 gateway or network failure, 4 task
//! failed or deadline passed, 5 a task exists that the ledger could not
//! record; `batch run` adds 6 jobs left unknown, 7 stopped by the budget
//! and 130 interrupted) and how failures reach stderr. It must stay
//! thin: no validation, no rendering, no knowledge of any model.

mod batch;
mod batch_display;
mod batch_plan;
mod batch_run;
mod batch_webhook;
mod catalog;
mod check;
mod cli;
mod follow;
mod gateway;
mod lint;
mod output;
mod progress;
mod record;
mod registry;
#[cfg(feature = "sim")]
mod simulate;
mod submit;
mod test_cases;

use std::process::ExitCode;

use clap::Parser;
use vidspec_core::SpecErrors;

use crate::cli::{Cli, Command};
use crate::output::View;

/// mimalloc instead of the C library's allocator: `check --batch` allocates
/// for every key and string of every request, and glibc's malloc and free
/// took 15% of its instructions (see README, Performance, for the figures
/// with and without it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How a command ended, as the process sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done; the request (if any) is valid.
    Valid,
    /// 1: the request is invalid or names an unknown model.
    Invalid,
    /// 2: usage error, unreadable input, broken specs, no API key.
    Usage,
    /// 3: the gateway or the network failed.
    Gateway,
    /// 4: a task failed, or the wait's deadline passed.
    TaskFailed,
    /// 5: a task was submitted (or ended) but the ledger could not record it;
    /// the message names the task and the command that waits for it.
    Unrecorded,
    /// 6 (`batch run`): some jobs were sent but their answer was lost; they
    /// may have been charged and are never resubmitted.
    Unknown,
    /// 7 (`batch run`): the budget stopped the run before every job was
    /// submitted.
    BudgetStopped,
    /// 130 (`batch run`): interrupted by Ctrl-C; running the command again
    /// resumes.
    Interrupted,
}

impl Exit {
    /// `self` unless `other` already says something went wrong.
    pub fn or(self, other: Exit) -> Exit {
        if other == Exit::Valid { self } else { other }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        match exit {
            Exit::Valid => ExitCode::SUCCESS,
            Exit::Invalid => ExitCode::from(1),
            Exit::Usage => ExitCode::from(2),
            Exit::Gateway => ExitCode::from(3),
            Exit::TaskFailed => ExitCode::from(4),
            Exit::Unrecorded => ExitCode::from(5),
            Exit::Unknown => ExitCode::from(6),
            Exit::BudgetStopped => ExitCode::from(7),
            Exit::Interrupted => ExitCode::from(130),
        }
    }
}

fn main() -> ExitCode {
    // clap prints usage errors and exits 2 itself (0 for --help and --version).
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Models(args) => catalog::models(args),
        Command::Schema(args) => catalog::schema(args),
        Command::Check(args) if args.batch => check::run_batch(&args.request, args.jobs),
        Command::Check(args) => check::run(&args.request, View::Check),
        Command::Explain(args) => check::run(args, View::Explain),
        Command::Submit(args) => submit::submit(args),
        Command::Status(args) => follow::status(args),
        Command::Wait(args) => follow::wait(args),
        Command::Tasks(args) => follow::tasks(args),
        Command::Resume(args) => follow::resume(args),
        Command::Batch(command) => batch::run(command),
        Command::Lint(args) => lint::run(args),
        Command::Test(args) => test_cases::run(args),
        #[cfg(feature = "sim")]
        Command::Sim(args) => simulate::run(args),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(error) => {
            report_failure(&error);
            Exit::Usage.into()
        }
    }
}

/// Prints a failure on stderr: each spec problem on its own line, else the
/// error with its causes.
fn report_failure(error: &anyhow::Error) {
    if is_broken_pipe(error) {
        // The reader went away (`vidspec models | head -1`); nothing to say.
        return;
    }
    if let Some(problems) = error.downcast_ref::<SpecErrors>() {
        for problem in &problems.problems {
            eprintln!("error: {}", output::terminal(&problem.to_string()));
        }
        eprintln!("error: {error} ({} problem(s))", problems.problems.len());
    } else {
        eprintln!("error: {}", output::terminal(&format!("{error:#}")));
    }
    let ledger = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<vidspec_journal::LedgerError>());
    if let Some(hint) = ledger.and_then(output::ledger_hint) {
        eprintln!("hint: {}", output::terminal(&hint));
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
