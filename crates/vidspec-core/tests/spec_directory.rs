//! `Registry::load_dir` against spec directories built to hang or exhaust it:
//! a FIFO, an endless device, an oversized file, too many files. Each is a
//! problem naming the file, returned at once. This file owns those cases; it
//! must not test what specs say (lint and load tests do that).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use vidspec_core::Registry;
use vidspec_core::load::{MAX_SPEC_BYTES, MAX_SPEC_FILES};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("vidspec-spec-dir-{}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `load_dir` on another thread, failing the test if it has not returned
/// within a minute (a hang must fail, not stall the suite). The problems'
/// text, or `None` when the directory loaded.
fn load_dir_or_hang(dir: &Path) -> Option<String> {
    let (done, result) = mpsc::channel();
    let dir = dir.to_owned();
    std::thread::spawn(move || {
        let loaded = Registry::load_dir(&dir)
            .err()
            .map(|errors| errors.to_string());
        let _ = done.send(loaded);
    });
    result
        .recv_timeout(Duration::from_secs(60))
        .expect("load_dir returned instead of hanging")
}

#[cfg(unix)]
#[test]
fn a_fifo_among_the_spec_files_is_a_problem_naming_it_not_a_hang() {
    let dir = TempDir::new("fifo");
    let fifo = dir.0.join("planted.yaml");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs (coreutils)");
    assert!(made.success());
    let problems = load_dir_or_hang(&dir.0).expect("refused");
    assert!(
        problems.contains("planted.yaml")
            && problems.contains("a FIFO (named pipe), not a regular file"),
        "{problems}"
    );
}

#[cfg(unix)]
#[test]
fn dev_zero_linked_among_the_spec_files_is_a_problem_naming_it() {
    let dir = TempDir::new("zero");
    std::os::unix::fs::symlink("/dev/zero", dir.0.join("zero.yaml")).expect("symlink");
    let problems = load_dir_or_hang(&dir.0).expect("refused");
    assert!(
        problems.contains("zero.yaml") && problems.contains("a character device"),
        "{problems}"
    );
}

#[test]
fn a_spec_file_over_the_size_cap_is_a_problem_naming_the_cap() {
    let dir = TempDir::new("large");
    let text = format!("# {}\n", "x".repeat(MAX_SPEC_BYTES));
    std::fs::write(dir.0.join("large.yaml"), text).expect("writes");
    let problems = load_dir_or_hang(&dir.0).expect("refused");
    assert!(
        problems.contains("large.yaml")
            && problems.contains(&format!("limited to {MAX_SPEC_BYTES} bytes")),
        "{problems}"
    );
}

#[test]
fn a_directory_with_more_spec_files_than_the_cap_is_refused_before_reading_them() {
    let dir = TempDir::new("many");
    for index in 0..=MAX_SPEC_FILES {
        std::fs::write(dir.0.join(format!("family-{index}.yaml")), "").expect("writes");
    }
    let problems = load_dir_or_hang(&dir.0).expect("refused");
    assert!(
        problems.contains(&format!("more than {MAX_SPEC_FILES} YAML files")),
        "{problems}"
    );
}

#[test]
fn a_spec_file_that_is_not_utf8_is_a_problem_saying_so() {
    let dir = TempDir::new("latin1");
    std::fs::write(dir.0.join("latin1.yaml"), b"family: caf\xe9\n").expect("writes");
    let problems = load_dir_or_hang(&dir.0).expect("refused");
    assert!(
        problems.contains("latin1.yaml") && problems.contains("not UTF-8"),
        "{problems}"
    );
}
