//! A job's identity across processes and machines: its key in the task
//! store ([`job_key`]), its [`JobRef`], the default run name of a manifest
//! and the id of a worker process ([`owner_id`]).
//!
//! Owns the naming rules only. It must not read the store or the manifest's
//! contents.

use std::path::Path;

use vidspec_journal::JobRef;

/// The key of job `id` of run `run` in the task store (the guard's request
/// key): a digest of both, lengths included, so that no two (run, id) pairs
/// share a key, and prefixed `batch:` so it never reads as a request digest.
pub fn job_key(run: &str, id: &str) -> String {
    let text = format!(
        "vidspec-batch-job\n{}\n{run}\n{}\n{id}",
        run.len(),
        id.len()
    );
    format!("batch:{}", vidspec_core::digest::digest(text.as_bytes()))
}

/// The [`JobRef`] recorded with a job's intent.
pub fn job_ref(run: &str, id: &str) -> JobRef {
    JobRef {
        run: run.to_owned(),
        job: id.to_owned(),
    }
}

/// The run name of a manifest when none is given: its file stem
/// (`renders/march.jsonl` → `march`), or `batch` for a path without one.
pub fn default_run_name(manifest: &Path) -> String {
    manifest
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .filter(|stem| !stem.is_empty())
        .unwrap_or_else(|| "batch".to_owned())
}

/// A worker id unique per process: `<host>-<pid>-<random>`. The host name is
/// cut to letters, digits, `-` and `.` (it names the worker in messages and
/// in the store, never a file).
pub fn owner_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_default();
    let host: String = host
        .trim()
        .chars()
        .filter(|character| character.is_ascii_alphanumeric() || "-.".contains(*character))
        .take(63)
        .collect();
    let host = if host.is_empty() {
        "host".to_owned()
    } else {
        host
    };
    format!("{host}-{}-{:08x}", std::process::id(), fastrand::u32(..))
}

/// Whether a job id may name files as it is: 1 to 100 letters, digits, `-`,
/// `_` and `.`, not starting with `.`.
pub fn is_safe_job_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_JOB_ID_LENGTH
        && !id.starts_with('.')
        && id
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "-_.".contains(character))
}

/// The longest job id (it becomes part of file names).
pub const MAX_JOB_ID_LENGTH: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_key_depends_on_both_the_run_and_the_id_without_ambiguity() {
        assert_eq!(job_key("march", "a1"), job_key("march", "a1"));
        assert_ne!(job_key("march", "a1"), job_key("march", "a2"));
        assert_ne!(job_key("ab", "c"), job_key("a", "bc"));
        assert!(job_key("march", "a1").starts_with("batch:"));
    }

    #[test]
    fn the_default_run_name_is_the_manifest_file_stem() {
        assert_eq!(default_run_name(Path::new("renders/march.jsonl")), "march");
        assert_eq!(default_run_name(Path::new("/")), "batch");
    }

    #[test]
    fn job_ids_that_are_not_safe_file_names_are_refused() {
        for good in ["a", "scene-1_take.2", "A9"] {
            assert!(is_safe_job_id(good), "{good}");
        }
        for bad in ["", ".hidden", "a/b", "..", "a b", "ü", &"x".repeat(101)] {
            assert!(!is_safe_job_id(bad), "{bad}");
        }
    }

    #[test]
    fn two_owner_ids_of_one_process_differ() {
        assert_ne!(owner_id(), owner_id());
        assert!(owner_id().contains(&format!("-{}-", std::process::id())));
    }
}
