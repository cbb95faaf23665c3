//! The command-line surface: clap types for every subcommand, their flags and
//! their `--help` text (with an example and the exit codes of each command).
//!
//! This module only describes arguments. It must not read files, load specs or
//! print anything; `main` dispatches the parsed [`Cli`] to the command modules.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The exit codes of `check` and `explain`, as help text (a literal, for `concat!`).
macro_rules! request_exit_codes {
    () => {
        "Exit codes:\n  \
         0  the request is valid\n  \
         1  the request is invalid: a rule is broken, the JSON is malformed, or the \
         model is missing or unknown\n  \
         2  usage error: a bad flag, an unreadable FILE, or a broken spec in --specs"
    };
}

/// Exit codes of the commands that talk to the gateway.
macro_rules! remote_exit_codes {
    () => {
        "Exit codes:\n  \
         0  done (submitted; or every task succeeded and was downloaded)\n  \
         1  the request is invalid (nothing was sent)\n  \
         2  usage error: a bad flag, an unreadable FILE, a broken spec, no API key\n  \
         3  the gateway or the network failed (see the message for what to do)\n  \
         4  a task failed, or the deadline passed before it ended\n  \
         5  a task exists but the ledger could not record it (the message names the task \
and the `vidspec wait` command that finishes it: do not submit again)"
    };
}

/// Validate and explain video-generation requests against declarative model specs.
#[derive(Debug, Parser)]
#[command(name = "vidspec", version, propagate_version = true)]
#[command(
    long_about = "Validate and explain video-generation requests against declarative \
model specs before any money is spent.\n\n\
The specs built into this binary are used; --specs DIR adds spec files or replaces \
built-in families.\n\n\
Start with `vidspec models`, then `vidspec check request.json`."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the models the specs define.
    #[command(long_about = "List the models the specs define: id, family and modes \
(text: an aligned table; json: an array sorted by id, with endpoint and description).\n\n\
Example:\n  vidspec models --format json\n\n\
Exit codes:\n  \
0  listed\n  \
2  usage error, or a broken spec in --specs")]
    Models(ModelsArgs),

    /// Print the JSON Schema a model's requests are validated with.
    #[command(
        long_about = "Print the JSON Schema (draft 2020-12) a model's requests are \
validated with: the very schema `check` runs, so tools in other languages can validate \
the same way.\n\n\
Example:\n  vidspec schema MODEL > model.schema.json\n\n\
Exit codes:\n  \
0  printed\n  \
1  unknown model\n  \
2  usage error, or a broken spec in --specs"
    )]
    Schema(SchemaArgs),

    /// Check a request: valid, or every reason it is not.
    #[command(long_about = concat!(
        "Check a request JSON against its model's spec and report every problem at once, \
like a compiler: one `error: FILE: /path: message [rule, code]` line per problem, then a \
summary line. --format json prints one JSON object with the keys valid, model, mode, body, \
effective, warnings, errors and billing.\n\n\
The model comes from --model, else from the request's top-level \"model\" string. With \
--model and no \"model\" field in the request, the model is added to it.\n\n\
With --batch, FILE (or `-`) holds one request per line (JSON Lines) and one compact \
JSON object per line is printed, in order — the same object as --format json. It \
streams: memory stays flat on files of millions of lines. A line ends at LF, CRLF or a \
lone CR; a line longer than 1 MiB is one invalid result and is skipped without being \
held (check such a request on its own: a single request may be 16 MiB). Exit 0 when \
every line is valid, 1 otherwise. Lines are checked on every core this process may use (--jobs N to \
choose), in blocks, and the results are printed in input order.\n\n\
Examples:\n  vidspec check request.json\n  \
vidspec check --model MODEL --format json - < request.json\n  \
vidspec check --batch requests.jsonl > verdicts.jsonl\n\n",
        request_exit_codes!()
    ))]
    Check(CheckArgs),

    /// Show what a request would do: mode, endpoint, body, defaults, billing.
    #[command(long_about = concat!(
        "Explain a request: the model, family and mode it selects, the endpoint it is sent \
to, the exact body sent, the effective values (defaults filled in), warnings, the billing \
key and the checks left for submission time (images, referenced tasks). An invalid request \
prints its errors as `check` does. --format json prints the same object as \
`check --format json`.\n\n\
Examples:\n  vidspec explain request.json\n  \
vidspec explain --model MODEL - < request.json\n\n",
        request_exit_codes!()
    ))]
    Explain(RequestArgs),

    /// Submit a request to the gateway (validated first; optionally wait and download).
    #[command(long_about = concat!(
        "Submit a request: it is validated first, and an invalid request never reaches the \
network. Local image paths in URL fields (\"./cat.png\") are uploaded through the gateway's \
upload endpoint and replaced by the returned URL. With --wait, polls until the task ends \
(a progress bar on a terminal, plain lines otherwise); with --download DIR, saves the videos.\n\n\
The API key comes from APIMART_API_KEY and is never printed. The gateway is \
$APIMART_BASE_URL or https://api.apimart.ai unless --base-url is given.\n\n\
Examples:\n  vidspec submit request.json --wait --download videos/\n  \
vidspec sim --speed 50 &   # then:\n  \
APIMART_API_KEY=sim-key vidspec submit --base-url http://127.0.0.1:PORT --poll-scale 50 \
request.json --wait --download videos/\n\n",
        remote_exit_codes!()
    ))]
    Submit(SubmitArgs),

    /// Show the current state of tasks.
    #[command(long_about = concat!(
        "Poll tasks once and show status, progress, cost, video URLs (with expiry) or the \
error. Without --model, the answers are read with every spec's task section merged.\n\n\
Example:\n  vidspec status task_01JW… task_01JX…\n\n",
        remote_exit_codes!()
    ))]
    Status(StatusArgs),

    /// Wait for tasks to end, optionally downloading their videos.
    #[command(long_about = concat!(
        "Wait for one or more tasks (all at once, sharing one request-rate cap) and \
optionally download their videos.\n\n\
Example:\n  vidspec wait task_01JW… --download videos/\n\n",
        remote_exit_codes!()
    ))]
    Wait(WaitArgs),

    /// List the submissions in the ledger.
    #[command(
        long_about = "List the submissions recorded in the ledger (every submit is \
recorded before it is sent): state, task id, model, when, and why it failed or where its \
videos went. States: unknown (the answer was lost: it may have been charged), running, \
succeeded (videos not saved yet), downloaded, failed, not_sent.\n\n\
Every unfinished submission (unknown, running, succeeded) is listed, then the newest \
finished ones (--limit, 20 by default), oldest first; a last line counts the finished ones \
not shown. --all lists every one. --state narrows both.\n\n\
The ledger is an SQLite file: --journal PATH, else $VIDSPEC_JOURNAL, else \
$XDG_STATE_HOME/vidspec/ledger.sqlite3 (~/.local/state/vidspec/ledger.sqlite3). A JSON-lines \
journal of an older vidspec is imported the first time, once, and left as it was: the \
default journal.jsonl beside the default ledger, or a --journal NAME.jsonl into NAME.sqlite3 \
(any other JSON-lines file PATH into PATH.sqlite3). Its damaged lines are reported as \
PATH:LINE and skipped.\n\n\
Example:\n  vidspec tasks --state running\n\n\
Exit codes:\n  0  listed\n  2  usage error, or a ledger that is damaged, locked or unreadable \
(the message says what to do)"
    )]
    Tasks(TasksArgs),

    /// Finish what the ledger says is unfinished: wait, download, report.
    #[command(long_about = concat!(
        "Resume after a crash, a kill or a closed laptop: wait for every running task in the \
ledger, download the videos of every finished task that has not been saved (into --download \
DIR, else the directory given at submission), warn about URLs near expiry, and list \
submissions whose answer was lost (they may have been charged: check before sending again).\n\n\
Example:\n  vidspec resume --download videos/\n\n",
        remote_exit_codes!()
    ))]
    Resume(ResumeArgs),

    /// Lint spec files: print every error and warning, with file:line:column.
    #[command(
        long_about = "Lint the specs and print every problem at once, like a compiler: \
one `error: FILE:LINE:COLUMN: message` or `warning: …` line per problem, with the \
spec line it points at and a caret under the column, then a summary line. Without --specs the specs built \
into this binary are linted; with --specs DIR, every *.yaml in DIR together with the \
built-in specs, as `check --specs DIR` loads them (a family in DIR replaces the built-in \
one). Warnings mark what is allowed but almost surely not meant (a default that decides a \
rule on its own); they do not fail the lint unless --deny-warnings.\n\n\
Example:\n  vidspec lint --specs my-specs/\n\n\
Exit codes:\n  \
0  no errors (warnings alone exit 0, unless --deny-warnings)\n  \
1  errors, or warnings with --deny-warnings\n  \
2  usage error: a bad flag, or DIR is not a readable directory"
    )]
    Lint(LintArgs),

    /// Run your ok/err case folders against your specs, with snapshots.
    #[command(long_about = "Run a spec author's cases against their specs: every \
CASES_DIR/<family>/ok/*.json must be a valid request and every \
CASES_DIR/<family>/err/*.json must be refused; an err file whose name starts with a rule \
number (`A3-duration-7.json`) must be refused citing that rule. A CASES_DIR that holds \
ok/ and err/ itself is one family's cases: the family of the one spec file in the folder \
above it. A case without \"model\", or naming a model its family lacks (a wrong-model case), \
is checked against its family's first model.\n\n\
The plan of a valid case, or the diagnostics of an invalid one, is a snapshot in \
CASES_DIR/snapshots/ (insta's file format). A new or changed one is written as \
`.snap.new` beside it and fails the run until accepted: read it (or the diff printed), \
then run again with --accept (inside a Cargo package, `cargo insta review` \
reads them too).\n\n\
CASES_DIR defaults to DIR/cases. One line per case (ok, new, changed with its diff, \
failed with why), then a summary line.\n\n\
Examples:\n  vidspec test --specs .\n  vidspec test --specs . --accept\n  \
vidspec test --specs my-specs/ my-cases/\n\n\
Exit codes:\n  \
0  every case passed and every snapshot is accepted\n  \
1  a case failed, or a snapshot is new or changed and not accepted\n  \
2  usage error: a bad flag, a broken spec in DIR, or no cases in CASES_DIR")]
    Test(TestArgs),

    /// Run, estimate or summarise a batch: a manifest of many requests.
    #[command(subcommand)]
    Batch(BatchCommand),

    /// Run a simulated gateway on loopback, for trying vidspec offline.
    #[cfg(feature = "sim")]
    #[command(
        long_about = "Run a fake gateway on loopback: both submit endpoints, task \
polling with tasks that move from submitted through processing to completed (or failed), \
downloadable MP4 results, image uploads, and injected faults. Its first line of output is \
`listening on http://ADDR`. It accepts the API key given by --api-key (default sim-key). \
Stop it with Ctrl-C.\n\n\
A model id the simulator has no checks for (a model added as data with --specs), or a \
submit posted to a path under /v1/ it has no route for, gets a generic task that succeeds \
with a video, so a new spec can be tried end to end; the seed models keep their checks.\n\n\
Faults: a comma-separated list such as \"429=0.1,500=0.1,402=0.01,drop=0.05,slow=0.05,\
malformed=0.02,retry-after=2,slow-ms=500,on=polls\" (rates from 0 to 1); \
idem-unavailable and idem-indeterminate hit only submits that carry an Idempotency-Key \
(503 idempotency_unavailable; 409 idempotency_result_indeterminate).\n\n\
Example:\n  vidspec sim --speed 50 --faults 429=0.1\n\n\
Exit codes:\n  0  stopped\n  2  usage error or the address cannot be bound"
    )]
    Sim(SimArgs),
}

/// Exit codes of `batch run`, as help text (a literal, for `concat!`).
macro_rules! batch_exit_codes {
    () => {
        "Exit codes:\n  \
         0  every job is downloaded (lines skipped with --skip-invalid aside)\n  \
         1  invalid lines in the manifest: nothing was sent (--skip-invalid runs the valid ones)\n  \
         2  usage error: a bad flag, an unreadable manifest or ledger, a broken spec, no API key\n  \
         3  the balance does not cover the run, or the gateway or the network failed before \
it started\n  \
         4  some jobs failed, were refused (not sent) or still ran at the deadline; run again \
to continue (failed ones only with --retry-failed, and they are paid again)\n  \
         6  some jobs are unknown: sent, but the answer was lost; they may have been charged \
and, with no idempotency key to resend them under, are never submitted again (see \
`vidspec batch status`)\n  \
         7  the budget stopped the run: some jobs were not submitted (raise --budget and run again)\n  \
         130  interrupted (Ctrl-C): nothing new was submitted; run the same command again to resume\n\
         When several hold, the first of 6, 4 and 7 is the exit code: unknown jobs matter most."
    };
}

/// The `batch` subcommands.
#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Run every job of a manifest: validated first, resumable, within a budget.
    #[command(long_about = concat!(
        "Run a manifest: a JSON Lines file, one job per line. A line is a request object \
with two optional keys of the batch's own: \"id\" (the job id; default: a digest of the \
line) and \"model\" (else the request's own \"model\" routes it).\n\n\
Every line is validated before anything is sent; all invalid lines are reported at once \
(line number, job id, each problem) and the run refuses to start unless --skip-invalid. \
When the gateway offers a balance, it is checked first. At most --concurrency jobs run at \
once, within --rps requests per second; videos are downloaded as they finish, into \
--out as `<job id>-<n>.<ext>` (n from 0).\n\n\
The run is resumable: the ledger records each job under its run (--run, default the \
manifest's file stem) and id, so running the same command again continues. Downloaded \
jobs are skipped, running ones waited for, failed ones retried only with --retry-failed, \
and a job whose submit was sent but never answered (unknown) is resent under its \
idempotency key when the model has one, else left unknown and listed: it may have been \
charged and is never submitted twice. Several processes (on several machines with \
--ledger postgres://…) can run the same manifest: each claims jobs under a lease \
(--lease) renewed while it works, and takes over the jobs of a worker whose lease ended.\n\n\
On a terminal, one bar shows queued, running, done, failed and spent, with the slowest \
running tasks under it; otherwise plain lines (one per submit, finish and stop, and a \
summary every 10 s). At the end a table lists each job (status, task id, mode, billing \
key, cost, files); --report FILE writes the same as JSON lines. Ctrl-C stops submitting, \
releases this worker's leases and says how to resume.\n\n\
With --webhook-listen ADDR --webhook-url URL, a callback receiver listens on ADDR and the \
gateway is told to call URL (with a secret token added to its path; the token is never \
printed). A callback only makes the runner look at its task again through the API; \
sparse polling catches callbacks that never come.\n\n\
Examples:\n  vidspec batch plan jobs.jsonl --prices prices.yaml\n  \
vidspec batch run jobs.jsonl --out videos/ --concurrency 8 --budget 25 --report report.jsonl\n  \
vidspec batch run jobs.jsonl --ledger postgres://vidspec@db/vidspec   # on each machine\n  \
vidspec batch status --run jobs\n\n",
        batch_exit_codes!()
    ))]
    Run(Box<BatchRunArgs>),

    /// Estimate what a manifest will cost, per model and in total.
    #[command(
        long_about = "Estimate a manifest's cost before running it: the cost per \
model and in total, the jobs that have no known price, and where each price came from: \
--prices FILE (a YAML map from billing-key patterns to USD amounts, `*` matching any \
text), else the prices the ledger learned from the cost the gateway reported for \
completed tasks of the same billing key. Jobs already downloaded in the ledger's run are \
not counted again. Nothing is sent.\n\n\
Examples:\n  vidspec batch plan jobs.jsonl\n  vidspec batch plan jobs.jsonl --prices prices.yaml --json\n\n\
Exit codes:\n  \
0  estimated (jobs without a price are listed, not an error)\n  \
1  invalid lines in the manifest (listed; they are not estimated)\n  \
2  usage error: a bad flag, an unreadable manifest, price file or ledger"
    )]
    Plan(BatchPlanArgs),

    /// Summarise a run from the ledger: jobs per state, spent, what is left.
    #[command(
        long_about = "Summarise a run from the ledger, without talking to the \
gateway: how many jobs are in each state (not sent, unknown, running, succeeded, \
downloaded, failed), what was spent, and the jobs that need attention (unknown, failed). \
Name the run with --run, or give its MANIFEST (the run is then its file stem, as \
`batch run` names it).\n\n\
Examples:\n  vidspec batch status --run jobs\n  vidspec batch status jobs.jsonl --json\n\n\
Exit codes:\n  \
0  summarised\n  \
2  usage error: neither --run nor MANIFEST, or an unreadable ledger"
    )]
    Status(BatchStatusArgs),
}

/// Which task store a batch uses.
#[derive(Debug, Args)]
pub struct LedgerArgs {
    /// The task store: an SQLite file, or a PostgreSQL URL (postgres://…)
    /// that several workers share [default: $VIDSPEC_JOURNAL, else
    /// $XDG_STATE_HOME/vidspec/ledger.sqlite3].
    #[arg(long, value_name = "PATH|postgres://…")]
    pub ledger: Option<String>,
}

/// Arguments of `batch run`.
#[derive(Debug, Args)]
pub struct BatchRunArgs {
    /// The manifest: JSON Lines, one job per line.
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,

    /// The run's name in the ledger [default: the manifest's file stem].
    #[arg(long, value_name = "NAME")]
    pub run: Option<String>,

    /// Save the videos in DIR, as `<job id>-<n>.<ext>` (n from 0).
    #[arg(long, value_name = "DIR", default_value = "videos")]
    pub out: PathBuf,

    /// Run at most N jobs at once (submitted and not yet ended).
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub concurrency: u32,

    /// Send at most R requests per second to the gateway, submits, polls
    /// and downloads together (the gateway allows about 500 a minute).
    #[arg(long, value_name = "R", default_value_t = 7.0)]
    pub rps: f64,

    /// Run the valid lines even when some are invalid (those are reported and skipped).
    #[arg(long)]
    pub skip_invalid: bool,

    /// Submit failed jobs again (each is paid for again).
    #[arg(long)]
    pub retry_failed: bool,

    /// Stop submitting once what was spent plus the estimate of what is
    /// running would pass this many USD.
    #[arg(long, value_name = "USD")]
    pub budget: Option<f64>,

    /// A price file: a YAML map from billing-key patterns to USD amounts
    /// (used by --budget; learned prices fill the gaps).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,

    /// Also write the report as JSON lines into FILE (one object per job).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    #[command(flatten)]
    pub ledger: LedgerArgs,

    /// Listen for the gateway's callbacks on ADDR (e.g. 0.0.0.0:8080);
    /// needs --webhook-url.
    #[arg(long, value_name = "ADDR", requires = "webhook_url")]
    pub webhook_listen: Option<std::net::SocketAddr>,

    /// The public URL that reaches --webhook-listen (e.g.
    /// https://hooks.example.com/vidspec); a secret token is added to it.
    #[arg(long, value_name = "URL", requires = "webhook_listen")]
    pub webhook_url: Option<String>,

    /// This worker's lease on the jobs it claims, in seconds; renewed every
    /// third of it while the worker lives, taken over by another worker
    /// once it ends.
    #[arg(long, value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u32).range(3..=86_400))]
    pub lease: u32,

    #[command(flatten)]
    pub specs: SpecsArgs,

    #[command(flatten)]
    pub limits: DownloadLimitArgs,

    /// Overwrite files that already exist in the output directory.
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub gateway: GatewayArgs,
}

/// Arguments of `batch plan`.
#[derive(Debug, Args)]
pub struct BatchPlanArgs {
    /// The manifest: JSON Lines, one job per line.
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,

    /// The run's name in the ledger [default: the manifest's file stem].
    #[arg(long, value_name = "NAME")]
    pub run: Option<String>,

    /// A price file: a YAML map from billing-key patterns to USD amounts.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,

    #[command(flatten)]
    pub ledger: LedgerArgs,

    #[command(flatten)]
    pub specs: SpecsArgs,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `batch status`.
#[derive(Debug, Args)]
pub struct BatchStatusArgs {
    /// The manifest whose run to summarise (its file stem names the run).
    #[arg(value_name = "MANIFEST", required_unless_present = "run")]
    pub manifest: Option<PathBuf>,

    /// The run's name.
    #[arg(long, value_name = "NAME")]
    pub run: Option<String>,

    #[command(flatten)]
    pub ledger: LedgerArgs,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Where and how to reach the gateway.
#[derive(Debug, Args)]
pub struct GatewayArgs {
    /// Gateway base URL [default: $APIMART_BASE_URL, else https://api.apimart.ai].
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// Divide the spec's poll delays by N, to match `vidspec sim --speed N`
    /// [default: $VIDSPEC_POLL_SCALE, else 1].
    #[arg(long, value_name = "N")]
    pub poll_scale: Option<f64>,

    /// Allow a plain http:// base URL on another machine (the key would travel
    /// unencrypted); loopback addresses never need it.
    #[arg(long)]
    pub insecure: bool,

    /// Give up waiting after this many seconds [default: the spec's timeout].
    #[arg(long, value_name = "SECONDS")]
    pub deadline: Option<f64>,

    /// Output format: text for people, or one JSON document for scripts.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Arguments of `submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The request JSON file, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    pub input: PathBuf,

    /// The model id; without it, the request's top-level "model" string names the model.
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,

    #[command(flatten)]
    pub specs: SpecsArgs,

    /// Wait for the task to end.
    #[arg(long)]
    pub wait: bool,

    /// Download the videos into DIR (implies --wait).
    #[arg(long, value_name = "DIR")]
    pub download: Option<PathBuf>,

    /// Overwrite files that already exist in the download directory.
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub limits: DownloadLimitArgs,

    /// Submit even when the ledger holds an identical request that is not
    /// finished (it would be paid for twice).
    #[arg(long)]
    pub again: bool,

    /// Skip the pre-flight checks (image format, size and bytes behind URLs
    /// and local paths; the state of tasks the request names). Also
    /// VIDSPEC_PREFLIGHT=off.
    #[arg(long)]
    pub no_preflight: bool,

    #[command(flatten)]
    pub journal: JournalArgs,

    #[command(flatten)]
    pub gateway: GatewayArgs,
}

/// Which ledger to use.
#[derive(Debug, Args)]
pub struct JournalArgs {
    /// The ledger, an SQLite file [default: $VIDSPEC_JOURNAL, else
    /// $XDG_STATE_HOME/vidspec/ledger.sqlite3]. A JSON-lines journal of an
    /// older vidspec (NAME.jsonl) is imported once into NAME.sqlite3.
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
}

/// A journal state, for `tasks --state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateArg {
    /// The submit's answer was lost.
    Unknown,
    /// Accepted, not seen to end.
    Running,
    /// Ended; videos not saved.
    Succeeded,
    /// Ended; videos saved.
    Downloaded,
    /// Ended without a result.
    Failed,
    /// Provably not created.
    NotSent,
    /// Unknown, running or succeeded: may still need attention.
    Unfinished,
}

/// Arguments of `tasks`.
#[derive(Debug, Args)]
pub struct TasksArgs {
    /// Only submissions in this state.
    #[arg(long, value_enum)]
    pub state: Option<StateArg>,

    /// How many of the newest finished submissions to list (unfinished ones
    /// are always listed).
    #[arg(long, value_name = "N", default_value_t = 20, conflicts_with = "all")]
    pub limit: u64,

    /// List every submission, finished ones included.
    #[arg(long)]
    pub all: bool,

    #[command(flatten)]
    pub journal: JournalArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Arguments of `resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// Download the videos into DIR [default: the directory given at submission].
    #[arg(long, value_name = "DIR")]
    pub download: Option<PathBuf>,

    /// Overwrite files that already exist in the download directory.
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub limits: DownloadLimitArgs,

    #[command(flatten)]
    pub specs: SpecsArgs,

    #[command(flatten)]
    pub journal: JournalArgs,

    #[command(flatten)]
    pub gateway: GatewayArgs,
}

/// Arguments of `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Task ids.
    #[arg(value_name = "TASK_ID", required = true)]
    pub tasks: Vec<String>,

    /// The model the tasks belong to (reads its answer shape exactly).
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,

    #[command(flatten)]
    pub specs: SpecsArgs,

    #[command(flatten)]
    pub gateway: GatewayArgs,
}

/// Arguments of `wait`.
#[derive(Debug, Args)]
pub struct WaitArgs {
    #[command(flatten)]
    pub journal: JournalArgs,

    /// Task ids.
    #[arg(value_name = "TASK_ID", required = true)]
    pub tasks: Vec<String>,

    /// The model the tasks belong to (its poll hints and answer shape).
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,

    #[command(flatten)]
    pub specs: SpecsArgs,

    /// Download the videos into DIR.
    #[arg(long, value_name = "DIR")]
    pub download: Option<PathBuf>,

    /// Overwrite files that already exist in the download directory.
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub limits: DownloadLimitArgs,

    #[command(flatten)]
    pub gateway: GatewayArgs,
}

/// Caps on what one task's download may take.
#[derive(Debug, Args)]
pub struct DownloadLimitArgs {
    /// Download at most N videos of one task; a task listing more is refused
    /// before anything is downloaded.
    #[arg(
        long,
        value_name = "N",
        default_value_t = vidspec_transport::DEFAULT_MAX_VIDEOS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub max_videos: usize,

    /// Download at most this many GiB from one task, all its videos together
    /// (between 0.001 and 1024).
    #[arg(long, value_name = "GIB", default_value_t = 4.0)]
    pub max_download_gib: f64,
}

/// Arguments of `sim`.
#[cfg(feature = "sim")]
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address to listen on (port 0 picks a free port); a loopback address
    /// unless --public.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: std::net::SocketAddr,

    /// Allow an --addr off loopback: serve the simulator to other machines.
    #[arg(long)]
    pub public: bool,

    /// Time scale: tasks run N times faster than real ones.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,

    /// Faults to inject, e.g. "429=0.1,500=0.05,drop=0.01" (see above).
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<String>,

    /// The API key the simulator accepts.
    #[arg(long, default_value = "sim-key")]
    pub api_key: String,

    /// Share of tasks that fail (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    pub fail_rate: f64,

    /// Starting account balance in USD (`GET /v1/balance`); each task costs
    /// 0.2 and a submit beyond the balance is refused with 402. Without it
    /// the quota is unlimited.
    #[arg(long, value_name = "USD")]
    pub balance: Option<f64>,

    /// Share of webhook callbacks sent twice (0 to 1), as the gateway
    /// sometimes does.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub webhook_duplicate_rate: f64,

    /// Share of webhook callbacks never sent (0 to 1): callbacks that get lost.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub webhook_drop_rate: f64,
}

/// Arguments of `lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub specs: SpecsArgs,

    /// Exit 1 when there are warnings, as for errors.
    #[arg(long)]
    pub deny_warnings: bool,
}

/// Arguments of `test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The spec directory whose *.yaml are tested (with the built-in specs).
    #[arg(long, value_name = "DIR")]
    pub specs: PathBuf,

    /// The case folder [default: DIR/cases].
    #[arg(value_name = "CASES_DIR")]
    pub cases: Option<PathBuf>,

    /// Accept every new or changed snapshot (write it as the .snap).
    #[arg(long)]
    pub accept: bool,
}

/// Where the specs come from.
#[derive(Debug, Args)]
pub struct SpecsArgs {
    /// Also load every *.yaml in DIR; a family there replaces the built-in one.
    #[arg(long, value_name = "DIR")]
    pub specs: Option<PathBuf>,
}

/// Arguments of `models`.
#[derive(Debug, Args)]
pub struct ModelsArgs {
    #[command(flatten)]
    pub specs: SpecsArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Arguments of `schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The model id (see `vidspec models`).
    #[arg(value_name = "MODEL")]
    pub model: String,

    #[command(flatten)]
    pub specs: SpecsArgs,
}

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub request: RequestArgs,

    /// FILE holds one request per line; print one JSON result per line.
    #[arg(long)]
    pub batch: bool,

    /// With --batch: check on N threads (results stay in input order).
    /// Defaults to the cores this process may use; 1 checks on this thread.
    #[arg(long, value_name = "N", requires = "batch", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
}

/// Arguments of `check` and `explain`.
#[derive(Debug, Args)]
pub struct RequestArgs {
    /// The request JSON file, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    pub input: PathBuf,

    /// The model id; without it, the request's top-level "model" string names the model.
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,

    #[command(flatten)]
    pub specs: SpecsArgs,

    /// Output format: compiler-style text, or one JSON object on one line.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For scripts.
    Json,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
