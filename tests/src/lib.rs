//! Workspace integration tests live in tests/*.rs
