//! `drchrono-sync connect` against the sandbox, driven the way a person's
//! browser would: follow the printed authorize URL (the sandbox approves at
//! once and redirects to the callback), then let connect finish.

use integration_tests::{
    app::{TestApp, spawn_app_configured},
    queue,
};
use job_runner::{JobState, enqueue};
use jobs::{
    catalog::SyncRecords,
    domain::RecordKind,
    drchrono::{DrChronoError, read_stored_tokens, reauthorization_required},
};
use sandbox::Kind;
use server::connect::{Authorization, ConnectArgs, ConnectError, Connected};
use std::time::Duration;

/// A practice that has never connected: no tokens in the environment.
async fn unconnected_app() -> TestApp {
    spawn_app_configured(true, 5, |s, _| {
        s.drchrono_access_token = None;
        s.drchrono_refresh_token = None;
    })
    .await
}

/// The server set-up: the running service receives the callback.
fn via_service(app: &TestApp) -> ConnectArgs {
    ConnectArgs { listen: None, redirect_uri: Some(app.url("/oauth/callback")), wait_minutes: 1 }
}

/// Opens the authorize URL as a browser would, following the redirect to
/// the callback, which must accept it.
async fn approve(app: &TestApp, authorization: &Authorization) {
    let page = app.http.get(authorization.authorize_url.clone()).send().await.unwrap();
    assert_eq!(page.status(), 200, "the callback accepts the redirect: {}", page.text().await.unwrap());
}

async fn connect(app: &TestApp, args: &ConnectArgs) -> Result<Connected, ConnectError> {
    let authorization = server::connect::begin(app.pool(), &app.settings, args).await?;
    approve(app, &authorization).await;
    authorization.complete(app.pool(), &app.settings).await
}

/// The code and state DrChrono's redirect carries, without delivering it.
async fn redirect_of(authorization: &Authorization) -> url::Url {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = http.get(authorization.authorize_url.clone()).send().await.unwrap();
    assert_eq!(response.status(), 302);
    url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap()
}

fn query_value(url: &url::Url, name: &str) -> String {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap()
}

#[tokio::test]
async fn onboarding_connect_sync_revoke_and_reconnect_with_the_service_running() {
    let app = unconnected_app().await;
    let connected = connect(&app, &via_service(&app)).await.expect("connect succeeds");
    assert_eq!(connected.doctors as usize, app.sandbox.ids(Kind::Doctor).len());
    assert_eq!(connected.offices as usize, app.sandbox.ids(Kind::Office).len());
    assert!(connected.missing.is_empty(), "{connected}");
    assert_eq!(app.sandbox.code_exchanges(), 1);

    // Stored encrypted: the row holds ciphertext, which opens to the live pair.
    let (access, refresh) = app.sandbox.current_tokens();
    let (access_enc, refresh_enc): (Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT access_token_enc, refresh_token_enc FROM oauth_tokens")
            .fetch_one(app.pool())
            .await
            .unwrap();
    for (sealed, plain) in [(&access_enc, &access), (&refresh_enc, &refresh)] {
        assert!(!sealed.windows(plain.len()).any(|w| w == plain.as_bytes()), "no plaintext token in the table");
    }
    let key = integration_tests::app::test_keys();
    assert_eq!(read_stored_tokens(app.pool(), &key).await.unwrap(), Some((access, Some(refresh))));
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM oauth_pending").fetch_one(app.pool()).await.unwrap();
    assert_eq!(pending, 0, "the authorization is consumed");

    // A sync with the new tokens succeeds.
    let sync = SyncRecords::all(RecordKind::Patient);
    enqueue(app.pool(), &sync).await.unwrap();
    app.drain_jobs().await;
    let patients: i64 = sqlx::query_scalar("SELECT count(*) FROM patients").fetch_one(app.pool()).await.unwrap();
    assert_eq!(patients as usize, app.sandbox.patient_ids().len());

    // The practice revokes the app: the next job's refresh is invalid_grant,
    // and it waits for a person instead of dying.
    app.sandbox.revoke_grant();
    let waiting = enqueue(app.pool(), &SyncRecords::all(RecordKind::Doctor)).await.unwrap().expect("enqueued");
    wait_for_reauthorization(&app, &waiting).await;

    // Re-connect while the service runs: no restart, the job resumes.
    let connected = connect(&app, &via_service(&app)).await.expect("re-connect succeeds");
    assert_eq!(connected.resumed_jobs, 1, "{connected}");
    assert!(reauthorization_required(app.pool()).await.unwrap().is_none(), "the lockout is lifted");
    queue::wait_for_state(app.pool(), &waiting, JobState::Done, Duration::from_secs(20)).await;
    app.drain_jobs().await;
}

/// Waits until `job` is deferred for re-authorization, minutes away.
async fn wait_for_reauthorization(app: &TestApp, job: &str) {
    for _ in 0..200 {
        let report = queue::report(app.pool(), job).await;
        let message = report.last_result.as_ref().and_then(|r| r["Err"]["message"].as_str()).unwrap_or_default();
        if report.state == JobState::Pending && DrChronoError::is_reauth_wait(message) {
            assert!(report.run_at > chrono::Utc::now() + chrono::Duration::minutes(4), "waits minutes, not a retry");
            assert!(reauthorization_required(app.pool()).await.unwrap().is_some());
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {job} never waited for re-authorization");
}

#[tokio::test]
async fn a_reused_code_is_refused_as_invalid_grant_and_a_replayed_callback_is_ignored() {
    let app = unconnected_app().await;
    let first = server::connect::begin(app.pool(), &app.settings, &via_service(&app)).await.unwrap();
    let redirect = redirect_of(&first).await;
    assert_eq!(app.http.get(redirect.clone()).send().await.unwrap().status(), 200);
    first.complete(app.pool(), &app.settings).await.expect("the first exchange succeeds");
    let replay = app.http.get(redirect.clone()).send().await.unwrap();
    assert_eq!(replay.status(), 400, "a used state is not accepted twice");

    // A second authorization handed the first one's code.
    let second = server::connect::begin(app.pool(), &app.settings, &via_service(&app)).await.unwrap();
    let state = query_value(&second.authorize_url, "state");
    let mut forged = redirect.clone();
    forged.query_pairs_mut().clear().append_pair("code", &query_value(&redirect, "code")).append_pair("state", &state);
    assert_eq!(app.http.get(forged).send().await.unwrap().status(), 200);
    let err = second.complete(app.pool(), &app.settings).await.unwrap_err();
    assert!(
        matches!(&err, ConnectError::DrChrono(DrChronoError::CodeRefused { code, .. }) if code == "invalid_grant"),
        "{err}"
    );
    assert!(err.to_string().contains("already used"), "{err}");
    assert_eq!(app.sandbox.code_exchanges(), 1);
}

#[tokio::test]
async fn a_redirect_uri_other_than_the_authorize_calls_is_named() {
    let app = unconnected_app().await;
    let mut authorization = server::connect::begin(app.pool(), &app.settings, &via_service(&app)).await.unwrap();
    // The URL DrChrono was sent to is not the one connect will exchange with.
    let elsewhere = app.url("/oauth/callback?from=console");
    let pairs: Vec<(String, String)> = authorization.authorize_url.query_pairs().into_owned().collect();
    let mut query = authorization.authorize_url.query_pairs_mut();
    query.clear();
    for (k, v) in &pairs {
        query.append_pair(k, if k == "redirect_uri" { &elsewhere } else { v });
    }
    drop(query);
    approve(&app, &authorization).await;
    let err = authorization.complete(app.pool(), &app.settings).await.unwrap_err();
    assert!(
        matches!(&err, ConnectError::DrChrono(DrChronoError::CodeRefused { code, .. }) if code == "invalid_grant"),
        "{err}"
    );
    assert!(err.to_string().contains("redirect_uri mismatch"), "{err}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM oauth_tokens").fetch_one(app.pool()).await.unwrap();
    assert_eq!(stored, 0, "nothing stored");
}

#[tokio::test]
async fn a_missing_calendar_read_is_named_on_a_laptop_listener() {
    let app = unconnected_app().await;
    let without: Vec<&str> = sandbox::DEFAULT_SCOPES.split_whitespace().filter(|s| *s != "calendar:read").collect();
    app.sandbox.permit_scopes(&without.join(" "));
    let args = ConnectArgs { listen: Some("127.0.0.1:0".parse().unwrap()), redirect_uri: None, wait_minutes: 1 };
    let authorization = server::connect::begin(app.pool(), &app.settings, &args).await.unwrap();
    assert!(authorization.redirect_uri.starts_with("http://127.0.0.1:"), "{}", authorization.redirect_uri);
    assert_ne!(authorization.redirect_uri, app.url("/oauth/callback"), "connect's own listener");
    approve(&app, &authorization).await;
    let connected = authorization.complete(app.pool(), &app.settings).await.expect("connect succeeds");
    let missing: Vec<&str> = connected.missing.iter().map(|(s, _)| *s).collect();
    assert_eq!(missing, ["calendar:read"]);
    let report = connected.to_string();
    assert!(report.contains("MISSING scope calendar:read") && report.contains("empty, not 403"), "{report}");
    assert!(!report.contains(&app.sandbox.current_tokens().0), "no token in the report");

    let check = server::check::run(&app.settings).await;
    let scopes = check.part("drchrono scopes").unwrap();
    assert_eq!(scopes.status, server::check::Status::Fail);
    assert!(scopes.detail.contains("calendar:read"), "{}", scopes.detail);
}

#[tokio::test]
async fn an_expired_authorization_gives_up_and_names_what_to_do() {
    let app = unconnected_app().await;
    let authorization = server::connect::begin(app.pool(), &app.settings, &via_service(&app)).await.unwrap();
    sqlx::query("UPDATE oauth_pending SET expires_at = now() - interval '1 second'").execute(app.pool()).await.unwrap();
    let late = app.http.get(authorization.authorize_url.clone()).send().await.unwrap();
    assert_eq!(late.status(), 400, "an expired state is refused");
    assert!(late.text().await.unwrap().contains("connect` again"));
}

#[tokio::test]
async fn connect_and_the_preflight_log_no_token_code_or_state() {
    let captured = integration_tests::telemetry::capture();
    let app = unconnected_app().await;
    let authorization = server::connect::begin(app.pool(), &app.settings, &via_service(&app)).await.unwrap();
    let redirect = redirect_of(&authorization).await;
    assert_eq!(app.http.get(redirect.clone()).send().await.unwrap().status(), 200);
    let connected = authorization.complete(app.pool(), &app.settings).await.unwrap();
    let report = server::check::run(&app.settings).await;
    report.log();

    let logs = captured.logs.text();
    let (access, refresh) = app.sandbox.current_tokens();
    let secrets = [access, refresh, query_value(&redirect, "code"), query_value(&redirect, "state")];
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a token, the code or the state reached the logs");
        assert!(!report.render().contains(secret.as_str()) && !connected.to_string().contains(secret.as_str()));
    }
    for part in &report.parts {
        let line = format!("part=\"{}\"", part.name);
        assert!(
            logs.lines().any(|l| l.contains("preflight:") && l.contains(&line)),
            "no line for {}: {logs}",
            part.name
        );
    }
}

#[tokio::test]
async fn after_connect_a_stale_environment_pair_does_not_lift_a_later_lockout() {
    // The service was first started with tokens in the environment, and they
    // are still there after a connect replaced them.
    let app = spawn_app_configured(false, 2, |_, _| {}).await;
    let ctx = jobs::JobContext::new(app.pool().clone(), app.settings.job_settings());
    let path = format!("/api/patients/{}", app.sandbox.patient_ids()[0]);
    assert!(ctx.drchrono().get_object(&path).await.unwrap().is_some(), "the environment pair is seeded");
    connect(&app, &via_service(&app)).await.expect("connect succeeds");

    app.sandbox.revoke_grant();
    let err = ctx.drchrono().get_object(&path).await.unwrap_err();
    assert!(matches!(err, DrChronoError::NeedsReauthorization { .. }), "{err}");
    let calls = app.sandbox.calls();
    for _ in 0..2 {
        let err = ctx.drchrono().get_object(&path).await.unwrap_err();
        assert!(matches!(err, DrChronoError::NeedsReauthorization { .. }), "{err}");
    }
    assert_eq!(app.sandbox.calls(), calls, "the old environment pair is not tried again");
    assert!(reauthorization_required(app.pool()).await.unwrap().is_some());
}
