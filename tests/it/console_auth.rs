//! Logging in to the console: each role, a wrong token, the session
//! cookie's attributes, the redirect of a logged-out browser, logout, and
//! the limit on failed logins.

use integration_tests::app::{ADMIN_TOKEN, spawn_app_configured, spawn_app_with};
use integration_tests::console::{Console, READONLY_TOKEN};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

async fn sessions(pool: &sqlx::PgPool) -> Vec<(Vec<u8>, String)> {
    sqlx::query_as("SELECT id_sha256, role FROM console_sessions ORDER BY created_at").fetch_all(pool).await.unwrap()
}

fn session_cookie(resp: &reqwest::Response) -> String {
    let cookie = resp.headers().get("set-cookie").expect("a session cookie").to_str().unwrap().to_string();
    assert!(cookie.starts_with("console_session="), "{cookie}");
    cookie
}

#[tokio::test]
async fn console_login_takes_each_role_token_and_refuses_a_wrong_one() {
    let app = spawn_app_with(false, 0).await;
    for (token, role) in [(ADMIN_TOKEN, "admin"), (READONLY_TOKEN, "readonly")] {
        let console = Console::logged_in(&app, token).await;
        let page = console.page("/console").await;
        assert!(page.contains(&format!(r#"<span id="role">{role}</span>"#)), "{page}");
    }
    let rows = sessions(app.pool()).await;
    let roles: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(roles, ["admin", "readonly"]);

    let stranger = Console::new(&app);
    let resp = stranger.login("not-the-admin-token-at-all").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().get("set-cookie").is_none(), "no session for a wrong token");
    let body = resp.text().await.unwrap();
    assert!(body.contains(r#"id="login-error""#) && body.contains(r#"id="login""#), "{body}");
    assert_eq!(sessions(app.pool()).await.len(), 2, "a wrong token stores no session");
    assert_eq!(stranger.get("/console").await.0, StatusCode::SEE_OTHER, "and opens nothing");
}

#[tokio::test]
async fn console_session_cookie_is_httponly_strict_and_keeps_only_a_hash() {
    let app = spawn_app_with(false, 0).await;
    let resp = Console::new(&app).login(ADMIN_TOKEN).await;
    let cookie = session_cookie(&resp);
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age=28800"] {
        assert!(cookie.split("; ").any(|a| a == attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "no Secure on loopback, where the browser uses http: {cookie}");
    let id = cookie.split(';').next().unwrap().trim_start_matches("console_session=");
    let rows = sessions(app.pool()).await;
    assert_eq!(rows[0].0, Sha256::digest(id.as_bytes()).to_vec(), "the row holds the id's SHA-256");
    let stored: String = sqlx::query_scalar("SELECT encode(id_sha256, 'hex') || csrf FROM console_sessions")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert!(!stored.contains(id), "the session id itself is not stored");

    let public = spawn_app_configured(false, 0, |s, _| s.bind_addr = Some("0.0.0.0:8080".parse().unwrap())).await;
    let cookie = session_cookie(&Console::new(&public).login(ADMIN_TOKEN).await);
    assert!(cookie.split("; ").any(|a| a == "Secure"), "Secure outside loopback: {cookie}");
}

#[tokio::test]
async fn console_pages_redirect_a_logged_out_browser_and_logout_ends_the_session() {
    let app = spawn_app_with(false, 0).await;
    let stranger = Console::new(&app);
    for path in [
        "/console",
        "/console/jobs",
        "/console/jobs/01J0000000000000000000000",
        "/console/deliveries",
        "/console/review",
        "/console/runs",
    ] {
        let resp = stranger.http.get(stranger.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "GET {path}");
        assert_eq!(resp.headers()["location"], "/console/login", "GET {path}");
    }
    let resp = stranger.post_raw("/console/queues/upsert_record/pause", &[]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "a POST without a session is refused");
    let login = stranger.page("/console/login").await;
    assert!(login.contains(r#"<form id="login" method="post" action="/console/login">"#), "{login}");

    let console = Console::logged_in(&app, ADMIN_TOKEN).await;
    let resp = console.post("/console", "/console/logout", &[]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/console/login");
    assert!(sessions(app.pool()).await.is_empty(), "logout deletes the session row");
    assert_eq!(console.get("/console").await.0, StatusCode::SEE_OTHER, "the old cookie opens nothing");
}

#[tokio::test]
async fn console_failed_logins_beyond_the_limit_get_429() {
    let app = spawn_app_configured(false, 0, |s, _| s.limits.webhook_rejected_per_minute = 2).await;
    let stranger = Console::new(&app);
    for _ in 0..2 {
        assert_eq!(stranger.login("wrong-token-0123456789").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(stranger.login("wrong-token-0123456789").await.status(), StatusCode::TOO_MANY_REQUESTS);
    let resp = stranger.login(ADMIN_TOKEN).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "the right token is never held back");
}
