//! The DrChrono client against the sandbox over real HTTP and a real
//! Postgres: single-flight token refresh across processes, tokens encrypted
//! at rest, re-authorization lockout, the shared hourly budget, 429 waits,
//! status mapping and list walks.

mod budget;
mod lists;
mod redirects;
mod statuses;
mod tokens;

use chrono::{DateTime, Duration as ChronoDuration, DurationRound, NaiveDate, Utc};
use integration_tests::queue;
use integration_tests::{
    app::{TEST_TOKEN_KEY, settings as app_settings, spawn_app_with},
    db::{TestDb, fresh_db},
    test_jobs::fast_config,
};
use job_runner::JobState;
use job_runner::{BackgroundJob, JobError, JobOutcome, Registry, enqueue};
use jobs::{
    JobContext, JobSettings,
    drchrono::{
        ClientSettings, DrChronoError, Keyring, Priority, date_chunks, date_range_param, max_page_size,
        read_stored_tokens, reauthorization_required,
    },
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

    fn key(&self) -> Keyring {
        integration_tests::app::test_keys()
    }

    fn patient_path(&self, n: usize) -> String {
        format!("/api/patients/{}", self.sandbox.patient_ids()[n])
    }
}

/// Client settings pointing at `sandbox`, with tokens stored encrypted and
/// fast page retries.
fn job_settings(sandbox: &Sandbox) -> JobSettings {
    let (access, refresh) = sandbox.current_tokens();
    let drchrono = ClientSettings {
        api_base: sandbox.base_url(),
        access_token: Some(access),
        refresh_token: Some(refresh),
        client_id: Some(sandbox.config().client_id.clone()),
        client_secret: Some(sandbox.config().client_secret.clone()),
        token_keys: Some(integration_tests::app::test_keys()),
        timeout: Duration::from_secs(5),
        page_retry_delays: vec![Duration::from_millis(20), Duration::from_millis(50), Duration::from_millis(100)],
        ..Default::default()
    };
    JobSettings { drchrono, ..Default::default() }
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
        Ok(match ctx.drchrono().get_object(&self.path).await? {
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
async fn probe_once(ctx: &JobContext, path: &str) -> ((JobState, i32, DateTime<Utc>), (String, String, String)) {
    let worker = probe_worker(ctx.clone());
    let id = enqueue(&ctx.pool, &Probe { path: path.into() }).await.unwrap().unwrap();
    queue::wait_for_attempts(&ctx.pool, 1, LIMIT).await;
    let job = queue::report(&ctx.pool, &id).await;
    let job = (job.state, job.attempts, job.run_at);
    let a = queue::attempts(&ctx.pool, &id).await.remove(0);
    let attempt = (a.outcome, a.error_class.unwrap_or_default(), a.message.unwrap_or_default());
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
            .env("DRCHRONO_API_BASE", &s.drchrono.api_base)
            .env("DRCHRONO_ACCESS_TOKEN", s.drchrono.access_token.as_deref().unwrap())
            .env("DRCHRONO_REFRESH_TOKEN", s.drchrono.refresh_token.as_deref().unwrap())
            .env("DRCHRONO_CLIENT_ID", s.drchrono.client_id.as_deref().unwrap())
            .env("DRCHRONO_CLIENT_SECRET", s.drchrono.client_secret.as_deref().unwrap())
            .env("TOKEN_ENCRYPTION_KEY", base64(&TEST_TOKEN_KEY))
            .env("DRCHRONO_CALLS_PER_HOUR", s.drchrono.calls_per_hour.to_string())
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
