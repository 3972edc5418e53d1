//! `/o/authorize/` approves at once; the code is exchanged once, only with
//! the redirect URI it was issued for.

use reqwest::{StatusCode, redirect::Policy};
use serde_json::Value;

use crate::harness::{Api, json, spawn};

const REDIRECT: &str = "http://127.0.0.1:9/oauth/callback";

/// Follows the authorize URL without following the redirect; the code and
/// state the app's callback would receive.
async fn authorize(api: &Api, scope: &str, state: &str) -> (String, String) {
    let http = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let query = [
        ("response_type", "code"),
        ("client_id", api.sandbox.config().client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", state),
    ];
    let response = http.get(api.url("/o/authorize/")).query(&query).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(&location[..url::Position::AfterPath], REDIRECT);
    let pairs: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    (pairs["code"].clone(), pairs["state"].clone())
}

async fn exchange(api: &Api, code: &str, redirect_uri: &str) -> (StatusCode, Value) {
    let config = api.sandbox.config();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", config.client_id.as_str()),
        ("client_secret", config.client_secret.as_str()),
    ];
    let response = api.http.post(api.url("/o/token/")).form(&form).send().await.unwrap();
    (response.status(), json(response).await)
}

#[tokio::test]
async fn a_code_is_exchanged_once_for_a_pair_the_api_accepts() {
    let api = spawn(2).await;
    let (code, state) = authorize(&api, "user:read calendar:read", "st-123").await;
    assert_eq!(state, "st-123", "state comes back unchanged");

    let (status, body) = exchange(&api, &code, REDIRECT).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "user:read calendar:read");
    assert_eq!(body["expires_in"], 172_800);
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(api.sandbox.current_tokens().0, access);
    let ok = api.get_with(&api.url("/api/patients/1001"), access).await;
    assert_eq!(ok.status(), StatusCode::OK);

    let (status, body) = exchange(&api, &code, REDIRECT).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant", "a reused code: {body}");
    assert_eq!(api.sandbox.code_exchanges(), 1);
}

#[tokio::test]
async fn a_different_redirect_uri_is_invalid_grant() {
    let api = spawn(1).await;
    let (code, _) = authorize(&api, "user:read", "s").await;
    let (status, body) = exchange(&api, &code, "http://127.0.0.1:9/elsewhere").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"].as_str().unwrap().contains("redirect URI"), "{body}");
    let (status, _) = exchange(&api, &code, REDIRECT).await;
    assert_eq!(status, StatusCode::OK, "the mismatch did not use the code up");
}

#[tokio::test]
async fn without_calendar_read_appointment_lists_are_empty_not_403() {
    let api = spawn(3).await;
    api.sandbox.permit_scopes("user:read patients:read");
    let (code, _) = authorize(&api, "user:read patients:read calendar:read", "s").await;
    let (status, body) = exchange(&api, &code, REDIRECT).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["scope"], "user:read patients:read", "calendar:read is not granted");
    let list = api.get(&api.url("/api/appointments?since=2000-01-01")).await;
    assert_eq!(list.status(), StatusCode::OK);
    assert_eq!(json(list).await["results"], serde_json::json!([]));
    let bulk = api.get(&api.url("/api/appointments_list?since=2000-01-01")).await;
    assert_eq!(json(bulk).await["data"], serde_json::json!([]), "the bulk list too");
}

#[tokio::test]
async fn a_revoked_grant_refuses_refresh_until_authorized_again() {
    let api = spawn(1).await;
    let (access, refresh) = api.sandbox.current_tokens();
    api.sandbox.revoke_grant();
    assert_eq!(api.get_with(&api.url("/api/patients/1001"), &access).await.status(), StatusCode::UNAUTHORIZED);
    let refused = api.refresh(&refresh).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(refused).await["error"], "invalid_grant");
    let (code, _) = authorize(&api, "", "s").await;
    let (status, body) = exchange(&api, &code, REDIRECT).await;
    assert_eq!(status, StatusCode::OK);
    let refreshed = api.refresh(body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_client_is_not_redirected() {
    let api = spawn(1).await;
    let http = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let query = [("response_type", "code"), ("client_id", "someone-else"), ("redirect_uri", REDIRECT)];
    let response = http.get(api.url("/o/authorize/")).query(&query).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(response).await["error"], "invalid_client");
}
