//! `spawn_app()`: a fresh database, the sandbox DrChrono and the service on
//! random ports, with the job workers running in-process.

use sandbox::{DeepCuraSender, GridhookScheme, Sandbox, SandboxConfig, WebhookSender};
use server::{AppState, Settings};
use sqlx::PgPool;
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tokio::sync::watch;

use crate::db::{TestDb, fresh_db};

pub const WEBHOOK_SECRET: &str = "test-webhook-secret";
pub const DEEPCURA_SECRET: &str = "test-deepcura-shared-secret";
/// PARTNER_TOKEN and ADMIN_TOKEN of test apps.
pub const PARTNER_TOKEN: &str = "test-partner-token";
pub const ADMIN_TOKEN: &str = "test-admin-token";
/// TOKEN_ENCRYPTION_KEY of test apps (tests decrypt the token row with it).
pub const TEST_TOKEN_KEY: [u8; 32] = *b"test-token-encryption-key-32byte";

/// The keys a test app seals and opens with: [`TEST_TOKEN_KEY`] alone.
pub fn test_keys() -> jobs::drchrono::Keyring {
    jobs::drchrono::TokenKey::from_bytes(TEST_TOKEN_KEY).into()
}

pub struct TestApp {
    pub db: TestDb,
    pub settings: Settings,
    pub addr: SocketAddr,
    pub sandbox: Sandbox,
    pub http: reqwest::Client,
    stop: watch::Sender<bool>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// The service settings a test app runs with.
pub fn settings(db: &TestDb, sandbox: &Sandbox) -> Settings {
    use clap::Parser;
    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        settings: Settings,
    }
    let mut s = server::config::secrets::parse::<Args>(["test"]).settings;
    s.database_url = Some(db.url.clone());
    s.drchrono_webhook_secret = Some(WEBHOOK_SECRET.into());
    s.partner_token = Some(PARTNER_TOKEN.into());
    s.admin_token = Some(ADMIN_TOKEN.into());
    s.console_readonly_token = Some(crate::console::READONLY_TOKEN.into());
    s.drchrono_api_base = sandbox.base_url();
    let (access, refresh) = sandbox.current_tokens();
    s.drchrono_access_token = Some(access);
    s.drchrono_refresh_token = Some(refresh);
    s.drchrono_client_id = Some(sandbox.config().client_id.clone());
    s.drchrono_client_secret = Some(sandbox.config().client_secret.clone());
    s.token_encryption_key = Some(jobs::drchrono::TokenKey::from_bytes(TEST_TOKEN_KEY));
    s.drchrono_timeout_secs = 5;
    s.drchrono_batch_poll_ms = 100;
    s.runner.job_heartbeat_secs = 1;
    s.runner.job_missed_heartbeats = 2;
    s.runner.job_poll_ms = 100;
    s.webhook_max_body_bytes = 64 * 1024;
    s.deepcura_shared_secret = Some(DEEPCURA_SECRET.into());
    s
}

/// Starts everything; workers run unless `workers` is false (to inspect queued jobs).
pub async fn spawn_app_with(workers: bool, patients: usize) -> TestApp {
    spawn_app_configured(workers, patients, |_, _| {}).await
}

/// [`spawn_app_with`], with the settings adjusted by `configure` (which
/// sees the sandbox, to configure against its data) before anything starts.
pub async fn spawn_app_configured(
    workers: bool,
    patients: usize,
    configure: impl FnOnce(&mut Settings, &Sandbox),
) -> TestApp {
    let db = fresh_db().await;
    let sandbox = Sandbox::spawn(SandboxConfig { patients, ..Default::default() }).await.expect("sandbox starts");
    let mut settings = settings(&db, &sandbox);
    configure(&mut settings, &sandbox);
    let (stop, shutdown) = watch::channel(false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = AppState { pool: db.pool.clone(), settings: Arc::new(settings.clone()) };
    tokio::spawn(server::serve(state, listener, shutdown.clone()));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
    let app = TestApp { db, settings, addr, sandbox, http, stop };
    if workers {
        app.start_workers();
    }
    app
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(true, 20).await
}

impl TestApp {
    /// Starts the job workers (for tests that first let jobs pile up).
    pub fn start_workers(&self) {
        let (pool, settings, shutdown) = (self.db.pool.clone(), self.settings.clone(), self.stop.subscribe());
        tokio::spawn(async move { server::work(pool, &settings, shutdown).await });
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn pool(&self) -> &PgPool {
        &self.db.pool
    }

    /// Sends deliveries to the DrChrono endpoint the way DrChrono does.
    pub fn drchrono(&self) -> WebhookSender {
        WebhookSender::new(self.url("/webhooks/drchrono"), WEBHOOK_SECRET)
    }

    /// Sends Gridhooks to the Deep Cura endpoint, encrypted in `scheme`.
    pub fn deepcura(&self, scheme: GridhookScheme) -> DeepCuraSender {
        DeepCuraSender::new(self.url("/webhooks/deepcura"), DEEPCURA_SECRET, scheme)
    }

    /// The environment a worker process of the service's own (the
    /// `service-worker` binary) needs to reach this app's sandbox with its
    /// stored tokens, polling and heartbeats fast enough for tests.
    pub fn worker_env(&self) -> Vec<(&'static str, String)> {
        use base64::Engine as _;
        let s = &self.settings;
        vec![
            ("DATABASE_URL", self.db.url.clone()),
            ("DRCHRONO_API_BASE", s.drchrono_api_base.clone()),
            ("DRCHRONO_ACCESS_TOKEN", s.drchrono_access_token.clone().unwrap_or_default()),
            ("DRCHRONO_REFRESH_TOKEN", s.drchrono_refresh_token.clone().unwrap_or_default()),
            ("DRCHRONO_CLIENT_ID", s.drchrono_client_id.clone().unwrap_or_default()),
            ("DRCHRONO_CLIENT_SECRET", s.drchrono_client_secret.clone().unwrap_or_default()),
            ("TOKEN_ENCRYPTION_KEY", base64::engine::general_purpose::STANDARD.encode(TEST_TOKEN_KEY)),
            ("JOB_HEARTBEAT_SECS", "1".into()),
            ("JOB_MISSED_HEARTBEATS", "2".into()),
            ("JOB_POLL_MS", "100".into()),
            ("DRCHRONO_BATCH_POLL_MS", "100".into()),
        ]
    }

    /// GET `path` with the admin token; the JSON body.
    pub async fn admin_get(&self, path: &str) -> serde_json::Value {
        let resp = self.http.get(self.url(path)).bearer_auth(ADMIN_TOKEN).send().await.expect("admin request");
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.expect("admin JSON")
    }

    /// Waits until no job due within a second is pending, queued, running
    /// or waiting to retry, and fails the test if any job died.
    pub async fn drain_jobs(&self) {
        crate::queue::drain(self.pool(), false).await;
    }

    /// [`drain_jobs`](Self::drain_jobs) for a test that expects jobs to die.
    pub async fn drain_jobs_allowing_dead(&self) {
        crate::queue::drain(self.pool(), true).await;
    }
}
