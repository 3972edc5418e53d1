//! The HTTP limits: a slow client is cut off, requests beyond the
//! concurrency limit and requests that find the database pool exhausted
//! get 503 with `Retry-After`, and `DRCHRONO_API_BASE` over plain http is
//! refused at start except on loopback.

use integration_tests::{
    app::{settings as app_settings, spawn_app_configured},
    db::fresh_db,
};
use sandbox::{Sandbox, SandboxConfig};
use server::AppState;
use std::{sync::Arc, time::Duration};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
};

/// Far beyond the one-second limits set below; a server without them
/// keeps the connection for all of it.
const BOUND: Duration = Duration::from_secs(15);

/// Sends `head` and then one byte of `trickle` every 200 ms, and returns
/// what the server sent before it closed the connection; `None` when it
/// was still open after [`BOUND`].
async fn trickle(addr: std::net::SocketAddr, head: &'static str, trickle: &'static str) -> Option<String> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        write.write_all(head.as_bytes()).await?;
        for byte in trickle.bytes().cycle() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            write.write_all(&[byte]).await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(BOUND, read.read_to_end(&mut answer)).await;
    writer.abort();
    closed.ok().map(|_| String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn a_client_sending_its_headers_a_byte_at_a_time_is_cut_off() {
    let app = spawn_app_configured(false, 0, |s, _| s.limits.http_header_read_timeout_secs = 1).await;
    let answer = trickle(app.addr, "GET /health HTTP/1.1\r\n", "X-Slow: aaaaaaaa\r\n").await;
    assert!(answer.is_some(), "the connection was still open after {BOUND:?}");
}

#[tokio::test]
async fn a_client_sending_its_body_a_byte_at_a_time_gets_408() {
    let app = spawn_app_configured(false, 0, |s, _| s.limits.http_request_timeout_secs = 1).await;
    let head = "POST /webhooks/drchrono HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n";
    let answer = trickle(app.addr, head, "{").await.expect("the connection is closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

/// Starts a POST whose body never finishes, so the request holds its slot.
async fn hold_a_slot(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = "POST /webhooks/drchrono HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{";
    stream.write_all(head.as_bytes()).await.expect("write");
    stream
}

#[tokio::test]
async fn requests_beyond_the_concurrency_limit_get_503_with_retry_after() {
    let app = spawn_app_configured(false, 0, |s, _| s.limits.http_max_concurrent_requests = 1).await;
    let held = hold_a_slot(app.addr).await;
    // The held request takes its slot as soon as its headers are read.
    let mut refused = None;
    for _ in 0..50 {
        let resp = app.http.get(app.url("/ready")).send().await.expect("ready");
        if resp.status() == 503 {
            refused = Some(resp);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let resp = refused.expect("a second request while the first holds the only slot gets 503");
    assert_eq!(resp.headers()["retry-after"], "1");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["request_id"].is_string(), "{body}");
    let alive = app.http.get(app.url("/health")).send().await.expect("health");
    assert_eq!(alive.status(), 200, "the liveness probe takes no slot");
    drop(held);
    let mut ok = false;
    for _ in 0..50 {
        if app.http.get(app.url("/ready")).send().await.expect("ready").status() == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "the slot is given back when the held request ends");
}

#[tokio::test]
async fn a_request_that_finds_the_pool_exhausted_gets_503_with_retry_after() {
    let db = fresh_db().await;
    let sandbox = Sandbox::spawn(SandboxConfig { patients: 1, ..Default::default() }).await.expect("sandbox starts");
    let mut settings = app_settings(&db, &sandbox);
    settings.limits.database_max_connections = 1;
    settings.limits.database_acquire_timeout_ms = 200;
    let pool = server::connect(&settings).await.expect("pool");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/webhooks/drchrono", listener.local_addr().unwrap());
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    let state = AppState { pool: pool.clone(), settings: Arc::new(settings) };
    tokio::spawn(server::serve(state, listener, shutdown));
    let sender = sandbox::WebhookSender::new(url, integration_tests::app::WEBHOOK_SECRET);
    let patient = sandbox.patient(sandbox.patient_ids()[0]).unwrap();

    let held = pool.acquire().await.expect("the only connection");
    let resp = sender.send("PATIENT_MODIFY", &patient).await.expect("delivery");
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], server::error::DATABASE_RETRY_AFTER_SECS.to_string().as_str());
    drop(held);
    let resp = sender.send("PATIENT_MODIFY", &patient).await.expect("delivery");
    assert_eq!(resp.status(), 200, "the retry passes once a connection is free");
}

/// Runs the service's worker binary with `api_base`; its first line of
/// stderr when it stopped at start, `None` when it started.
async fn start_with_api_base(api_base: &str) -> Option<String> {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_service-worker"))
        .args(["postgres://127.0.0.1:1/none", "cleanup"])
        .env("DRCHRONO_API_BASE", api_base)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("service-worker runs");
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    match stdout.next_line().await.expect("stdout") {
        Some(_process_id) => None,
        None => {
            let out = child.wait_with_output().await.expect("exit");
            assert_eq!(out.status.code(), Some(2), "{out:?}");
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            Some(stderr)
        }
    }
}

#[tokio::test]
async fn a_plain_http_drchrono_origin_is_refused_at_start_except_on_loopback() {
    let line = start_with_api_base("http://drchrono.com").await.expect("refused at start");
    assert!(line.contains("DRCHRONO_API_BASE") && line.contains("https://"), "{line}");
    assert_eq!(start_with_api_base("http://127.0.0.1:9").await, None, "loopback http starts");
    assert_eq!(start_with_api_base("https://drchrono.com").await, None);
}
