//! vidspec-journal: the task ledger, the local record that keeps paid tasks
//! from being lost or paid for twice.
//!
//! Every submission is recorded *before* it is sent (an intent), and again
//! when the gateway answers (`submitted`, with the task id, or `not_sent`),
//! when the task ends (`outcome`) and when its videos are saved
//! (`downloaded`). The ledger is one SQLite file ([`Ledger`]): each step is a
//! committed transaction, on disk (`synchronous=FULL`) before the caller goes
//! on, so a crash or `kill -9` at any point leaves a ledger that says what may
//! have been charged. The double-spend guard — no identical unfinished
//! request, then the intent — is one `BEGIN IMMEDIATE` transaction
//! ([`TaskStore::claim`]), so concurrent processes cannot both pass it.
//! Indexed lookups keep the guard and listings fast at a million entries.
//!
//! For batch runs an entry also records its job (run and job id), what it
//! is billed as, the cost the gateway reported and the lease of the worker
//! holding it: [`Guard::Once`] keeps a job from being paid for twice, leases
//! let workers take over a dead worker's entries ([`TaskStore::take_over`]),
//! and prices are learned from reported costs ([`TaskStore::learned_prices`]).
//! Every store passes one contract suite (`tests/contract`).
//!
//! A JSON-lines journal of an older vidspec is imported once, line by line as
//! bytes: a damaged line is reported with its line number and skipped.
//!
//! The ledger holds ids, digests, model ids, result URLs and paths, and for a
//! submission sent with an idempotency key that key and the exact body bytes
//! (so a lost answer can be resent identically; bodies may hold prompts, so
//! the file is readable by its owner only) — never an API key. Its only
//! network I/O is talking to a PostgreSQL server, for a [`PgLedger`].
//!
//! [`TaskStore`] is async and dyn-compatible so that a ledger shared by
//! several machines implements it: [`PgLedger`] keeps the same records in a
//! PostgreSQL database (claims serialised by the database, leases on its
//! clock); [`Ledger`] runs its blocking SQLite work on tokio's blocking
//! pool. [`open_store`] opens either from a location (a URL or a path).

mod entry;
mod error;
mod event;
mod import;
mod ledger;
mod ledger_batch;
mod ledger_schema;
mod ledger_store;
mod location;
mod open;
mod postgres;
mod store;

pub use entry::{
    Billing, Claim, Entry, Guard, Intent, JobRef, LearnedPrice, Lease, NO_ANSWER_RECORDED, State,
    StateFilter, Step,
};
pub use error::LedgerError;
pub use import::{Imported, MAX_LINE_BYTES, MAX_REPORTED_PROBLEMS};
pub use ledger::{BUSY_TIMEOUT, Ledger, collect, new_entry_id};
pub use ledger_schema::SCHEMA_VERSION;
pub use location::{LEDGER_FILE, LEGACY_FILE, Location, locate};
pub use open::open_store;
pub use postgres::{PG_SCHEMA_VERSION, PgLedger, is_postgres_url, redacted_location};
pub use store::{
    Cursor, PAGE, Page, PageRequest, StoreFuture, TaskStore, Visit, all_run_entries, all_unfinished,
};
