use reqwest::StatusCode;

use crate::harness::{json, spawn};

#[tokio::test]
async fn refresh_rotates_both_tokens_and_kills_the_old_pair() {
    let api = spawn(3).await;
    let (old_access, old_refresh) = api.sandbox.current_tokens();

    let response = api.refresh(&old_refresh).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json(response).await;
    assert_eq!(body["expires_in"], 172_800);
    assert_eq!(body["token_type"], "Bearer");
    let new_access = body["access_token"].as_str().expect("access token").to_owned();
    let new_refresh = body["refresh_token"].as_str().expect("refresh token").to_owned();
    assert_ne!(new_access, old_access);
    assert_ne!(new_refresh, old_refresh);
    assert_eq!(api.sandbox.current_tokens(), (new_access.clone(), new_refresh.clone()));
    assert_eq!(api.sandbox.refreshes(), 1);

    let reused = api.refresh(&old_refresh).await;
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(reused).await["error"], "invalid_grant");

    let stale = api.get_with(&api.url("/api/patients/1001"), &old_access).await;
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
    let fresh = api.get_with(&api.url("/api/patients/1001"), &new_access).await;
    assert_eq!(fresh.status(), StatusCode::OK);

    assert_eq!(api.sandbox.refreshes(), 1, "a rejected refresh is not counted");
    assert_eq!(api.sandbox.calls_to("/o/token/"), 2);
}

#[tokio::test]
async fn wrong_client_is_invalid_client() {
    let api = spawn(1).await;
    let (_, refresh) = api.sandbox.current_tokens();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", "sandbox-client-id"),
        ("client_secret", "not-the-secret"),
    ];
    let response = api.http.post(api.url("/o/token/")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(response).await["error"], "invalid_client");
    assert_eq!(api.sandbox.current_tokens().1, refresh, "nothing rotated");
}

#[tokio::test]
async fn malformed_token_requests_are_oauth_errors_not_panics() {
    let api = spawn(1).await;
    let no_grant = api.http.post(api.url("/o/token/")).body("%%%").send().await.unwrap();
    assert_eq!(no_grant.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(no_grant).await["error"], "invalid_request");
    let unknown = api.http.post(api.url("/o/token/")).form(&[("grant_type", "password")]).send();
    let unknown = unknown.await.unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(unknown).await["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn bad_or_missing_bearer_is_401_with_drf_detail() {
    let api = spawn(1).await;
    let url = api.url("/api/patients");
    let bad = api.get_with(&url, "not-a-token").await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(bad).await["detail"], "Authentication credentials were not provided.");
    let missing = api.http.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert!(missing.headers().contains_key("www-authenticate"));
    assert_eq!(api.sandbox.calls(), 2, "rejected calls still count");
}

#[tokio::test]
async fn expired_access_token_recovers_with_one_refresh() {
    let api = spawn(1).await;
    api.sandbox.expire_access_token();
    let (expired, refresh) = api.sandbox.current_tokens();
    let denied = api.get_with(&api.url("/api/patients/1001"), &expired).await;
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
    let body = json(api.refresh(&refresh).await).await;
    let access = body["access_token"].as_str().unwrap();
    let ok = api.get_with(&api.url("/api/patients/1001"), access).await;
    assert_eq!(ok.status(), StatusCode::OK);
}
