//! Sending a case and judging the answer: any 5xx, a 408 (the fuzzer never
//! sends slowly) or a dropped connection is a failure. A 503 with
//! `Retry-After` is load shedding, counted apart: keep the concurrency
//! under the service's limits and there is none.

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue, RETRY_AFTER};

use crate::{case::Case, samples::Target};

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Status(u16),
    /// 503 with `Retry-After`.
    Shed,
    /// A failure, described without the body.
    Failed(String),
}

/// A client for the fuzzer: no redirects, a generous timeout, and idle
/// connections dropped well before the service closes them
/// (`HTTP_HEADER_READ_TIMEOUT_SECS`, 10 s by default, is also its keep-alive
/// limit): reusing a connection at the moment the server closes it is a
/// dropped request that says nothing about the service.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .pool_idle_timeout(Duration::from_secs(4))
        .build()
        .unwrap_or_default()
}

pub async fn send(http: &reqwest::Client, target: &Target, case: &Case) -> Answer {
    let url = format!("{}{}", target.base_url, case.path);
    let mut request = http.request(case.method.clone(), &url).body(case.body.clone());
    for (name, value) in &case.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(value)) {
            request = request.header(name, value);
        }
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) if e.is_builder() => return Answer::Failed("the fuzzer built a request reqwest refuses".into()),
        Err(e) => return Answer::Failed(format!("no answer: {}", transport(&e))),
    };
    let status = response.status().as_u16();
    let shed = status == 503 && response.headers().contains_key(RETRY_AFTER);
    // Read the body to the end: a connection cut mid-answer is a failure too.
    if let Err(e) = response.bytes().await {
        return Answer::Failed(format!("{status}, body cut: {}", transport(&e)));
    }
    match status {
        _ if shed => Answer::Shed,
        408 | 500..=599 => Answer::Failed(format!("status {status}")),
        _ => Answer::Status(status),
    }
}

/// What kind of transport error, without the URL (it carries the query).
fn transport(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection refused"
    } else if e.is_body() || e.is_decode() {
        "body error"
    } else {
        "connection dropped"
    }
}
