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
    raw_server_at("127.0.0.1:0", answer).await
}

/// `raw_server` on `bind` (a loopback address).
async fn raw_server_at<F>(bind: &str, answer: F) -> (String, Arc<Mutex<Vec<String>>>)
where
    F: Fn(&str) -> Vec<u8> + Send + Sync + 'static,
{
    let listener = TcpListener::bind(bind).await.expect("bind loopback");
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
            extras: Default::default(),
        },
    };
    let dir = std::env::temp_dir().join(format!("vidspec-safety-{}", std::process::id()));
    let result = client
        .download(&outcome, &dir, &DownloadOptions::default())
        .await;
    assert!(
        matches!(
            &result,
            Err(Error::OverLimit {
                limit: vidspec_transport::DownloadLimit::BytesPerVideo { .. },
                ..
            })
        ),
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
    redirect_drops_the_key("127.0.0.1:0", |other| {
        other.replace("127.0.0.1", "localhost")
    })
    .await;
}

#[tokio::test]
async fn a_redirect_to_another_port_does_not_carry_the_key() {
    redirect_drops_the_key("127.0.0.1:0", |other| other.to_owned()).await;
}

#[tokio::test]
async fn a_callers_own_http_client_following_redirects_does_not_carry_the_key_to_another_port() {
    redirect_drops_the_key_with(
        "127.0.0.1:0",
        |other| other.to_owned(),
        |base| {
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::limited(5))
                .user_agent("callers-own-client")
                .no_proxy()
                .build()
                .expect("the caller's client");
            let options = ClientOptions {
                base_url: base.to_owned(),
                timeout: Duration::from_secs(10),
                ..ClientOptions::default()
            };
            Client::with_http(ApiKey::new("sk-secret-redirect"), options, http).expect("client")
        },
    )
    .await;
}

#[tokio::test]
async fn a_callers_own_http_client_is_the_one_that_sends() {
    let (base, seen) = raw_server(|_| {
        let body = r#"{"code":200,"data":{"status":"processing"}}"#;
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    })
    .await;
    let http = reqwest::Client::builder()
        .user_agent("callers-own-client")
        .no_proxy()
        .build()
        .expect("the caller's client");
    let options = ClientOptions {
        base_url: base,
        ..ClientOptions::default()
    };
    let client =
        Client::with_http(ApiKey::new("sk-secret-redirect"), options, http).expect("client");
    client.task(&handle()).await.expect("answered");
    let log = seen.lock().expect("log").join("\n").to_ascii_lowercase();
    assert!(log.contains("user-agent: callers-own-client"), "{log}");
    assert!(
        log.contains("authorization: bearer sk-secret-redirect"),
        "{log}"
    );
}

#[test]
fn a_callers_own_http_client_gets_the_same_base_url_checks() {
    let options = ClientOptions {
        base_url: "http://api.example.com".into(),
        ..ClientOptions::default()
    };
    let refused = Client::with_http(ApiKey::new("k"), options, reqwest::Client::new());
    assert!(matches!(refused, Err(Error::Config(_))), "{refused:?}");
}

async fn redirect_drops_the_key(other_bind: &str, target_of: impl Fn(&str) -> String) {
    redirect_drops_the_key_with(other_bind, target_of, |base| client(base, |_| {})).await;
}

async fn redirect_drops_the_key_with(
    other_bind: &str,
    target_of: impl Fn(&str) -> String,
    make_client: impl Fn(&str) -> Client,
) {
    let body =
        json!({"code": 200, "data": {"id": "task_1", "status": "processing", "progress": 5}})
            .to_string();
    let (other, other_seen) = raw_server_at(other_bind, move |_| {
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
    let snapshot = make_client(&base)
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
            extras: Default::default(),
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

/// A JSON answer with `status` and `body`.
fn json_answer(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn running_task_answer() -> Vec<u8> {
    json_answer(
        "200 OK",
        &json!({"code": 200, "data": {"id": "task_1", "status": "processing", "progress": 5}})
            .to_string(),
    )
}

/// The request line (`GET /path HTTP/1.1`) of each request a server saw.
fn request_lines(seen: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    seen.lock()
        .expect("log")
        .iter()
        .map(|request| request.lines().next().unwrap_or_default().to_owned())
        .collect()
}

fn handle_with(id: &str, poll_path: &str) -> TaskHandle {
    let mut handle = handle();
    let mut task = (*handle.task).clone();
    task.poll_path = poll_path.to_owned();
    handle.task = Arc::new(task);
    handle.id = id.to_owned();
    handle
}

fn client_result(base_url: &str, key: &str, insecure: bool) -> Result<Client, Error> {
    Client::new(
        ApiKey::new(key),
        ClientOptions {
            base_url: base_url.to_owned(),
            allow_insecure_http: insecure,
            ..ClientOptions::default()
        },
    )
}

#[test]
fn a_backslash_before_an_at_sign_cannot_pass_another_host_off_as_loopback() {
    // The URL parser reqwest uses reads `\` as `/`: the host is
    // nonexistent.invalid, and the "@127.0.0.1" is only a path.
    let refused = client_result(r"http://nonexistent.invalid\@127.0.0.1", "sk-x", false);
    assert!(matches!(&refused, Err(Error::Config(_))), "{refused:?}");
}

#[test]
fn plain_http_is_allowed_only_to_hosts_the_url_parser_calls_loopback() {
    for off_machine in [
        "http://127.0.0.1.evil.com",
        "http://localhost.evil.com:8080",
        "http://0.0.0.0:8080",
        "http://[::]:8080",
        "http://[::127.0.0.1]:8080",
        "http://10.0.0.1:8080",
        "http://localhost.:8080",
        r"http://evil.com\@localhost:8080",
        "http://evil.com#@127.0.0.1",
        "http://evil.com?@127.0.0.1",
        "http://127.0.0.1%2eevil.com:8080",
        "http://localhost%2eevil.com:8080",
        "http://[::ffff:10.0.0.1]:8080",
    ] {
        let refused = client_result(off_machine, "sk-x", false);
        assert!(
            matches!(&refused, Err(Error::Config(_))),
            "{off_machine}: {refused:?}"
        );
    }
    for on_machine in [
        "http://127.0.0.1:8080",
        "http://127.1.2.3:8080",
        "http://LOCALHOST:8080",
        "http://localhost:8080/api",
        "http://[::1]:8080",
        "http://[::ffff:127.0.0.1]:8080",
        "http://0x7f.0.0.1:8080",
        "http://127.0.0.1.:8080",
        "HTTP://127.0.0.1:8080",
        "http://%6c%6fcalhost:8080",
        "http://\u{24db}ocalhost:8080",
        "http://2130706433:8080",
        "http://0177.0.0.1:8080",
    ] {
        let allowed = client_result(on_machine, "sk-x", false);
        assert!(allowed.is_ok(), "{on_machine}: {allowed:?}");
    }
}

#[test]
fn a_base_url_with_user_info_a_query_or_a_fragment_is_refused_even_with_https() {
    for base in [
        "https://user:pass@api.example.com",
        "https://user@api.example.com",
        "http://user@127.0.0.1:8080",
        "https://api.example.com/?x=1",
        "https://api.example.com/#top",
        "ftp://api.example.com",
        "file:///etc/passwd",
        "https://",
        "",
    ] {
        let refused = client_result(base, "sk-x", true);
        assert!(
            matches!(&refused, Err(Error::Config(_))),
            "{base}: {refused:?}"
        );
    }
}

#[test]
fn a_refused_base_url_never_shows_its_password() {
    match client_result("https://user:hunter2@api.example.com", "sk-x", false) {
        Err(error) => assert!(!error.to_string().contains("hunter2"), "{error}"),
        Ok(_) => panic!("a base URL with a password was accepted"),
    }
}

#[tokio::test]
async fn a_poll_path_with_an_at_sign_cannot_send_the_key_to_another_port() {
    let (other, other_seen) = raw_server(|_| running_task_answer()).await;
    let (base, base_seen) = raw_server(|_| running_task_answer()).await;
    let other_authority = other.trim_start_matches("http://").to_owned();
    let handle = handle_with(
        "task_1",
        &format!("@{other_authority}/v1/tasks/{{task_id}}"),
    );
    let result = client(&base, |_| {}).task(&handle).await;
    assert!(matches!(&result, Err(Error::Config(_))), "{result:?}");
    assert!(
        other_seen.lock().expect("log").is_empty(),
        "the other port was asked"
    );
    assert!(
        base_seen.lock().expect("log").is_empty(),
        "nothing is sent at all"
    );
}

#[tokio::test]
async fn a_task_id_from_the_gateway_stays_one_path_segment() {
    let (base, seen) = raw_server(|_| running_task_answer()).await;
    let client = client(&base, |_| {});
    for id in ["../../x", "a/b?c#d", r"..\..\x", "%2e%2e"] {
        let _ = client.task(&handle_with(id, "/v1/tasks/{task_id}")).await;
    }
    assert_eq!(
        request_lines(&seen),
        [
            "GET /v1/tasks/..%2F..%2Fx HTTP/1.1",
            "GET /v1/tasks/a%2Fb%3Fc%23d HTTP/1.1",
            "GET /v1/tasks/..%5C..%5Cx HTTP/1.1",
            "GET /v1/tasks/%252e%252e HTTP/1.1",
        ]
    );
}

#[tokio::test]
async fn a_task_id_that_is_a_dot_segment_or_holds_control_characters_is_refused_unsent() {
    let (base, seen) = raw_server(|_| running_task_answer()).await;
    let client = client(&base, |_| {});
    for id in ["..", ".", "", ".\t.", ".\n.", "a\rb"] {
        let result = client.task(&handle_with(id, "/v1/tasks/{task_id}")).await;
        assert!(
            matches!(&result, Err(Error::Config(_))),
            "{id:?}: {result:?}"
        );
    }
    assert!(
        request_lines(&seen).is_empty(),
        "{:?}",
        request_lines(&seen)
    );
}

#[tokio::test]
async fn a_base_url_path_prefix_is_kept_when_paths_are_joined() {
    let (base, seen) = raw_server(|_| running_task_answer()).await;
    for prefix in ["/api", "/api/"] {
        let client = client(&format!("{base}{prefix}"), |_| {});
        client
            .task(&handle_with("task_1", "/v1/tasks/{task_id}"))
            .await
            .expect("polled");
    }
    assert_eq!(
        request_lines(&seen),
        [
            "GET /api/v1/tasks/task_1 HTTP/1.1",
            "GET /api/v1/tasks/task_1 HTTP/1.1"
        ]
    );
}

#[tokio::test]
async fn a_redirect_to_a_location_with_user_info_on_another_port_does_not_carry_the_key() {
    redirect_drops_the_key("127.0.0.1:0", |other| {
        other.replace("http://", "http://sk-secret-redirect:x@")
    })
    .await;
}

#[tokio::test]
async fn a_redirect_to_ipv6_loopback_does_not_carry_the_key() {
    // Same machine, another spelling of the host: still another host to reqwest.
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        return; // no IPv6 loopback here
    }
    redirect_drops_the_key("[::1]:0", |other| other.to_owned()).await;
}

const ECHOED_KEY: &str = "sk-secret-redirect";

fn error_text(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(error) => format!("{error} {error:?}"),
        Ok(value) => format!("{value:?}"),
    }
}

#[tokio::test]
async fn a_key_echoed_in_a_gateway_error_message_is_redacted() {
    let body = json!({"error": {"code": 400, "type": "invalid_request_error",
        "message": format!("bad key {ECHOED_KEY}; sent Authorization: Bearer {ECHOED_KEY}")}})
    .to_string();
    let (base, _) = raw_server(move |_| json_answer("400 Bad Request", &body)).await;
    let shown = error_text(client(&base, |_| {}).task(&handle()).await);
    assert!(shown.contains("bad key"), "{shown}");
    assert!(!shown.contains(ECHOED_KEY), "{shown}");
}

#[tokio::test]
async fn a_key_echoed_in_a_non_json_error_body_is_redacted_even_where_the_excerpt_is_cut() {
    // The key straddles the excerpt's 200-byte cut: no prefix of it may show.
    let body = format!("{}{ECHOED_KEY} trailing", "x".repeat(190));
    let (base, _) = raw_server(move |_| {
        format!(
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    })
    .await;
    let shown = error_text(client(&base, |_| {}).task(&handle()).await);
    assert!(!shown.contains("sk-secret"), "{shown}");
}

#[tokio::test]
async fn a_key_written_with_json_escapes_is_redacted_too() {
    // `\u002d` is `-`: the decoded message holds the key.
    let body = r#"{"error":{"code":500,"message":"key sk\u002dsecret\u002dredirect"}}"#;
    let (base, _) = raw_server(move |_| json_answer("500 Internal Server Error", body)).await;
    let shown = error_text(client(&base, |_| {}).task(&handle()).await);
    assert!(!shown.contains(ECHOED_KEY), "{shown}");
}

#[tokio::test]
async fn a_bearer_token_in_a_gateway_message_is_redacted_whatever_its_value() {
    let body = json!({"error": {"code": 500,
        "message": "upstream refused authorization: bearer sk-someone-elses-token"}})
    .to_string();
    let (base, _) = raw_server(move |_| json_answer("500 Internal Server Error", &body)).await;
    let shown = error_text(client(&base, |_| {}).task(&handle()).await);
    assert!(!shown.contains("sk-someone-elses-token"), "{shown}");
}

#[tokio::test]
async fn a_key_in_a_failed_task_message_is_redacted_from_the_snapshot() {
    let body = json!({"code": 200, "data": {"id": "task_1", "status": "failed",
        "error": {"code": "x", "message": format!("upstream got Bearer {ECHOED_KEY}")}}})
    .to_string();
    let (base, _) = raw_server(move |_| json_answer("200 OK", &body)).await;
    let snapshot = client(&base, |_| {})
        .task(&handle())
        .await
        .expect("snapshot");
    let shown = format!("{snapshot:?} {}", json!(snapshot));
    assert!(!shown.contains(ECHOED_KEY), "{shown}");
}

#[test]
fn a_key_with_a_trailing_carriage_return_or_spaces_is_refused_when_the_client_is_made() {
    for key in [
        "sk-abc\r",
        "sk-abc ",
        " sk-abc",
        "sk-abc\n",
        "sk\u{7f}abc",
        "sk abc",
        "",
        "  ",
    ] {
        let refused = client_result("https://api.example.com", key, false);
        assert!(
            matches!(&refused, Err(Error::Config(_))),
            "{key:?}: {refused:?}"
        );
    }
}
