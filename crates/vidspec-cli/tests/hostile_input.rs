//! `vidspec check` under a hard memory limit, fed inputs built to exhaust
//! memory: one line of hundreds of megabytes, many lines of 15 MB, an
//! endless device, lines of the densest JSON just under the line cap.
//!
//! Each run goes through `prlimit --as` (util-linux), which caps the
//! process's address space; a run that tries to hold what it should stream
//! dies with an allocation failure instead of passing. Large inputs are
//! written to the child's stdin from a thread, never to files on disk. This
//! file owns those runs; it must not assert anything about speed.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The address-space limit every run here gets: 512 MiB. Address space, not
/// resident memory: it counts thread stacks and the 64 MiB glibc reserves for
/// each thread's allocator arena. Measured (debug build): an ordinary batch
/// runs within 64 MiB of it; the densest lines below, on two workers, within
/// 400 MiB (90 MB resident). Holding any hostile input here whole takes
/// more than the limit.
const ADDRESS_SPACE_LIMIT: u64 = 512 * 1024 * 1024;

const VALID: &str = r#"{"model": "Omni-Flash-Ext", "prompt": "a red fox in the snow"}"#;

/// Runs `vidspec ARGS` under `ADDRESS_SPACE_LIMIT`, with `feed` writing its
/// standard input from another thread (a write error, once vidspec has
/// stopped reading, is the test's to judge through vidspec's output).
fn vidspec_limited(
    args: &[&str],
    feed: impl FnOnce(&mut dyn Write) -> std::io::Result<()> + Send + 'static,
) -> Output {
    let mut child = Command::new("prlimit")
        .arg(format!("--as={ADDRESS_SPACE_LIMIT}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_vidspec"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run `prlimit` to cap vidspec's memory ({error}): install util-linux; \
                 these tests hold the memory bound and must not be skipped"
            )
        });
    let mut pipe = child.stdin.take().expect("a stdin pipe");
    let writer = std::thread::spawn(move || {
        let written = feed(&mut pipe);
        drop(pipe);
        written
    });
    let output = child.wait_with_output().expect("wait for vidspec");
    let _ = writer.join().expect("the stdin writer does not panic");
    output
}

/// Writes `count` bytes of `byte` in 1 MiB pieces.
fn write_repeated(out: &mut dyn Write, byte: u8, count: usize) -> std::io::Result<()> {
    let piece = vec![byte; 1 << 20];
    let mut left = count;
    while left > 0 {
        let now = left.min(piece.len());
        out.write_all(&piece[..now])?;
        left -= now;
    }
    Ok(())
}

/// The JSON result lines of a batch run.
fn results(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

fn describe(output: &Output) -> String {
    format!(
        "status {:?}; stderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    )
}

fn first_message(result: &Value) -> &str {
    result["errors"][0]["message"].as_str().unwrap_or_default()
}

#[test]
fn a_600_mb_line_of_zero_bytes_is_refused_with_its_number_and_the_next_line_is_checked() {
    // `/dev/zero` on standard input, cut after 600 MB, between two requests.
    let output = vidspec_limited(&["check", "--batch", "--jobs", "2", "-"], |out| {
        writeln!(out, "{VALID}")?;
        write_repeated(out, 0, 600 * 1024 * 1024)?;
        writeln!(out)?;
        writeln!(out, "{VALID}")
    });
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let results = results(&output);
    assert_eq!(results.len(), 3, "one result per input line");
    assert_eq!(results[0]["valid"], true);
    assert_eq!(results[1]["valid"], false);
    assert!(
        first_message(&results[1]).starts_with("line 2 is longer than 1048576 bytes"),
        "{}",
        results[1]
    );
    assert_eq!(results[2]["valid"], true);
}

#[test]
fn an_input_that_never_breaks_its_line_is_one_refused_line_on_one_thread_too() {
    let output = vidspec_limited(&["check", "--batch", "--jobs", "1", "-"], |out| {
        write_repeated(out, b'x', 600 * 1024 * 1024)
    });
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let results = results(&output);
    assert_eq!(results.len(), 1);
    assert!(
        first_message(&results[0]).starts_with("line 1 is longer than"),
        "{}",
        results[0]
    );
}

#[test]
fn forty_requests_of_15_mb_each_are_refused_one_by_one_in_bounded_memory() {
    // Each is well-formed: a request whose prompt is 15 MB long.
    let output = vidspec_limited(&["check", "--batch", "--jobs", "2", "-"], |out| {
        for _ in 0..40 {
            write!(out, r#"{{"model": "Omni-Flash-Ext", "prompt": ""#)?;
            write_repeated(out, b'a', 15 * 1000 * 1000)?;
            writeln!(out, r#""}}"#)?;
        }
        Ok(())
    });
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let results = results(&output);
    assert_eq!(results.len(), 40);
    for (index, result) in results.iter().enumerate() {
        assert!(
            first_message(result).starts_with(&format!("line {} is longer than", index + 1)),
            "{result}"
        );
    }
}

#[test]
fn lines_of_the_densest_json_just_under_the_line_cap_are_checked_within_the_bound() {
    // `[0,0,…]` takes up to 32 bytes of memory per 2 bytes of text: the
    // worst case the line cap is sized for. Two workers at once.
    const LINE: usize = 1024 * 1024 - 64;
    let output = vidspec_limited(&["check", "--batch", "--jobs", "2", "-"], |out| {
        for _ in 0..24 {
            let head = r#"{"model": "Omni-Flash-Ext", "prompt": "p", "zeros": [0"#;
            out.write_all(head.as_bytes())?;
            let pairs = (LINE - head.len() - 2) / 2;
            out.write_all(&b",0".repeat(pairs))?;
            writeln!(out, "]}}")?;
        }
        Ok(())
    });
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let results = results(&output);
    assert_eq!(results.len(), 24);
    for result in &results {
        assert!(
            !first_message(result).contains("longer than"),
            "each line is under the cap and is checked: {result}"
        );
    }
}

#[test]
fn dev_zero_as_the_batch_file_is_refused_as_a_device_before_it_is_read() {
    let output = vidspec_limited(&["check", "--batch", "/dev/zero"], |_| Ok(()));
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("a character device"), "{stderr}");
}

#[test]
fn dev_zero_as_the_request_file_is_refused_as_a_device_before_it_is_read() {
    for command in ["check", "explain"] {
        let output = vidspec_limited(&[command, "/dev/zero"], |_| Ok(()));
        assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("a character device"), "{stderr}");
    }
}

#[test]
fn a_request_of_600_mb_on_stdin_is_refused_at_the_request_cap() {
    let output = vidspec_limited(&["check", "-"], |out| {
        write_repeated(out, b' ', 600 * 1024 * 1024)
    });
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is larger than 16777216 bytes"), "{stderr}");
}

/// A fresh temp directory (tempfile: a unique name, created exclusively),
/// removed on drop.
fn temp_dir(label: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("vidspec-hostile-{label}-"))
        .tempdir()
        .expect("create a temp dir")
}

fn mkfifo(path: &std::path::Path) {
    let made = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs (coreutils)");
    assert!(made.success(), "mkfifo {}", path.display());
}

/// Runs vidspec and kills it if it has not ended within `patience`: a hang
/// fails the test instead of stalling the suite.
fn vidspec_or_hang(args: &[&str], patience: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run vidspec");
    let started = Instant::now();
    while child.try_wait().expect("poll vidspec").is_none() {
        if started.elapsed() > patience {
            let _ = child.kill();
            let _ = child.wait();
            panic!("vidspec {args:?} hung for {patience:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("collect vidspec's output")
}

#[test]
fn a_fifo_in_the_spec_directory_is_refused_naming_it_instead_of_hanging() {
    let dir = temp_dir("fifo-spec");
    let fifo = dir.path().join("planted.yaml");
    mkfifo(&fifo);
    let request = dir.path().join("request.json");
    std::fs::write(&request, VALID).expect("writes");
    let output = vidspec_or_hang(
        &[
            "check",
            "--specs",
            dir.path().to_str().expect("UTF-8 path"),
            request.to_str().expect("UTF-8 path"),
        ],
        Duration::from_secs(60),
    );
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("planted.yaml") && stderr.contains("a FIFO"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn dev_zero_linked_into_the_spec_directory_is_refused_naming_it() {
    let dir = temp_dir("zero-spec");
    let link = dir.path().join("zero.yaml");
    std::os::unix::fs::symlink("/dev/zero", &link).expect("symlink");
    let output = vidspec_limited(
        &[
            "check",
            "--specs",
            dir.path().to_str().expect("UTF-8 path"),
            "-",
        ],
        |out| out.write_all(VALID.as_bytes()),
    );
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("zero.yaml") && stderr.contains("a character device"),
        "{stderr}"
    );
}

#[test]
fn a_request_file_given_as_a_pipe_is_read_like_standard_input() {
    // `vidspec check <(jq …)`: a FIFO with a writer is a request file.
    let dir = temp_dir("fifo-request");
    let fifo = dir.path().join("request.json");
    mkfifo(&fifo);
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut pipe = std::fs::OpenOptions::new()
            .write(true)
            .open(&writer_path)
            .expect("open the FIFO for writing");
        pipe.write_all(VALID.as_bytes())
    });
    let output = vidspec_or_hang(
        &["check", fifo.to_str().expect("UTF-8 path")],
        Duration::from_secs(60),
    );
    if !writer.is_finished() {
        // vidspec never opened the FIFO: release the writer's open so the
        // assertion below, not a hang, reports it.
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::File::open(fifo));
    }
    let written = writer.join().expect("the writer does not panic");
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    written.expect("the request was written into the FIFO");
}
