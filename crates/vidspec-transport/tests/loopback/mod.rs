//! A scripted HTTP server on 127.0.0.1 for tests that need a gateway or a
//! video host to misbehave in time (dribble bytes, stall, lie about lengths):
//! each connection's answer is a list of steps, written with real pauses.
//!
//! Owns nothing but the test server; it must never bind off loopback.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One step of an answer.
pub enum Step {
    /// Write these bytes.
    Send(Vec<u8>),
    /// Wait this long (real time).
    Pause(Duration),
    /// Write each byte, pausing this long before each.
    Dribble(Vec<u8>, Duration),
}

/// A running server: its base URL, the request heads it saw.
pub struct Server {
    pub base: String,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub fn request_count(&self) -> usize {
        self.requests.lock().map(|seen| seen.len()).unwrap_or(0)
    }
}

/// Answers the `n`th request (0-based) whose head is `head` with `script(n, head)`.
pub async fn serve<F>(script: F) -> Server
where
    F: Fn(usize, &str) -> Vec<Step> + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let address = listener.local_addr().expect("address");
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&requests);
    let script = Arc::new(script);
    let counter = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            let script = Arc::clone(&script);
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 16 * 1024];
                let mut head = Vec::new();
                while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => head.extend_from_slice(&buffer[..read]),
                    }
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                if let Ok(mut log) = log.lock() {
                    log.push(text.clone());
                }
                let number = counter.fetch_add(1, Ordering::SeqCst);
                for step in script(number, &text) {
                    let written = match step {
                        Step::Send(bytes) => stream.write_all(&bytes).await,
                        Step::Pause(pause) => {
                            tokio::time::sleep(pause).await;
                            Ok(())
                        }
                        Step::Dribble(bytes, pause) => {
                            let mut result = Ok(());
                            for byte in bytes {
                                tokio::time::sleep(pause).await;
                                result = stream.write_all(&[byte]).await;
                                if result.is_err() {
                                    break;
                                }
                            }
                            result
                        }
                    };
                    if written.is_err() {
                        return;
                    }
                }
                let _ = stream.shutdown().await;
            });
        }
    });
    Server {
        base: format!("http://{address}"),
        requests,
    }
}

/// A complete `200` answer with this body and content type.
pub fn ok(content_type: &str, body: &[u8]) -> Vec<Step> {
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    vec![Step::Send(bytes)]
}

/// The head of an answer (status line and headers, then the blank line).
pub fn head(status: &str, headers: &[(&str, String)]) -> Step {
    let mut text = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    Step::Send(text.into_bytes())
}

/// A few bytes that look like the start of an MP4.
pub fn mp4(length: usize) -> Vec<u8> {
    let mut bytes = b"\0\0\0\x18ftypisom".to_vec();
    bytes.resize(length.max(bytes.len()), b'v');
    bytes
}
