//! One fuzz case: an endpoint, a request with valid credentials and a
//! malformed body or query, and the mutations that made it.

use crate::{
    inbound, queries,
    rng::Rng,
    samples::{Samples, Target},
};

/// The endpoints fuzzed, each counted apart in the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// `POST /webhooks/drchrono` (and `/api/webhook`).
    DrChrono,
    /// `GET /webhooks/drchrono?msg=`: the verification handshake.
    DrChronoVerify,
    /// `POST /webhooks/deepcura`.
    DeepCura,
    /// `POST /webhook/appointments` (and `/webhooks/appointments`).
    Partner,
    /// `POST|PATCH /api/patients` and `/api/appointments`.
    Writes,
    /// `GET /api/jobs/{id}`.
    JobStatus,
    /// `GET /events?...`.
    Events,
    /// `GET /admin/deepcura/unlinked?...`.
    Unlinked,
}

impl Endpoint {
    pub const ALL: [Endpoint; 8] = [
        Endpoint::DrChrono,
        Endpoint::DrChronoVerify,
        Endpoint::DeepCura,
        Endpoint::Partner,
        Endpoint::Writes,
        Endpoint::JobStatus,
        Endpoint::Events,
        Endpoint::Unlinked,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Endpoint::DrChrono => "drchrono",
            Endpoint::DrChronoVerify => "drchrono_verify",
            Endpoint::DeepCura => "deepcura",
            Endpoint::Partner => "partner",
            Endpoint::Writes => "writes",
            Endpoint::JobStatus => "job_status",
            Endpoint::Events => "events",
            Endpoint::Unlinked => "deepcura_unlinked",
        }
    }

    /// The share of cases, in percent: most go where bodies become jobs.
    fn weight(self) -> usize {
        match self {
            Endpoint::DrChrono => 30,
            Endpoint::DeepCura => 22,
            Endpoint::Partner => 15,
            Endpoint::Writes => 15,
            Endpoint::DrChronoVerify | Endpoint::JobStatus | Endpoint::Events | Endpoint::Unlinked => 4,
        }
    }
}

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct Case {
    pub index: u64,
    pub endpoint: Endpoint,
    pub method: reqwest::Method,
    /// Path and query, already percent-encoded.
    pub path: String,
    /// Header values are bytes: some are not UTF-8 (obs-text), on purpose.
    pub headers: Vec<(&'static str, Vec<u8>)>,
    pub body: Vec<u8>,
    pub mutations: Vec<&'static str>,
}

impl Case {
    pub fn new(endpoint: Endpoint, method: reqwest::Method, path: impl Into<String>) -> Case {
        Case {
            index: 0,
            endpoint,
            method,
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
            mutations: Vec::new(),
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<Vec<u8>>) -> Case {
        self.headers.push((name, value.into()));
        self
    }

    pub fn bearer(self, token: &str) -> Case {
        self.header("authorization", format!("Bearer {token}"))
    }

    /// A JSON body with its mutations.
    pub fn json(mut self, m: crate::mutate::Mutated) -> Case {
        self.body = m.body;
        self.mutations.extend(m.mutations);
        self.header("content-type", "application/json")
    }

    /// The first bytes of the body in hex, enough to recognise it, never its content.
    pub fn body_prefix(&self) -> String {
        hex::encode(&self.body[..self.body.len().min(8)])
    }
}

/// Case `index` of `seed`: the same pair always gives the same request.
pub fn generate(seed: u64, index: u64, target: &Target, samples: &Samples) -> Case {
    let mut rng = Rng::for_case(seed, index);
    let mut roll = rng.below(Endpoint::ALL.iter().map(|e| e.weight()).sum());
    let endpoint = Endpoint::ALL
        .into_iter()
        .find(|e| {
            let hit = roll < e.weight();
            roll = roll.saturating_sub(e.weight());
            hit
        })
        .unwrap_or(Endpoint::DrChrono);
    let r = &mut rng;
    let mut case = match endpoint {
        Endpoint::DrChrono => inbound::drchrono(r, target, samples),
        Endpoint::DeepCura => inbound::deepcura(r, target, samples),
        Endpoint::Partner => inbound::partner(r, target, samples),
        Endpoint::Writes => inbound::write(r, target, samples),
        Endpoint::DrChronoVerify => queries::verify(r),
        Endpoint::JobStatus => queries::job_status(r, target),
        Endpoint::Events => queries::events(r, target),
        Endpoint::Unlinked => queries::unlinked(r, target),
    };
    case.index = index;
    case
}
