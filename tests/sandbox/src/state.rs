//! The sandbox's one piece of shared, mutable state.
//!
//! Everything lives behind a single `std` mutex: requests are tiny, tests
//! need a consistent view (tokens, counters and faults change together), and
//! no lock is ever held across an `.await`.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Mutex, MutexGuard, PoisonError},
};

use rand::RngExt as _;
use serde_json::{Value, json};

use crate::{
    SandboxConfig,
    authorize::Codes,
    budget::{Budget, Burst},
    bulk::Batches,
    faults::Faults,
    files::Files,
    generate,
    practice::Practice,
};

pub(crate) struct Shared {
    pub(crate) config: SandboxConfig,
    /// The bound address, used for absolute links when a request has no
    /// usable `Host` header.
    pub(crate) addr: SocketAddr,
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn new(config: SandboxConfig, addr: SocketAddr) -> Self {
        let state = State {
            tokens: Tokens::new(&config),
            practice: generate::practice(config.seed, config.patients, chrono::Utc::now().date_naive()),
            counters: Counters::default(),
            faults: Faults::default(),
            budget: Budget::default(),
            burst: Burst::default(),
            files: Files::default(),
            batches: Batches::default(),
            codes: Codes::default(),
            permitted_scopes: config.scopes.clone(),
        };
        Self { config, addr, state: Mutex::new(state) }
    }

    /// A panicking test thread must not wedge every later request, so a
    /// poisoned lock is simply taken over.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) struct State {
    pub(crate) tokens: Tokens,
    pub(crate) practice: Practice,
    pub(crate) counters: Counters,
    pub(crate) faults: Faults,
    /// The configured hourly call budget's use so far, if one is set.
    pub(crate) budget: Budget,
    /// The calls of the last second, for the burst throttle.
    pub(crate) burst: Burst,
    /// Note PDFs: link signing, test overrides, download counts.
    pub(crate) files: Files,
    /// Started bulk-list batches (`/api/patients_list`, ...).
    pub(crate) batches: Batches,
    /// Authorization codes issued and exchanged.
    pub(crate) codes: Codes,
    /// The scopes an authorization may grant (`SandboxConfig::scopes`, or
    /// what a test set since).
    pub(crate) permitted_scopes: String,
}

/// The single valid token pair. DrChrono keeps exactly one live pair per
/// grant: a refresh rotates both and kills the old ones at once.
pub(crate) struct Tokens {
    pub(crate) access: String,
    pub(crate) refresh: String,
    /// Set by `expire_access_token`: the access token is past its lifetime.
    pub(crate) access_revoked: bool,
    /// The scopes this pair was granted.
    pub(crate) scope: String,
    generation: u64,
}

impl Tokens {
    fn new(config: &SandboxConfig) -> Self {
        Self {
            access: config.access_token.clone(),
            refresh: config.refresh_token.clone(),
            access_revoked: false,
            scope: config.scopes.clone(),
            generation: 0,
        }
    }

    pub(crate) fn accepts_access(&self, presented: &str) -> bool {
        !self.access_revoked && presented == self.access
    }

    /// Issues a fresh pair. The generation makes tokens readable in test
    /// failures; the random part makes them unguessable from the old ones.
    pub(crate) fn rotate(&mut self) {
        self.generation += 1;
        let mut rng = rand::rng();
        let generation = self.generation;
        self.access = format!("sandbox-access-{generation}-{:016x}", rng.random::<u64>());
        self.refresh = format!("sandbox-refresh-{generation}-{:016x}", rng.random::<u64>());
        self.access_revoked = false;
    }

    /// Kills the live pair, as when the practice revokes the app in
    /// DrChrono's console: the access token answers 401 and the refresh
    /// token `invalid_grant`, until a person authorizes again.
    pub(crate) fn revoke(&mut self) {
        self.access_revoked = true;
        self.refresh = format!("sandbox-revoked-{:016x}", rand::rng().random::<u64>());
    }
}

/// Request counts, so tests can assert exact call budgets.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) total: u64,
    /// Keyed by exact path (no query string).
    pub(crate) by_path: BTreeMap<String, u64>,
    pub(crate) refreshes: u64,
    /// (path, `traceparent` header) of each request that sent one.
    pub(crate) traceparents: Vec<(String, String)>,
    /// POST and PATCH requests to `/api/*`.
    pub(crate) writes: u64,
}

impl Counters {
    pub(crate) fn record(&mut self, path: &str) {
        self.total += 1;
        *self.by_path.entry(path.to_owned()).or_default() += 1;
    }

    pub(crate) fn calls_to(&self, prefix: &str) -> u64 {
        self.by_path.iter().filter(|(path, _)| path.starts_with(prefix)).map(|(_, n)| n).sum()
    }

    /// Groups `/api/patients/1001` under `/api/patients`, which is what a
    /// person reading the stats wants to see.
    fn by_resource(&self) -> BTreeMap<String, u64> {
        let mut grouped = BTreeMap::new();
        for (path, n) in &self.by_path {
            let resource: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).take(2).collect();
            *grouped.entry(format!("/{}", resource.join("/"))).or_default() += n;
        }
        grouped
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "calls": self.total,
            "by_resource": self.by_resource(),
            "by_path": self.by_path,
            "refreshes": self.refreshes,
            "writes": self.writes,
        })
    }
}
