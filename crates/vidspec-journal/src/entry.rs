//! What the ledger knows about one submission: its [`State`] and [`Entry`],
//! and the operations that move it ([`Intent`], [`Step`]).
//!
//! Owns the vocabulary shared by every store. It must not read or write
//! anything.

use serde::Serialize;
use serde_json::Value;

/// Where a submission stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// About to be sent, and nothing since: the process stopped in between,
    /// or its answer could not be recorded, so the task may exist. Check the
    /// gateway's console before sending it again.
    Unknown,
    /// Accepted; the task has not been seen to end.
    Running,
    /// Ended with videos not yet saved.
    Succeeded,
    /// Ended with videos saved.
    Downloaded,
    /// Ended without a result.
    Failed,
    /// Provably not created.
    NotSent,
}

impl State {
    /// Every state, in the order `tasks` explains them.
    pub const ALL: [State; 6] = [
        State::Unknown,
        State::Running,
        State::Succeeded,
        State::Downloaded,
        State::Failed,
        State::NotSent,
    ];

    /// The state's name, as `--state` takes it and the ledger stores it.
    pub fn name(self) -> &'static str {
        match self {
            State::Unknown => "unknown",
            State::Running => "running",
            State::Succeeded => "succeeded",
            State::Downloaded => "downloaded",
            State::Failed => "failed",
            State::NotSent => "not_sent",
        }
    }

    /// The state named `name` (as [`State::name`] spells it).
    pub fn from_name(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|state| state.name() == name)
    }

    /// Whether money may still be tied up in it: the task may exist and its
    /// videos are not saved yet.
    pub fn is_unfinished(self) -> bool {
        matches!(self, State::Unknown | State::Running | State::Succeeded)
    }
}

/// Which submissions a listing wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateFilter {
    /// Every submission.
    Any,
    /// Unknown, running or succeeded: may still need attention.
    Unfinished,
    /// Those in one state.
    Only(State),
}

impl StateFilter {
    /// Whether `state` passes the filter.
    pub fn admits(self, state: State) -> bool {
        match self {
            StateFilter::Any => true,
            StateFilter::Unfinished => state.is_unfinished(),
            StateFilter::Only(only) => only == state,
        }
    }
}

/// One submission.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Ledger id of the submission.
    pub entry: String,
    /// Where it stands.
    pub state: State,
    /// Model id.
    pub model: String,
    /// Digest of the spec that shaped it.
    pub spec: String,
    /// Digest of the request (the double-spend guard's key).
    pub request: String,
    /// Endpoint path.
    pub endpoint: String,
    /// Task id, once known.
    pub task_id: Option<String>,
    /// Unix seconds of the intent.
    pub submitted_at: i64,
    /// Unix seconds of the last step.
    pub updated_at: i64,
    /// Where the caller wanted the videos.
    pub download_dir: Option<String>,
    /// Result videos (URL and expiry).
    pub videos: Vec<Value>,
    /// Saved files.
    pub paths: Vec<String>,
    /// Why it failed, was not sent, or is unknown.
    pub reason: Option<String>,
    /// The idempotency key sent with it, when its endpoint honours one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// The exact body bytes sent, kept only with an idempotency key (a
    /// resend must repeat them). It may hold prompts: never printed.
    #[serde(skip)]
    pub body: Option<Vec<u8>>,
    /// The batch job it was sent for, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<JobRef>,
    /// What it is billed as, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing: Option<Billing>,
    /// What the gateway reported it cost, once it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// The worker holding its lease (a batch worker), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Unix seconds (of the store's clock) when the owner's lease ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<i64>,
}

/// A job of a batch run: the run's name and the job's id in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct JobRef {
    /// The run (several processes working on one manifest share it).
    pub run: String,
    /// The job's id in the manifest.
    pub job: String,
}

/// What a submission is billed as: a billing key and how many times its
/// price is charged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Billing {
    /// The billing key, e.g. `midjourney@video-720p`.
    pub key: String,
    /// How many times the key's price is charged.
    pub multiplier: u64,
}

/// A lease on an entry for its owner, taken with the intent: other workers
/// leave the entry alone until it ends, and take it over after
/// ([`crate::TaskStore::take_over`]). Its end is computed by the store's
/// clock, so that machines with different clocks agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Who holds it: unique per worker process.
    pub owner: String,
    /// How long it lasts from now, in seconds, unless renewed.
    pub seconds: u32,
}

/// Which earlier entries with the same request key stop a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Guard {
    /// An unfinished one (unknown, running or succeeded): the guard of a
    /// single submission.
    #[default]
    Unfinished,
    /// None: another identical request is paid for on purpose.
    Again,
    /// The newest entry with the key decides, so that a batch job is paid
    /// for once: none, or `not_sent` (provably not created), lets the claim
    /// through; `failed` lets it through only with `retry_failed`; any other
    /// state is a [`Claim::Duplicate`].
    Once {
        /// Whether a failed job may be submitted again.
        retry_failed: bool,
    },
}

impl Guard {
    /// Whether an earlier entry with the same request key, in `state`, stops
    /// a claim: for [`Guard::Unfinished`] any such entry counts, for
    /// [`Guard::Once`] only the newest one with the key (a store asks it
    /// about that one).
    pub fn is_stopped_by(self, state: State) -> bool {
        match self {
            Guard::Unfinished => state.is_unfinished(),
            Guard::Again => false,
            Guard::Once { retry_failed } => match state {
                State::NotSent => false,
                State::Failed => !retry_failed,
                State::Unknown | State::Running | State::Succeeded | State::Downloaded => true,
            },
        }
    }
}

/// The cost of one billing key learned from the tasks a store has seen end
/// with a reported cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LearnedPrice {
    /// The billing key.
    pub key: String,
    /// The mean reported cost divided by the multiplier.
    pub price: f64,
    /// How many tasks it was learned from.
    pub tasks: u64,
}

/// A submission about to be sent: what the ledger records before the request
/// leaves.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Intent {
    /// Model id.
    pub model: String,
    /// Digest of the spec file that shaped the body.
    pub spec: String,
    /// Digest of the request (the double-spend guard's key).
    pub request: String,
    /// Endpoint path.
    pub endpoint: String,
    /// Where the caller wants the videos (if it said).
    pub download_dir: Option<String>,
    /// The idempotency key the request is sent with, when its endpoint
    /// honours one: one per logical submission, stored before sending.
    pub idempotency_key: Option<String>,
    /// The exact body bytes to send, stored only when there is an
    /// idempotency key (so a lost answer can be resent identically; a store
    /// ignores it otherwise). Bodies may hold prompts, so a store keeps them
    /// as private as its result URLs; never an API key.
    pub body: Option<Vec<u8>>,
    /// The batch job it is sent for, if any.
    pub job: Option<JobRef>,
    /// What it will be billed as, when known.
    pub billing: Option<Billing>,
    /// The lease its worker takes with the intent (batch workers), if any.
    pub lease: Option<Lease>,
}

/// The reason an intent carries until its answer is recorded.
pub const NO_ANSWER_RECORDED: &str = "no answer was recorded: the process stopped between sending and the answer, or the ledger could not record it";

/// What the double-spend guard decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The intent is recorded (durably) under this entry id: send it.
    Claimed(String),
    /// An identical request is unfinished: do not send.
    Duplicate(Box<Entry>),
}

/// What happened to a submission after its intent.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The gateway accepted it.
    Submitted {
        /// Task id.
        task_id: String,
    },
    /// It provably did not create a task (refused before or without processing).
    NotSent {
        /// Why.
        reason: String,
    },
    /// It may or may not have created a task (the answer was lost).
    Unknown {
        /// What went wrong.
        reason: String,
    },
    /// The task ended.
    Outcome {
        /// `succeeded`, `failed` or `cancelled`.
        status: String,
        /// Result videos (URL and expiry), for downloading later.
        videos: Vec<Value>,
        /// Why it failed.
        error: Option<String>,
        /// What the gateway reported it cost.
        cost: Option<f64>,
    },
    /// Videos saved.
    Downloaded {
        /// Paths written.
        paths: Vec<String>,
    },
}
