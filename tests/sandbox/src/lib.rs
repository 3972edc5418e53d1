//! A faithful fake of the DrChrono API, served over real HTTP.
//!
//! Integration tests and the demo point the service at it instead of
//! drchrono.com. It reproduces the wire facts in `docs/drchrono-facts.md`:
//! the form-encoded `/o/token/` endpoint with rotating refresh tokens, bearer
//! auth on `/api/*`, cursor pagination with absolute `next` URLs, naive
//! timestamps, and the production faults (429, stray HTML, a 500 mid-walk).
//!
//! It must never need the network beyond its own loopback socket, and it
//! must never panic on what a client sends: bad input is a 4xx with a JSON
//! body, as DrChrono answers it.

mod cli;
mod data;
mod faults;
mod oauth;
mod pagination;
mod patients;
mod reply;
mod router;
mod state;
mod webhook;

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use anyhow::Context as _;
use serde_json::{Map, Value};
use tokio::{sync::oneshot, task::JoinHandle};

pub use cli::run_cli;
pub use faults::{Faults, RateLimit};
pub use webhook::{WebhookSender, expected_secret_token};

use state::Shared;

/// The largest `page_size` `/api/patients` honours; larger requests are
/// clamped, as DrChrono does. Also the default, since DrChrono's default is
/// "about 250".
pub const PATIENTS_MAX_PAGE_SIZE: usize = 250;

/// What the fake practice looks like and which credentials it accepts.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// How many patients to generate (ids 1001, 1002, ...).
    pub patients: usize,
    /// Seed for the generated data: the same seed gives the same practice.
    pub seed: u64,
    pub client_id: String,
    pub client_secret: String,
    /// The first access token; it is replaced on every refresh.
    pub access_token: String,
    /// The first refresh token; it rotates on every use.
    pub refresh_token: String,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            patients: 20,
            seed: 1,
            client_id: "sandbox-client-id".to_owned(),
            client_secret: "sandbox-client-secret".to_owned(),
            access_token: "sandbox-access-token".to_owned(),
            refresh_token: "sandbox-refresh-token".to_owned(),
        }
    }
}

/// A running sandbox server. Dropping it stops the server too; `shutdown`
/// additionally waits until it has stopped.
pub struct Sandbox {
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.shared.addr)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts on an ephemeral loopback port, so parallel tests never clash.
    pub async fn spawn(config: SandboxConfig) -> anyhow::Result<Sandbox> {
        Self::spawn_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    pub async fn spawn_on(addr: SocketAddr, config: SandboxConfig) -> anyhow::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("sandbox: cannot bind {addr}"))?;
        let bound = listener.local_addr().context("sandbox: no local address")?;
        let shared = Arc::new(Shared::new(config, bound));
        let app = router::build(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                tracing::warn!(%error, "sandbox server stopped with an error");
            }
        });
        tracing::debug!(%bound, "sandbox listening");
        Ok(Sandbox {
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The API origin (no `/api` suffix), like `https://drchrono.com`. A
    /// wildcard bind address is reported as loopback so the URL is dialable.
    pub fn base_url(&self) -> String {
        let mut addr = self.shared.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        format!("http://{addr}")
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.shared.config
    }

    /// Every `/api/*` and `/o/token/` request served, whatever its status,
    /// faults included: that is what DrChrono's rate budget counts.
    pub fn calls(&self) -> u64 {
        self.shared.lock().counters.total
    }

    /// Calls whose path starts with `path_prefix`, e.g. `/api/patients`.
    pub fn calls_to(&self, path_prefix: &str) -> u64 {
        self.shared.lock().counters.calls_to(path_prefix)
    }

    /// Successful `refresh_token` grants, to prove a client refreshed once and
    /// not once per worker.
    pub fn refreshes(&self) -> u64 {
        self.shared.lock().counters.refreshes
    }

    pub fn reset_counters(&self) {
        self.shared.lock().counters = Default::default();
    }

    pub fn patient(&self, id: i64) -> Option<Value> {
        self.shared
            .lock()
            .patients
            .get(&id)
            .cloned()
            .map(Value::Object)
    }

    pub fn patient_ids(&self) -> Vec<i64> {
        self.shared.lock().patients.keys().copied().collect()
    }

    /// Edits a patient as a user in DrChrono would, and bumps `updated_at` so
    /// `since` walks and webhook deduplication see a new version. The new
    /// stamp is strictly later than the old one even within one second,
    /// because dedup keys on `(event, id, updated_at)`.
    pub fn modify_patient(
        &self,
        id: i64,
        f: impl FnOnce(&mut Map<String, Value>),
    ) -> Option<Value> {
        let mut state = self.shared.lock();
        let patient = state.patients.get_mut(&id)?;
        let previous = data::updated_at_of(patient);
        f(patient);
        patient.insert("id".to_owned(), Value::from(id));
        patient.insert(
            "updated_at".to_owned(),
            Value::from(data::next_stamp(previous)),
        );
        Some(Value::Object(patient.clone()))
    }

    /// Makes the current access token answer 401, as when its 48 h lapse.
    /// The refresh token stays valid, so a client can recover by refreshing.
    pub fn expire_access_token(&self) {
        self.shared.lock().tokens.access_revoked = true;
    }

    /// The (access, refresh) pair the sandbox currently honours.
    pub fn current_tokens(&self) -> (String, String) {
        let state = self.shared.lock();
        (state.tokens.access.clone(), state.tokens.refresh.clone())
    }

    /// Replaces every fault switch at once; `Faults::default()` clears them.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.lock().faults = faults;
    }

    /// The switches as they stand now (one-shot faults clear once fired).
    pub fn faults(&self) -> Faults {
        self.shared.lock().faults.clone()
    }

    /// Stops accepting, lets in-flight requests finish, and waits (bounded,
    /// so a client holding a connection open cannot hang a test).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
