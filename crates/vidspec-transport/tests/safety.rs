//! Hostile or broken servers on loopback: endless answers, redirects to other
//! hosts, endless downloads. Each server here is a few lines of raw TCP so it
//! can misbehave in ways a real framework would not.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use vidspec_core::Registry;
use vidspec_transport::{
    ApiKey, Backoff, Client, ClientOptions, DownloadOptions, Error, Outcome, Status, TaskHandle,
    TaskSnapshot, Video,
};

/// Serves every connection with `answer(request_text)`; records the requests.
async fn raw_server<F>(answer: F) -> (String, Arc<Mutex<Vec<String>>>)
where
    F: Fn(&str) -> Vec<u8> + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let address = listener.local_addr().expect("address");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            let answer = Arc::clone(&answer);
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 16 * 1024];
                let mut request = Vec::new();
                while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => request.extend_from_slice(&buffer[..read]),
                    }
                }
                let text = String::from_utf8_lossy(&request).into_owned();
                if let Ok(mut log) = log.lock() {
                    log.push(text.clone());
                }
                let _ = stream.write_all(&answer(&text)).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (format!("http://{address}"), seen)
}

/// A server whose body never ends (bounded: it stops after 64 MiB or when the client goes).
async fn endless_server(content_type: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
                );
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b'x'; 64 * 1024];
                let framed = [
                    format!("{:x}\r\n", chunk.len()).into_bytes(),
                    chunk,
                    b"\r\n".to_vec(),
                ]
                .concat();
                for _ in 0..1024 {
                    if stream.write_all(&framed).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{address}")
}

fn client(base_url: &str, configure: impl FnOnce(&mut ClientOptions)) -> Client {
    let mut options = ClientOptions {
        base_url: base_url.to_owned(),
        timeout: Duration::from_secs(10),
        poll_backoff: Backoff {
            max_attempts: 1,
            ..Backoff::fast()
        },
        submit_backoff: Backoff::fast(),
        ..ClientOptions::default()
    };
    configure(&mut options);
    Client::new(ApiKey::new("sk-secret-redirect"), options).expect("client")
}

fn handle() -> TaskHandle {
    let model = Registry::embedded();
    let model = model.model("Omni-Flash-Ext").expect("model");
    TaskHandle {
        id: "task_1".into(),
        model: model.id().into(),
        task: Arc::clone(model.task()),
        request_id: None,
    }
}

#[tokio::test]
async fn an_endless_answer_is_an_error_not_an_out_of_memory() {
    let base = endless_server("application/json").await;
    let client = client(&base, |options| options.max_answer_bytes = 1024 * 1024);
    match client.task(&handle()).await {
        Err(Error::Undecodable { reason, .. }) => {
            assert!(reason.contains("larger than"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_endless_download_stops_at_the_cap_and_leaves_no_file() {
    let base = endless_server("video/mp4").await;
    let client = client(&base, |options| {
        options.max_download_bytes = 2 * 1024 * 1024
    });
    let outcome = Outcome {
        task_id: "task_1".into(),
        model: "m".into(),
        snapshot: TaskSnapshot {
            id: "task_1".into(),
            status: Status::Succeeded,
            raw_status: "completed".into(),
            progress: Some(100),
            cost: None,
            estimated_time_s: None,
            actual_time_s: None,
            videos: vec![Video {
                url: format!("{base}/v.mp4"),
                expires_at: None,
            }],
            error: None,
            request_id: None,
        },
    };
    let dir = std::env::temp_dir().join(format!("vidspec-safety-{}", std::process::id()));
    let result = client
        .download(&outcome, &dir, &DownloadOptions::default())
        .await;
    assert!(
        matches!(&result, Err(Error::Download { message, .. }) if message.contains("cap")),
        "{result:?}"
    );
    let left: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(Result::ok).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "no partial file is left behind: {left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_redirect_to_another_host_does_not_carry_the_key() {
    redirect_drops_the_key(|other| other.replace("127.0.0.1", "localhost")).await;
}

#[tokio::test]
async fn a_redirect_to_another_port_does_not_carry_the_key() {
    redirect_drops_the_key(|other| other.to_owned()).await;
}

async fn redirect_drops_the_key(target_of: impl Fn(&str) -> String) {
    let body =
        json!({"code": 200, "data": {"id": "task_1", "status": "processing", "progress": 5}})
            .to_string();
    let (other, other_seen) = raw_server(move |_| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    })
    .await;
    let target = target_of(&other);
    let (base, base_seen) = raw_server(move |_| {
        format!(
            "HTTP/1.1 302 Found\r\nLocation: {target}/v1/tasks/task_1\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    })
    .await;
    let snapshot = client(&base, |_| {})
        .task(&handle())
        .await
        .expect("the redirect is followed");
    assert_eq!(snapshot.status, Status::Running);
    let first = base_seen
        .lock()
        .expect("log")
        .join("\n")
        .to_ascii_lowercase();
    assert!(
        first.contains("authorization: bearer sk-secret-redirect"),
        "the gateway itself gets the key"
    );
    let second = other_seen
        .lock()
        .expect("log")
        .join("\n")
        .to_ascii_lowercase();
    assert!(!second.is_empty(), "the other host was asked");
    assert!(
        !second.contains("authorization"),
        "the key went to another host:\n{second}"
    );
}

#[tokio::test]
async fn downloads_never_send_the_key() {
    let (base, seen) = raw_server(|_| b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 12\r\n\r\n\0\0\0\x0cftypisom".to_vec()).await;
    let client = client(&base, |_| {});
    let outcome = Outcome {
        task_id: "../../escape".into(),
        model: "m".into(),
        snapshot: TaskSnapshot {
            id: "x".into(),
            status: Status::Succeeded,
            raw_status: "completed".into(),
            progress: None,
            cost: None,
            estimated_time_s: None,
            actual_time_s: None,
            videos: vec![Video {
                url: format!("{base}/../../etc/passwd"),
                expires_at: None,
            }],
            error: None,
            request_id: None,
        },
    };
    let dir = std::env::temp_dir().join(format!("vidspec-safety-dl-{}", std::process::id()));
    let files = client
        .download(&outcome, &dir, &DownloadOptions::default())
        .await
        .expect("download");
    assert!(
        files[0].path.starts_with(&dir),
        "{:?} escaped {dir:?}",
        files[0].path
    );
    assert!(
        !seen
            .lock()
            .expect("log")
            .join("\n")
            .to_ascii_lowercase()
            .contains("authorization")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
