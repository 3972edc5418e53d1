//! Tokens: single-flight refresh across processes, encryption at rest, and the re-authorization lockout.

use super::*;
use job_runner::JobState;

#[tokio::test]
async fn three_processes_hitting_an_expired_token_refresh_exactly_once() {
    let env = env_with(5, |_| {}).await;
    let path = env.patient_path(0);
    let (old_access, old_refresh) = env.sandbox.current_tokens();
    env.sandbox.expire_access_token();
    env.sandbox.reset_counters();

    let mut callers = Vec::new();
    for _ in 0..3 {
        callers.push(Caller::spawn(&env, &["get", &path, "4", "--wait-stdin"]).await);
    }
    for c in &mut callers {
        c.wait_ready().await;
    }
    for c in &mut callers {
        c.go().await;
    }
    let mut logs = Vec::new();
    for c in callers {
        let (out, ok, stderr) = c.finish().await;
        assert!(ok, "every process's calls succeed: {out:?}\n{stderr:#?}");
        assert_eq!(out, vec!["ok"; 4]);
        logs.extend(stderr);
    }

    assert_eq!(env.sandbox.refreshes(), 1, "one refresh across three processes");
    let api_calls = env.sandbox.calls_to("/api/patients");
    assert!((12..=15).contains(&api_calls), "12 calls plus at most one 401 per process, got {api_calls}");
    let stored = read_stored_tokens(&env.db.pool, &env.key()).await.unwrap().unwrap();
    let (new_access, new_refresh) = env.sandbox.current_tokens();
    assert_eq!(stored, (new_access.clone(), Some(new_refresh.clone())), "the rotated pair is stored");

    // Nothing secret reaches the logs.
    let secret = env.settings.drchrono.client_secret.clone().unwrap();
    for line in &logs {
        for s in [&old_access, &old_refresh, &new_access, &new_refresh, &secret] {
            assert!(!line.contains(s.as_str()), "a secret was logged: {line}");
        }
    }
    assert!(logs.iter().any(|l| l.contains("DrChrono tokens refreshed")), "the refresh is logged: {logs:#?}");
}

#[tokio::test]
async fn a_401_refreshes_once_retries_once_and_stores_the_rotated_pair_encrypted() {
    let env = env().await;
    let ctx = env.ctx();
    let path = env.patient_path(1);
    assert!(ctx.drchrono().get_object(&path).await.unwrap().is_some());
    assert_eq!(env.sandbox.refreshes(), 0, "a valid token is used as is");

    env.sandbox.expire_access_token();
    env.sandbox.reset_counters();
    let client = ctx.drchrono();
    let object = client.get_object(&path).await.expect("the retried call succeeds");
    assert_eq!(object.unwrap()["id"], env.sandbox.patient_ids()[1]);
    assert_eq!(env.sandbox.refreshes(), 1);
    assert_eq!(env.sandbox.calls_to("/api/patients"), 2, "the 401, then one retry");
    assert_eq!(env.sandbox.calls_to("/o/token"), 1);
    assert_eq!(client.calls(), 3, "every request counts, the refresh included");

    let (access, refresh) = env.sandbox.current_tokens();
    assert_ne!(Some(&access), env.settings.drchrono.access_token.as_ref(), "the pair rotated");
    let stored = read_stored_tokens(&env.db.pool, &env.key()).await.unwrap().unwrap();
    assert_eq!(stored, (access.clone(), Some(refresh.clone())));

    // The row holds no plaintext token, in any encoding a column could use.
    let (text, access_enc, refresh_enc): (String, Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT t::text, access_token_enc, refresh_token_enc FROM oauth_tokens t WHERE key = 'default'")
            .fetch_one(&env.db.pool)
            .await
            .unwrap();
    for token in [&access, &refresh] {
        let hex: String = token.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(!text.contains(token.as_str()) && !text.contains(&hex), "plaintext token in the row");
        for bytes in [&access_enc, &refresh_enc] {
            assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()), "plaintext token in a column");
        }
    }

    // The next call uses the stored token: no refresh.
    env.sandbox.reset_counters();
    assert!(ctx.drchrono().get_object(&path).await.unwrap().is_some());
    assert_eq!((env.sandbox.refreshes(), env.sandbox.calls()), (0, 1));

    // A token known to be expiring is refreshed before the call, not after a 401.
    let expires_in: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM access_expires_at - now())::float8 FROM oauth_tokens WHERE key = 'default'",
    )
    .fetch_one(&env.db.pool)
    .await
    .unwrap();
    assert!((172_700.0..=172_800.0).contains(&expires_in), "expires_in is kept: {expires_in}");
    sqlx::query("UPDATE oauth_tokens SET access_expires_at = now() + interval '30 seconds'")
        .execute(&env.db.pool)
        .await
        .unwrap();
    env.sandbox.reset_counters();
    assert!(ctx.drchrono().get_object(&path).await.unwrap().is_some());
    assert_eq!((env.sandbox.refreshes(), env.sandbox.calls_to("/api/patients")), (1, 1), "refreshed first");
}

#[tokio::test]
async fn without_an_encryption_key_stored_tokens_are_refused_with_a_clear_error() {
    let env = env_with(1, |s| s.drchrono.token_keys = None).await;
    let ctx = env.ctx();
    let err = ctx.drchrono().get_object(&env.patient_path(0)).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("TOKEN_ENCRYPTION_KEY is not set"), "{message}");
    assert!(matches!(JobError::from(err), JobError::Permanent(_)));
    assert_eq!(env.sandbox.calls(), 0);

    // Only an access token, no key and no client: used as is, in memory.
    let env = env_with(1, |s| {
        s.drchrono.token_keys = None;
        s.drchrono.refresh_token = None;
        s.drchrono.client_id = None;
        s.drchrono.client_secret = None;
    })
    .await;
    let ctx = env.ctx();
    assert!(ctx.drchrono().get_object(&env.patient_path(0)).await.unwrap().is_some());
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM oauth_tokens").fetch_one(&env.db.pool).await.unwrap();
    assert_eq!(rows, 0, "nothing stored without a key");
}

#[tokio::test]
async fn invalid_grant_stops_every_call_reports_degraded_and_leaves_jobs_waiting() {
    let app = spawn_app_with(false, 5).await;
    let settings = app_settings(&app.db, &app.sandbox);
    let ctx = JobContext::new(app.pool().clone(), settings.job_settings());
    let path = format!("/api/patients/{}", app.sandbox.patient_ids()[0]);
    let ready = || async { app.http.get(app.url("/ready")).send().await.unwrap().json::<Value>().await.unwrap() };
    assert_eq!(ready().await["status"], "ready");

    app.sandbox.set_faults(Faults { invalid_grant: true, ..Default::default() });
    app.sandbox.expire_access_token();
    app.sandbox.reset_counters();

    // The job's attempt: one 401, one refused refresh, then a wait, not a death.
    let before = Utc::now();
    let ((status, attempts, run_at), (outcome, class, message)) = probe_once(&ctx, &path).await;
    assert_eq!((status, attempts), (JobState::Pending, 0), "waiting, no attempt used");
    assert_near(run_at, before + ChronoDuration::minutes(5), "waits five minutes");
    assert_eq!((outcome.as_str(), class.as_str()), ("deferred", "wait_until"));
    assert!(message.contains("re-authoriz"), "{message}");
    assert_eq!((app.sandbox.calls_to("/api/patients"), app.sandbox.calls_to("/o/token")), (1, 1));

    // Every later call stops before the network.
    let calls = app.sandbox.calls();
    for _ in 0..3 {
        let err = ctx.drchrono().get_object(&path).await.unwrap_err();
        assert!(matches!(err, DrChronoError::NeedsReauthorization { .. }), "{err}");
        match JobError::from(err) {
            JobError::WaitUntil(at, _) => assert_near(at, Utc::now() + ChronoDuration::minutes(5), "wait"),
            other => panic!("expected a wait, got {other}"),
        }
    }
    assert_eq!(app.sandbox.calls(), calls, "no call reaches DrChrono while locked out");

    let body = ready().await;
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["drchrono"]["reason"], "invalid_grant");
    assert!(reauthorization_required(app.pool()).await.unwrap().is_some());

    // A person re-authorizes: new tokens in the environment lift the lockout.
    app.sandbox.set_faults(Faults::default());
    let (_, refresh) = app.sandbox.current_tokens();
    let grant: Value = app
        .http
        .post(format!("{}/o/token/", app.sandbox.base_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
            ("client_id", app.sandbox.config().client_id.as_str()),
            ("client_secret", app.sandbox.config().client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut settings = settings.job_settings();
    settings.drchrono.access_token = grant["access_token"].as_str().map(str::to_string);
    settings.drchrono.refresh_token = grant["refresh_token"].as_str().map(str::to_string);
    let ctx = JobContext::new(app.pool().clone(), settings);
    assert!(ctx.drchrono().get_object(&path).await.unwrap().is_some());
    assert_eq!(ready().await["status"], "ready");
}

#[tokio::test]
async fn invalid_grant_logs_one_alert_and_a_second_process_stays_off_the_network() {
    let env = env().await;
    let path = env.patient_path(0);
    env.sandbox.set_faults(Faults { invalid_grant: true, ..Default::default() });
    env.sandbox.expire_access_token();
    env.sandbox.reset_counters();

    let (out, ok, stderr) = Caller::spawn(&env, &["get", &path, "2"]).await.finish().await;
    assert!(!ok);
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|l| l.starts_with("err wait_until ")), "{out:?}");
    let alerts: Vec<_> = stderr.iter().filter(|l| l.contains("ALERT")).collect();
    assert_eq!(alerts.len(), 1, "one alert line: {stderr:#?}");
    assert!(alerts[0].contains("re-authorize") && alerts[0].contains("invalid_grant"), "{}", alerts[0]);
    let calls = env.sandbox.calls();
    assert_eq!(calls, 2, "the 401 and the refused refresh; the second call never left");

    let (_, ok, stderr) = Caller::spawn(&env, &["get", &path, "3"]).await.finish().await;
    assert!(!ok);
    assert_eq!(env.sandbox.calls(), calls, "another process makes no call either");
    assert!(!stderr.iter().any(|l| l.contains("ALERT")), "the alert is not repeated");
}
