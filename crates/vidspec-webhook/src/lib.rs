//! vidspec-webhook: receives the gateway's task callbacks.
//!
//! The gateway POSTs a task object to `<webhook>/callback` when a task ends,
//! unsigned, retried and sometimes twice. A callback is only a hint: the
//! receiver re-reads the task from the API, with the key, before anything
//! acts on it, and passes each task on once.
