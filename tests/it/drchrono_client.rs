//! The DrChrono client against the sandbox over real HTTP and a real
//! Postgres: single-flight token refresh across processes, tokens encrypted
//! at rest, re-authorization lockout, the shared hourly budget, 429 waits,
//! status mapping and list walks.

use chrono::{DateTime, Duration as ChronoDuration, DurationRound, NaiveDate, Utc};
use integration_tests::{
    app::{TEST_TOKEN_KEY, settings as app_settings, spawn_app_with},
    db::{TestDb, fresh_db},
    test_jobs::fast_config,
    wait,
};
use jobs::{
    JobContext, JobSettings,
    drchrono::{
        ApiError, DrChronoClient, Priority, TokenKey, date_chunks, date_range_param, max_page_size, read_stored_tokens,
        reauthorization_required,
    },
    runner::{BackgroundJob, JobError, JobOutcome, Registry, enqueue},
};
use sandbox::{Faults, Kind, RateLimit, Sandbox, SandboxConfig};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::{
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
    process::{Child, Command},
};

const LIMIT: Duration = Duration::from_secs(20);

struct Env {
    db: TestDb,
    sandbox: Sandbox,
    settings: JobSettings,
}

impl Env {
    fn ctx(&self) -> JobContext {
        JobContext::new(self.db.pool.clone(), self.settings.clone())
    }

    fn key(&self) -> TokenKey {
        TokenKey::from_bytes(TEST_TOKEN_KEY)
    }

    fn patient_path(&self, n: usize) -> String {
        format!("/api/patients/{}", self.sandbox.patient_ids()[n])
    }
}

/// Client settings pointing at `sandbox`, with tokens stored encrypted and
/// fast page retries.
fn job_settings(sandbox: &Sandbox) -> JobSettings {
    let (access, refresh) = sandbox.current_tokens();
    JobSettings {
        drchrono_api_base: sandbox.base_url(),
        drchrono_access_token: Some(access),
        drchrono_refresh_token: Some(refresh),
        drchrono_client_id: Some(sandbox.config().client_id.clone()),
        drchrono_client_secret: Some(sandbox.config().client_secret.clone()),
        token_encryption_key: Some(TokenKey::from_bytes(TEST_TOKEN_KEY)),
        drchrono_timeout: Duration::from_secs(5),
        drchrono_page_retry_delays: vec![
            Duration::from_millis(20),
            Duration::from_millis(50),
            Duration::from_millis(100),
        ],
        ..Default::default()
    }
}

async fn env_with(patients: usize, tweak: impl FnOnce(&mut JobSettings)) -> Env {
    let db = fresh_db().await;
    let sandbox = Sandbox::spawn(SandboxConfig { patients, ..Default::default() }).await.expect("sandbox starts");
    let mut settings = job_settings(&sandbox);
    tweak(&mut settings);
    Env { db, sandbox, settings }
}

async fn env() -> Env {
    env_with(5, |_| {}).await
}

fn assert_near(actual: DateTime<Utc>, expected: DateTime<Utc>, what: &str) {
    let off = (actual - expected).num_milliseconds().abs();
    assert!(off <= 2_000, "{what}: {actual} is {off} ms from {expected}");
}

fn top_of_next_hour() -> DateTime<Utc> {
    Utc::now().duration_trunc(ChronoDuration::hours(1)).unwrap() + ChronoDuration::hours(1)
}

/// Budget tests count calls within one clock hour; don't start one in the
/// last seconds of an hour.
async fn not_at_the_top_of_the_hour() {
    let left = top_of_next_hour() - Utc::now();
    if left < ChronoDuration::seconds(10) {
        tokio::time::sleep(left.to_std().unwrap() + Duration::from_millis(200)).await;
    }
}

// ---------------------------------------------------------------------------
// A job that calls the client, to see how its errors land in the job table.

#[derive(Serialize, Deserialize)]
struct Probe {
    path: String,
}

impl BackgroundJob for Probe {
    const NAME: &'static str = "test_drchrono_probe";
    const MAX_ATTEMPTS: i32 = 3;
    type Context = JobContext;

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        Ok(match DrChronoClient::new(&ctx).get_object(&self.path).await? {
            Some(_) => JobOutcome::applied(1),
            None => JobOutcome::skipped("gone at DrChrono"),
        })
    }
}

/// Runs `Probe` jobs in this process until the sender is dropped.
fn probe_worker(ctx: JobContext) -> tokio::sync::watch::Sender<bool> {
    let (stop, rx) = tokio::sync::watch::channel(false);
    let pool = ctx.pool.clone();
    tokio::spawn(Registry::new().register::<Probe>().run(pool, ctx, fast_config(), rx));
    stop
}

/// Enqueues one probe and waits for its first attempt; answers the job's
/// (status, attempts, run_at) and the attempt's (outcome, class, message).
async fn probe_once(ctx: &JobContext, path: &str) -> ((String, i32, DateTime<Utc>), (String, String, String)) {
    let worker = probe_worker(ctx.clone());
    let id = enqueue(&ctx.pool, &Probe { path: path.into() }).await.unwrap().unwrap();
    wait::until::<i64>(&ctx.pool, "SELECT count(*) FROM job_attempts", LIMIT, |n| *n >= 1).await;
    let job = sqlx::query_as("SELECT status, attempts, run_at FROM apalis.jobs WHERE id = $1")
        .bind(&id)
        .fetch_one(&ctx.pool)
        .await
        .unwrap();
    let attempt = sqlx::query_as("SELECT outcome, error_class, message FROM job_attempts WHERE job_id = $1")
        .bind(&id)
        .fetch_one(&ctx.pool)
        .await
        .unwrap();
    let _ = worker.send(true);
    (job, attempt)
}

// ---------------------------------------------------------------------------
// `client-caller` processes.

struct Caller {
    child: Child,
    stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl Caller {
    /// Starts `client-caller ARGS` configured like the service, from the
    /// environment, against the env's database and sandbox.
    async fn spawn(env: &Env, args: &[&str]) -> Caller {
        let s = &env.settings;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_client-caller"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &env.db.url)
            .env("DRCHRONO_API_BASE", &s.drchrono_api_base)
            .env("DRCHRONO_ACCESS_TOKEN", s.drchrono_access_token.as_deref().unwrap())
            .env("DRCHRONO_REFRESH_TOKEN", s.drchrono_refresh_token.as_deref().unwrap())
            .env("DRCHRONO_CLIENT_ID", s.drchrono_client_id.as_deref().unwrap())
            .env("DRCHRONO_CLIENT_SECRET", s.drchrono_client_secret.as_deref().unwrap())
            .env("TOKEN_ENCRYPTION_KEY", base64(&TEST_TOKEN_KEY))
            .env("DRCHRONO_CALLS_PER_HOUR", s.drchrono_calls_per_hour.to_string())
            .env("DRCHRONO_TIMEOUT_SECS", "5")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("client-caller starts");
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let sink = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        Caller { child, stdout, stderr }
    }

    async fn wait_ready(&mut self) {
        let line = tokio::time::timeout(LIMIT, self.stdout.next_line()).await.expect("ready in time").unwrap();
        assert_eq!(line.as_deref(), Some("ready"), "stderr: {:?}", self.stderr.lock().unwrap());
    }

    async fn go(&mut self) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(b"go\n").await.unwrap();
        stdin.flush().await.unwrap();
    }

    /// Every stdout line and whether the process exited 0.
    async fn finish(mut self) -> (Vec<String>, bool, Vec<String>) {
        let mut out = Vec::new();
        let read = async {
            while let Ok(Some(line)) = self.stdout.next_line().await {
                out.push(line);
            }
            self.child.wait().await.unwrap().success()
        };
        let ok = tokio::time::timeout(LIMIT, read).await.expect("client-caller finishes in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let stderr = self.stderr.lock().unwrap().clone();
        (out, ok, stderr)
    }
}

// ---------------------------------------------------------------------------
// A tiny HTTP origin answering every request the same way, for statuses the
// sandbox has no switch for. Counts the requests it receives.

async fn stub(status: &'static str, content_type: &'static str, body: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), hits)
}

// ---------------------------------------------------------------------------
// Tokens

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
    let secret = env.settings.drchrono_client_secret.clone().unwrap();
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
    assert!(DrChronoClient::new(&ctx).get_object(&path).await.unwrap().is_some());
    assert_eq!(env.sandbox.refreshes(), 0, "a valid token is used as is");

    env.sandbox.expire_access_token();
    env.sandbox.reset_counters();
    let client = DrChronoClient::new(&ctx);
    let object = client.get_object(&path).await.expect("the retried call succeeds");
    assert_eq!(object.unwrap()["id"], env.sandbox.patient_ids()[1]);
    assert_eq!(env.sandbox.refreshes(), 1);
    assert_eq!(env.sandbox.calls_to("/api/patients"), 2, "the 401, then one retry");
    assert_eq!(env.sandbox.calls_to("/o/token"), 1);
    assert_eq!(client.calls(), 3, "every request counts, the refresh included");

    let (access, refresh) = env.sandbox.current_tokens();
    assert_ne!(Some(&access), env.settings.drchrono_access_token.as_ref(), "the pair rotated");
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
    assert!(DrChronoClient::new(&ctx).get_object(&path).await.unwrap().is_some());
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
    assert!(DrChronoClient::new(&ctx).get_object(&path).await.unwrap().is_some());
    assert_eq!((env.sandbox.refreshes(), env.sandbox.calls_to("/api/patients")), (1, 1), "refreshed first");
}

#[tokio::test]
async fn without_an_encryption_key_stored_tokens_are_refused_with_a_clear_error() {
    let env = env_with(1, |s| s.token_encryption_key = None).await;
    let ctx = env.ctx();
    let err = DrChronoClient::new(&ctx).get_object(&env.patient_path(0)).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("TOKEN_ENCRYPTION_KEY is not set"), "{message}");
    assert!(matches!(JobError::from(err), JobError::Permanent(_)));
    assert_eq!(env.sandbox.calls(), 0);

    // Only an access token, no key and no client: used as is, in memory.
    let env = env_with(1, |s| {
        s.token_encryption_key = None;
        s.drchrono_refresh_token = None;
        s.drchrono_client_id = None;
        s.drchrono_client_secret = None;
    })
    .await;
    let ctx = env.ctx();
    assert!(DrChronoClient::new(&ctx).get_object(&env.patient_path(0)).await.unwrap().is_some());
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
    assert_eq!((status.as_str(), attempts), ("Pending", 0), "waiting, no attempt used");
    assert_near(run_at, before + ChronoDuration::minutes(5), "waits five minutes");
    assert_eq!((outcome.as_str(), class.as_str()), ("deferred", "wait_until"));
    assert!(message.contains("re-authoriz"), "{message}");
    assert_eq!((app.sandbox.calls_to("/api/patients"), app.sandbox.calls_to("/o/token")), (1, 1));

    // Every later call stops before the network.
    let calls = app.sandbox.calls();
    for _ in 0..3 {
        let err = DrChronoClient::new(&ctx).get_object(&path).await.unwrap_err();
        assert!(matches!(err, ApiError::NeedsReauthorization { .. }), "{err}");
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
    settings.drchrono_access_token = grant["access_token"].as_str().map(str::to_string);
    settings.drchrono_refresh_token = grant["refresh_token"].as_str().map(str::to_string);
    let ctx = JobContext::new(app.pool().clone(), settings);
    assert!(DrChronoClient::new(&ctx).get_object(&path).await.unwrap().is_some());
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

// ---------------------------------------------------------------------------
// The shared budget

#[tokio::test]
async fn the_budget_stops_the_sixth_call_until_the_top_of_the_hour_without_calling() {
    not_at_the_top_of_the_hour().await;
    let env = env_with(5, |s| s.drchrono_calls_per_hour = 5).await;
    let ctx = env.ctx();
    let path = env.patient_path(0);
    let client = DrChronoClient::new(&ctx);
    for _ in 0..5 {
        assert!(client.get_object(&path).await.unwrap().is_some());
    }
    let err = client.get_object(&path).await.unwrap_err();
    let ApiError::BudgetSpent { until, .. } = err else { panic!("expected the budget to be spent: {err}") };
    assert_eq!(until, top_of_next_hour(), "free again at the top of the hour");
    assert_eq!(env.sandbox.calls(), 5, "the sixth call never reached DrChrono");
    assert_eq!(client.calls(), 5);

    // Another process shares the same budget.
    let (out, ok, _) = Caller::spawn(&env, &["get", &path, "1"]).await.finish().await;
    assert!(!ok);
    assert!(out[0].starts_with("err wait_until@") || out[0].starts_with("err wait_until "), "{out:?}");
    assert_eq!(env.sandbox.calls(), 5);

    match JobError::from(DrChronoClient::new(&ctx).get_object(&path).await.unwrap_err()) {
        JobError::WaitUntil(at, _) => assert_eq!(at, top_of_next_hour()),
        other => panic!("expected a wait, got {other}"),
    }
    let used: i32 = sqlx::query_scalar("SELECT calls FROM drchrono_rate_budget").fetch_one(&env.db.pool).await.unwrap();
    assert_eq!(used, 5);
}

#[tokio::test]
async fn reconciliation_stops_at_its_reserve_while_webhooks_continue() {
    not_at_the_top_of_the_hour().await;
    let env = env_with(5, |s| {
        s.drchrono_calls_per_hour = 5;
        s.drchrono_reconcile_percent = 80;
    })
    .await;
    let ctx = env.ctx();
    let path = env.patient_path(0);
    let reconcile = DrChronoClient::with_priority(&ctx, Priority::Reconcile);
    for _ in 0..4 {
        assert!(reconcile.get_object(&path).await.unwrap().is_some());
    }
    let err = reconcile.get_object(&path).await.unwrap_err();
    assert!(matches!(err, ApiError::BudgetSpent { priority: "reconcile", .. }), "{err}");
    assert_eq!(env.sandbox.calls(), 4, "reconciliation stops at 80 %");

    let webhook = DrChronoClient::new(&ctx);
    assert!(webhook.get_object(&path).await.unwrap().is_some(), "webhook work uses the reserve");
    assert!(matches!(webhook.get_object(&path).await.unwrap_err(), ApiError::BudgetSpent { priority: "webhook", .. }));
    assert!(matches!(reconcile.get_object(&path).await.unwrap_err(), ApiError::BudgetSpent { .. }));
    assert_eq!(env.sandbox.calls(), 5);
}

#[tokio::test]
async fn a_429_with_retry_after_reschedules_the_job_to_then_without_an_attempt_and_blocks_everyone() {
    let env = env().await;
    let ctx = env.ctx();
    let path = env.patient_path(0);
    env.sandbox.set_faults(Faults {
        rate_limited: Some(RateLimit { retry_after_header: true, seconds: 2710 }),
        ..Default::default()
    });
    let before = Utc::now();
    let ((status, attempts, run_at), (outcome, class, _)) = probe_once(&ctx, &path).await;
    assert_eq!((status.as_str(), attempts), ("Pending", 0), "no attempt used");
    assert_eq!((outcome.as_str(), class.as_str()), ("deferred", "wait_until"));
    assert_near(run_at, before + ChronoDuration::seconds(2710), "Retry-After");
    assert_eq!(env.sandbox.calls(), 1);

    // Every other caller stops too, even once DrChrono would answer.
    env.sandbox.set_faults(Faults::default());
    let err = DrChronoClient::new(&ctx).get_object(&path).await.unwrap_err();
    let ApiError::BudgetSpent { until, .. } = err else { panic!("expected the 429's block: {err}") };
    assert_near(until, before + ChronoDuration::seconds(2710), "blocked until the 429's end");
    assert_eq!(env.sandbox.calls(), 1, "no call while blocked");
}

#[tokio::test]
async fn a_429_without_retry_after_waits_the_seconds_in_detail() {
    let env = env().await;
    let ctx = env.ctx();
    let path = env.patient_path(0);
    env.sandbox.set_faults(Faults {
        rate_limited: Some(RateLimit { retry_after_header: false, seconds: 1234 }),
        ..Default::default()
    });
    let before = Utc::now();
    let err = DrChronoClient::new(&ctx).get_object(&path).await.unwrap_err();
    let ApiError::RateLimited { until, .. } = err else { panic!("expected a 429: {err}") };
    assert_near(until, before + ChronoDuration::seconds(1234), "detail seconds");
    match JobError::from(DrChronoClient::new(&ctx).get_object(&path).await.unwrap_err()) {
        JobError::WaitUntil(at, _) => assert_near(at, before + ChronoDuration::seconds(1234), "the block"),
        other => panic!("expected a wait, got {other}"),
    }
    assert_eq!(env.sandbox.calls(), 1, "the second call was stopped by the block");
}

// ---------------------------------------------------------------------------
// Statuses

#[tokio::test]
async fn a_403_is_permanent_and_names_the_endpoint() {
    let (base, hits) = stub(
        "403 Forbidden",
        "application/json",
        r#"{"detail":"You do not have permission to perform this action."}"#.into(),
    )
    .await;
    let env = env_with(1, |s| s.drchrono_api_base = base).await;
    let ctx = env.ctx();
    let err = DrChronoClient::new(&ctx).get_object("/api/clinical_notes/77?verbose=true").await.unwrap_err();
    assert!(matches!(err, ApiError::Forbidden { .. }), "{err}");
    match JobError::from(err) {
        JobError::Permanent(e) => {
            let message = e.to_string();
            assert!(message.contains("/api/clinical_notes/77") && message.contains("scope"), "{message}");
            assert!(!message.contains("verbose"), "no query string in messages: {message}");
        }
        other => panic!("expected permanent, got {other}"),
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1, "one call, no retry storm");
}

#[tokio::test]
async fn a_404_is_none_html_and_5xx_and_timeouts_are_retryable() {
    let env = env().await;
    let ctx = env.ctx();
    let client = DrChronoClient::new(&ctx);
    assert_eq!(client.get_object("/api/patients/999999").await.unwrap(), None, "404 is gone");

    env.sandbox.set_faults(Faults { html_once: true, ..Default::default() });
    let err = client.get_object(&env.patient_path(0)).await.unwrap_err();
    assert!(matches!(err, ApiError::NotJson { status: 200, .. }), "{err}");
    assert!(matches!(JobError::from(err), JobError::Retryable(_)));
    assert!(client.get_object(&env.patient_path(0)).await.unwrap().is_some(), "the edge page passed");

    env.sandbox.set_faults(Faults { slow: Some(Duration::from_millis(1500)), ..Default::default() });
    let mut settings = env.settings.clone();
    settings.drchrono_timeout = Duration::from_millis(300);
    let impatient = JobContext::new(env.db.pool.clone(), settings);
    let err = DrChronoClient::new(&impatient).get_object(&env.patient_path(0)).await.unwrap_err();
    assert!(matches!(err, ApiError::Transport { kind: "timeout", .. }), "{err}");
    assert!(matches!(JobError::from(err), JobError::Retryable(_)));
    env.sandbox.set_faults(Faults::default());

    let (base, _) = stub("503 Service Unavailable", "text/html", "<html>down</html>".into()).await;
    let mut settings = env.settings.clone();
    settings.drchrono_api_base = base;
    let down = JobContext::new(env.db.pool.clone(), settings);
    let err = DrChronoClient::new(&down).get_object("/api/patients/1").await.unwrap_err();
    assert!(matches!(err, ApiError::Server { status: 503, .. }), "{err}");
    assert!(matches!(JobError::from(err), JobError::Retryable(_)));
}

// ---------------------------------------------------------------------------
// Lists

#[tokio::test]
async fn page_sizes_match_each_endpoints_maximum() {
    for kind in Kind::ALL {
        assert_eq!(max_page_size(kind.path()), Some(kind.max_page_size()), "{kind:?}");
    }
}

#[tokio::test]
async fn a_walk_over_60_patients_at_page_size_250_costs_one_call() {
    let env = env_with(60, |_| {}).await;
    let ctx = env.ctx();
    let client = DrChronoClient::with_priority(&ctx, Priority::Reconcile);
    let mut seen = Vec::new();
    let stats = client
        .walk("/api/patients", &[], None, |page| {
            seen.push(page.iter().map(|p| p["id"].as_i64().unwrap()).collect::<Vec<_>>());
            async { Ok(()) }
        })
        .await
        .unwrap();
    assert_eq!((stats.pages, stats.calls, stats.records, stats.page_retries), (1, 1, 60, 0));
    assert_eq!(env.sandbox.calls(), 1);
    assert_eq!(seen.concat(), env.sandbox.patient_ids());
}

#[tokio::test]
async fn a_caller_can_drive_the_walk_page_by_page() {
    let env = env_with(60, |_| {}).await;
    let ctx = env.ctx();
    let client = DrChronoClient::new(&ctx);
    let mut pages = client.pages("/api/patients", &[], Some(25)).unwrap();
    let mut total = 0;
    while let Some(page) = pages.next_page().await.unwrap() {
        total += page.len();
        assert_eq!(pages.stats().records as usize, total);
    }
    assert!(pages.next_page().await.unwrap().is_none(), "a finished walk stays finished");
    let stats = pages.finish();
    assert_eq!((stats.pages, stats.calls, stats.records), (3, 3, 60));
    assert_eq!(env.sandbox.calls(), 3);
}

#[tokio::test]
async fn a_500_on_one_page_re_requests_only_that_page() {
    let env = env_with(60, |_| {}).await;
    let ctx = env.ctx();
    env.sandbox.set_faults(Faults { fail_page: Some(1), ..Default::default() });
    let mut sizes = Vec::new();
    let mut ids = Vec::new();
    let stats = DrChronoClient::new(&ctx)
        .walk("/api/patients", &[], Some(10), |page| {
            sizes.push(page.len());
            ids.extend(page.iter().map(|p| p["id"].as_i64().unwrap()));
            async { Ok(()) }
        })
        .await
        .unwrap();
    assert_eq!(sizes, vec![10; 6], "every page handed over once");
    assert_eq!(ids, env.sandbox.patient_ids(), "nothing skipped or repeated");
    assert_eq!((stats.pages, stats.calls, stats.records, stats.page_retries), (6, 7, 60, 1));
    assert_eq!(env.sandbox.calls_to("/api/patients"), 7, "six pages plus one re-request");
    assert_eq!(env.sandbox.faults().fail_page, None, "the fault fired");
}

#[tokio::test]
async fn a_page_that_keeps_failing_fails_the_walk_as_retryable_after_a_few_tries() {
    let (base, hits) = stub("500 Internal Server Error", "text/html", "<h1>Server Error (500)</h1>".into()).await;
    let env = env_with(1, |s| s.drchrono_api_base = base).await;
    let ctx = env.ctx();
    let mut pages = 0;
    let err = DrChronoClient::new(&ctx)
        .walk("/api/patients", &[], None, |_| {
            pages += 1;
            async { Ok(()) }
        })
        .await
        .unwrap_err();
    assert!(matches!(err, JobError::Retryable(_)), "{err}");
    assert_eq!(pages, 0);
    assert_eq!(hits.load(Ordering::SeqCst), 4, "the first try and three re-requests");
}

#[tokio::test]
async fn a_next_link_off_the_api_origin_is_not_followed() {
    let (elsewhere, elsewhere_hits) =
        stub("200 OK", "application/json", r#"{"previous":null,"results":[],"next":null}"#.into()).await;
    let body = format!(r#"{{"previous":null,"results":[{{"id":1}}],"next":"{elsewhere}/api/patients?cursor=abc"}}"#);
    let (base, hits) = stub("200 OK", "application/json", body).await;
    let env = env_with(1, |s| s.drchrono_api_base = base).await;
    let ctx = env.ctx();
    let err = DrChronoClient::new(&ctx).walk("/api/patients", &[], None, |_| async { Ok(()) }).await.unwrap_err();
    assert!(matches!(err, JobError::Permanent(_)), "{err}");
    assert!(err.to_string().contains("outside the configured API origin"), "{err}");
    assert_eq!((hits.load(Ordering::SeqCst), elsewhere_hits.load(Ordering::SeqCst)), (1, 0));
}

#[tokio::test]
async fn appointments_are_walked_in_date_chunks_of_at_most_20_per_page() {
    let env = env_with(15, |_| {}).await;
    let ctx = env.ctx();
    let today = Utc::now().date_naive();
    let (from, to) = (today - ChronoDuration::days(800), today + ChronoDuration::days(120));
    let chunks = date_chunks(from, to);
    assert!(chunks.len() >= 6);
    let client = DrChronoClient::with_priority(&ctx, Priority::Reconcile);
    let mut ids = Vec::new();
    let mut largest_page = 0;
    let mut pages = 0;
    for chunk in chunks {
        let stats = client
            .walk("/api/appointments", &[("date_range", date_range_param(chunk))], None, |page| {
                largest_page = largest_page.max(page.len());
                ids.extend(page.iter().map(|a| a["id"].as_str().unwrap().parse::<i64>().unwrap()));
                async { Ok(()) }
            })
            .await
            .unwrap();
        pages += stats.pages;
    }
    let expected: Vec<i64> = env
        .sandbox
        .ids(Kind::Appointment)
        .into_iter()
        .filter(|id| {
            let a = env.sandbox.record(Kind::Appointment, *id).unwrap();
            let day = NaiveDate::parse_from_str(&a["scheduled_time"].as_str().unwrap()[..10], "%Y-%m-%d").unwrap();
            (from..=to).contains(&day)
        })
        .collect();
    assert!(expected.len() > 20, "enough appointments to need several pages: {}", expected.len());
    ids.sort_unstable();
    let mut want = expected.clone();
    want.sort_unstable();
    assert_eq!(ids, want, "every appointment in the range, once");
    assert_eq!(largest_page, 20, "appointments page at 20");
    assert_eq!(env.sandbox.calls(), pages, "one call per page");
    assert_eq!(client.calls(), pages);
}
