//! Integration tests of the simulator over real loopback HTTP with reqwest:
//! one behaviour per test, high `speed` so tasks finish in milliseconds, and
//! no timing assertions beyond generous bounds.

mod common;

mod auth;
mod balance;
mod checks;
mod fault_spec;
mod faults;
mod generic;
mod idempotency;
mod paused;
mod serve;
mod stats;
mod submit_shapes;
mod tasks;
mod uploads;
mod webhooks;
