//! A faithful fake of the DrChrono API, served over real HTTP.
//!
//! Integration tests and the demo point the service at it instead of
//! drchrono.com. It reproduces the wire facts in `docs/drchrono-facts.md`:
//! the form-encoded `/o/token/` endpoint with rotating refresh tokens, bearer
//! auth on `/api/*`, cursor pagination with absolute `next` URLs, naive
//! timestamps, the production faults (429, stray HTML, a 500 mid-walk), and
//! an optional real hourly call budget.
//!
//! It serves a generated practice of every record kind the service syncs
//! (`Kind`): patients, doctors, appointments, clinical notes, medications,
//! problems and allergies, linked consistently and deterministic by seed.
//!
//! It must never need the network beyond its own loopback socket, and it
//! must never panic on what a client sends: bad input is a 4xx with a JSON
//! body, as DrChrono answers it.

mod authorize;
mod billing;
mod budget;
mod bulk;
mod charts;
mod cli;
mod data;
mod deepcura;
mod events;
mod faults;
mod files;
mod filters;
mod generate;
mod grants;
mod kind;
mod lists;
mod oauth;
mod orders;
mod pagination;
pub mod pdf;
mod practice;
mod records;
mod reply;
mod router;
mod staff;
mod stamps;
mod state;
mod visits;
mod webhook;
mod writes;

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use anyhow::Context as _;
use tokio::{sync::oneshot, task::JoinHandle};

pub use bulk::BULK_MAX_PAGE_SIZE;
pub use cli::run_cli;
pub use deepcura::{DeepCuraSender, GridhookScheme, encrypt_gridhook};
pub use events::EVENTS;
pub use faults::{Faults, RateLimit};
pub use files::PdfVariant;
pub use kind::{
    ALLERGIES_MAX_PAGE_SIZE, APPOINTMENTS_MAX_PAGE_SIZE, APPOINTMENTS_VERBOSE_MAX_PAGE_SIZE,
    CLINICAL_NOTES_MAX_PAGE_SIZE, DOCTORS_MAX_PAGE_SIZE, Kind, MEDICATIONS_MAX_PAGE_SIZE, OFFICES_MAX_PAGE_SIZE,
    PATIENTS_MAX_PAGE_SIZE, PROBLEMS_MAX_PAGE_SIZE,
};
pub use oauth::DEFAULT_SCOPES;
pub use webhook::{WebhookSender, expected_secret_token};

use state::Shared;

/// DrChrono's burst limit: calls per application in any one second.
pub const DRCHRONO_CALLS_PER_SECOND: u32 = 10;

/// What the fake practice looks like and which credentials it accepts.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// How many patients to generate (ids 1001, 1002, ...). Each brings
    /// about a dozen other records (appointments, notes, chart entries).
    pub patients: usize,
    /// Seed for the generated data: the same seed gives the same practice.
    /// Visit dates are drawn relative to the day the sandbox starts (the last
    /// two years and the next three months), so two sandboxes started on the
    /// same day with the same seed agree exactly.
    pub seed: u64,
    pub client_id: String,
    pub client_secret: String,
    /// The first access token; it is replaced on every refresh.
    pub access_token: String,
    /// The first refresh token; it rotates on every use.
    pub refresh_token: String,
    /// A real rate budget: authenticated `/api/*` calls allowed per clock
    /// hour (DrChrono's default is 500) before every call answers 429 until
    /// the top of the hour. `None` (the default) is unlimited.
    pub calls_per_hour: Option<u64>,
    /// DrChrono's burst throttle: authenticated `/api/*` calls allowed in
    /// any one second before a call answers 429 with `Retry-After: 1`.
    /// DrChrono's is 10 and cannot be changed; `None` turns it off, for a
    /// test that hammers the sandbox itself rather than through the client.
    pub calls_per_second: Option<u32>,
    /// Polls of a bulk batch (`/api/patients_list?uuid=`) that answer
    /// "In progress" before it is complete; DrChrono's take a moment.
    pub bulk_polls_in_progress: u32,
    /// The scopes the app may be granted, space-separated: an authorization
    /// grants those it requests that are here. The first pair has them all.
    pub scopes: String,
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
            calls_per_hour: None,
            calls_per_second: Some(DRCHRONO_CALLS_PER_SECOND),
            bulk_polls_in_progress: 1,
            scopes: DEFAULT_SCOPES.to_owned(),
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
        f.debug_struct("Sandbox").field("addr", &self.shared.addr).finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts on an ephemeral loopback port, so parallel tests never clash.
    pub async fn spawn(config: SandboxConfig) -> anyhow::Result<Sandbox> {
        Self::spawn_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    pub async fn spawn_on(addr: SocketAddr, config: SandboxConfig) -> anyhow::Result<Sandbox> {
        let listener =
            tokio::net::TcpListener::bind(addr).await.with_context(|| format!("sandbox: cannot bind {addr}"))?;
        let bound = listener.local_addr().context("sandbox: no local address")?;
        // Generating a large practice takes a while; keep it off the
        // runtime's workers so other tasks (the service under test) run on.
        let shared = tokio::task::spawn_blocking(move || Shared::new(config, bound))
            .await
            .context("sandbox: generating the practice failed")?;
        let shared = Arc::new(shared);
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
        Ok(Sandbox { shared, stop: Some(stop), task: Some(task) })
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

    /// Calls the burst throttle answered 429.
    pub fn burst_refusals(&self) -> u64 {
        self.shared.lock().burst.refused
    }

    /// Successful `refresh_token` grants, to prove a client refreshed once and
    /// not once per worker.
    pub fn refreshes(&self) -> u64 {
        self.shared.lock().counters.refreshes
    }

    /// (path, `traceparent`) of every counted request that carried one, in
    /// order, so a test can follow a trace into DrChrono.
    pub fn traceparents(&self) -> Vec<(String, String)> {
        self.shared.lock().counters.traceparents.clone()
    }

    pub fn reset_counters(&self) {
        self.shared.lock().counters = Default::default();
    }

    /// Makes the current access token answer 401, as when its 48 h lapse.
    /// The refresh token stays valid, so a client can recover by refreshing.
    pub fn expire_access_token(&self) {
        self.shared.lock().tokens.access_revoked = true;
    }

    /// Ends every bulk batch, as when an hour has passed: its uuid is a 404.
    pub fn expire_bulk_batches(&self) {
        self.shared.lock().batches.expire_all();
    }

    /// How many polls of each batch started from now answer "In progress".
    pub fn set_bulk_polls_in_progress(&self, polls: u32) {
        self.shared.lock().batches.polls_in_progress = Some(polls);
    }

    /// Bulk batches started (`POST /api/patients_list` and the like).
    pub fn bulk_batches_started(&self) -> u64 {
        self.shared.lock().batches.started()
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
            && tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err()
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
