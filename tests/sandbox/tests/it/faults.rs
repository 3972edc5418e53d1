use std::time::Duration;

use reqwest::StatusCode;
use sandbox::{Faults, RateLimit, SandboxConfig};

use crate::harness::{json, spawn, spawn_with};

#[tokio::test]
async fn rate_limit_answers_429_with_drchrono_detail_and_optional_header() {
    let api = spawn(2).await;
    let url = api.url("/api/patients");
    let detail = "Request was throttled. Expected available in 2710.0 seconds.";

    let limit = RateLimit { retry_after_header: true, seconds: 2710 };
    api.sandbox.set_faults(Faults { rate_limited: Some(limit), ..Faults::default() });
    let response = api.get(&url).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "2710");
    assert_eq!(json(response).await["detail"], detail);

    let limit = RateLimit { retry_after_header: false, seconds: 2710 };
    api.sandbox.set_faults(Faults { rate_limited: Some(limit), ..Faults::default() });
    let response = api.get(&url).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(!response.headers().contains_key("retry-after"));
    assert_eq!(json(response).await["detail"], detail);

    api.sandbox.set_faults(Faults::default());
    assert_eq!(api.get(&url).await.status(), StatusCode::OK);
    assert_eq!(api.sandbox.calls(), 3, "throttled calls count");
}

#[tokio::test]
async fn html_once_serves_one_html_200_then_recovers() {
    let api = spawn(2).await;
    api.sandbox.set_faults(Faults { html_once: true, ..Faults::default() });
    let url = api.url("/api/patients/1001");
    let response = api.get(&url).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(response.text().await.unwrap().contains("<html>"));
    assert_eq!(json(api.get(&url).await).await["id"], 1001);
    assert!(!api.sandbox.faults().html_once);
}

#[tokio::test]
async fn fail_page_breaks_one_page_mid_walk_once() {
    let api = spawn(10).await;
    api.sandbox.set_faults(Faults { fail_page: Some(1), ..Faults::default() });
    let first = json(api.get(&api.url("/api/patients?page_size=4")).await).await;
    let next = first["next"].as_str().unwrap();
    let failed = api.get(next).await;
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let retried = json(api.get(next).await).await;
    assert_eq!(retried["results"][0]["id"], 1005);
    assert_eq!(api.sandbox.calls(), 3);
}

#[tokio::test]
async fn invalid_grant_fault_refuses_even_the_current_refresh_token() {
    let api = spawn(1).await;
    api.sandbox.set_faults(Faults { invalid_grant: true, ..Faults::default() });
    let (_, refresh) = api.sandbox.current_tokens();
    let response = api.refresh(&refresh).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(response).await["error"], "invalid_grant");
}

#[tokio::test]
async fn slow_delays_answers() {
    let api = spawn(1).await;
    api.sandbox.set_faults(Faults { slow: Some(Duration::from_millis(300)), ..Faults::default() });
    let client = reqwest::Client::builder().timeout(Duration::from_millis(100)).build().unwrap();
    let (access, _) = api.sandbox.current_tokens();
    let outcome = client.get(api.url("/api/patients/1001")).bearer_auth(access).send().await;
    assert!(outcome.is_err_and(|e| e.is_timeout()));
}

#[tokio::test]
async fn the_hourly_budget_answers_429_until_the_top_of_the_hour() {
    let api = spawn_with(SandboxConfig {
        patients: 3,
        calls_per_hour: Some(4),
        calls_per_second: None,
        ..SandboxConfig::default()
    })
    .await;
    let unauthenticated = api.get_with(&api.url("/api/patients"), "wrong").await;
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED, "not throttled");
    for path in ["/api/patients", "/api/doctors", "/api/problems", "/api/patients/1001"] {
        assert_eq!(api.get(&api.url(path)).await.status(), StatusCode::OK, "{path}");
    }
    for path in ["/api/patients", "/api/allergies"] {
        let response = api.get(&api.url(path)).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
        assert!(!response.headers().contains_key("retry-after"));
        let detail = json(response).await["detail"].as_str().unwrap().to_owned();
        let seconds = detail
            .strip_prefix("Request was throttled. Expected available in ")
            .and_then(|rest| rest.strip_suffix(".0 seconds."))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{detail}"));
        assert!((1..=3600).contains(&seconds), "{detail}");
    }
    assert_eq!(api.sandbox.calls(), 7, "throttled calls still count as calls");
}

/// DrChrono's burst limit: the eleventh call within one second is a 429
/// with `Retry-After: 1`, and a second later calls pass again.
#[tokio::test]
async fn the_burst_limit_answers_429_past_ten_calls_in_a_second() {
    let api = spawn_with(SandboxConfig { patients: 3, ..SandboxConfig::default() }).await;
    let url = api.url("/api/doctors");
    let answers = futures::future::join_all((0..15).map(|_| api.get(&url))).await;
    let refused: Vec<_> = answers.iter().filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS).collect();
    assert_eq!(refused.len(), 5, "15 calls at once: 10 pass, 5 are throttled");
    assert_eq!(refused[0].headers()["retry-after"], "1");
    assert_eq!(api.sandbox.burst_refusals(), 5);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(api.get(&url).await.status(), StatusCode::OK, "the window has passed");
}
