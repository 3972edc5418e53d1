//! One-time console login links, as `cargo xtask demo` prints them: a link
//! opens a session of its role once, and never again, nor after it expires.

use integration_tests::app::spawn_app_with;
use integration_tests::console::Console;
use reqwest::StatusCode;
use server::console::{Role, login_link};
use std::time::Duration;

#[tokio::test]
async fn console_login_link_opens_one_session_once() {
    let app = spawn_app_with(false, 0).await;
    let token = login_link::issue(app.pool(), Role::Admin, Duration::from_secs(600)).await.unwrap();
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT token_sha256 FROM console_login_links").fetch_one(app.pool()).await.unwrap();
    assert_ne!(stored, token.as_bytes(), "only the token's hash is stored");

    let console = Console::new(&app);
    let path = format!("/console/login/once/{token}");
    let resp = console.http.get(console.url(&path)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/console");
    let page = console.page("/console").await;
    assert!(page.contains(r#"<span id="role">admin</span>"#), "the link's session is an admin one");

    let again = Console::new(&app);
    let (status, page) = again.get(&path).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a used link opens nothing");
    assert!(page.contains("used already or has expired"), "{page}");
    let (status, _) = again.get("/console").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "no session came of the second use");
}

#[tokio::test]
async fn console_login_link_expires_and_an_unknown_one_opens_nothing() {
    let app = spawn_app_with(false, 0).await;
    let token = login_link::issue(app.pool(), Role::Readonly, Duration::from_secs(600)).await.unwrap();
    sqlx::query("UPDATE console_login_links SET expires_at = now() - interval '1 second'")
        .execute(app.pool())
        .await
        .unwrap();
    let console = Console::new(&app);
    for token in [token.as_str(), "0000"] {
        let (status, _) = console.get(&format!("/console/login/once/{token}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}");
    }
    let (status, _) = console.get("/console").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "still logged out");
}
