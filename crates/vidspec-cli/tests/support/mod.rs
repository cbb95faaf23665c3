//! Shared by the process-level tests: a `vidspec sim` child process on
//! loopback, temp dirs, running `vidspec` against it with a journal of the
//! test's own, and reading the simulator's counters.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// A running `vidspec sim`, killed on drop, with a ledger of its own (its
/// folder removed on drop).
pub struct SimProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Its `--speed`, also the poll scale of commands run against it.
    pub speed: String,
    /// A journal of this test's own.
    pub journal: PathBuf,
    // Kept open so the simulator can go on writing to its stdout.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The ledger (NAME.sqlite3 and its -wal/-shm files) and the journal
        // path live in a folder of this test's own.
        if let Some(folder) = self.journal.parent() {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
}

pub fn sim(extra: &[&str]) -> SimProcess {
    sim_at("1000", extra)
}

/// A simulator running `speed` times faster than real tasks.
pub fn sim_at(speed: &str, extra: &[&str]) -> SimProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args(["sim", "--speed", speed])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("vidspec sim starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout);
    let mut first = String::new();
    reader.read_line(&mut first).expect("a first line");
    let base_url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line must be `listening on http://ADDR`, got {first:?}"))
        .to_owned();
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
    let journal = temp_dir("journal").join("journal.jsonl");
    SimProcess {
        child,
        base_url,
        speed: speed.to_owned(),
        journal,
        _stdout: reader,
    }
}

/// A fresh temp directory (tempfile: a unique name, created exclusively),
/// kept: the caller removes it (`SimProcess` does on drop).
pub fn temp_dir(label: &str) -> PathBuf {
    tempfile::Builder::new()
        .prefix(&format!("vidspec-cli-remote-{label}-"))
        .tempdir()
        .expect("temp dir")
        .keep()
}

/// Runs `vidspec` against `sim` with pre-flight checks off: the example
/// requests point at example.com images, and tests never leave loopback.
pub fn vidspec(sim: &SimProcess, args: &[&str], key: Option<&str>) -> Output {
    run_vidspec(sim, args, key, false)
}

/// Runs `vidspec` against `sim` with pre-flight checks on.
pub fn vidspec_preflight(sim: &SimProcess, args: &[&str], key: Option<&str>) -> Output {
    run_vidspec(sim, args, key, true)
}

fn run_vidspec(sim: &SimProcess, args: &[&str], key: Option<&str>, preflight: bool) -> Output {
    let mut command = assert_cmd::cargo::cargo_bin_cmd!("vidspec");
    if !preflight {
        command.env("VIDSPEC_PREFLIGHT", "off");
    }
    command
        .args(args)
        .env("APIMART_BASE_URL", &sim.base_url)
        .env("VIDSPEC_POLL_SCALE", &sim.speed)
        .env("VIDSPEC_JOURNAL", &sim.journal)
        .env_remove("APIMART_API_KEY");
    if let Some(key) = key {
        command.env("APIMART_API_KEY", key);
    }
    command.output().expect("vidspec runs")
}

pub fn stats(sim: &SimProcess) -> Value {
    // A plain HTTP/1.0 GET over a TcpStream: no client crate needed for one call.
    use std::io::{Read, Write};
    let address = sim.base_url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("connect to the simulator");
    stream
        .write_all(format!("GET /__sim/stats HTTP/1.0\r\nHost: {address}\r\n\r\n").as_bytes())
        .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|error| panic!("stats JSON ({error}): {answer}"))
}

pub fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
        .display()
        .to_string()
}

/// The first bytes of a PNG of `width` × `height` (signature and IHDR; enough
/// for format and size checks).
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

/// Serves `file` whole to every request on a loopback port (no `Range`: the
/// streamed fallback of pre-flight) for as long as the test runs; its URL,
/// ending in `/clip.mp4`.
pub fn serve_file(file: Vec<u8>) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut head = Vec::new();
            let mut buffer = [0u8; 1024];
            while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buffer[..n]),
                }
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                file.len()
            );
            let _ = stream.write_all(answer.as_bytes());
            let _ = stream.write_all(&file);
        }
    });
    format!("http://{addr}/clip.mp4")
}
