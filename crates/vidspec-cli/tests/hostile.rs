//! Process-level tests of hostile input reaching the `vidspec` binary:
//! terminal escapes in requests never reach a terminal raw, and `sim` binds
//! only loopback unless told `--public`.
//!
//! Only the `Omni-Flash-Ext` spec is relied on; the simulator runs on
//! 127.0.0.1 and no test binds any other address.

mod support;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `vidspec ARGS`, killing it (and failing) if it has not ended in 60 s.
fn vidspec_ending(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vidspec"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vidspec starts");
    let started = Instant::now();
    while child.try_wait().expect("wait for vidspec").is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("vidspec {args:?} is still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("vidspec output")
}

#[test]
fn sim_on_an_address_off_loopback_is_refused_with_exit_2_and_names_the_public_flag() {
    // 192.0.2.1 (TEST-NET-1) is never this machine's: even before the check
    // existed nothing could be bound there, so this test binds nothing.
    let output = vidspec_ending(&["sim", "--addr", "192.0.2.1:0"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--public"), "{stderr}");
    assert!(stderr.contains("loopback"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing was listening");
}

#[test]
fn sim_on_every_interface_is_refused_before_it_binds() {
    // The check runs before the bind: the process ends at once with exit 2
    // and never prints `listening on`.
    let output = vidspec_ending(&["sim", "--addr", "0.0.0.0:0"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--public"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing was listening");
}

#[test]
fn sim_on_loopback_still_listens() {
    let sim = support::sim(&["--addr", "127.0.0.1:0"]);
    assert!(sim.base_url.starts_with("http://127.0.0.1:"));
}
