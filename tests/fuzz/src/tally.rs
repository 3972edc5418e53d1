//! Counts per endpoint and the failures, for the one line of figures.

use std::{collections::BTreeMap, fmt::Write as _};

use crate::{
    case::{Case, Endpoint},
    send::Answer,
};

#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub sent: u64,
    pub ok: u64,
    pub client_error: u64,
    pub server_error: u64,
    pub shed: u64,
    pub other: u64,
}

/// One failed case: enough to replay it (`--seed`, `--case`), nothing of its body but a hex prefix.
#[derive(Debug, Clone)]
pub struct Failure {
    pub endpoint: Endpoint,
    pub index: u64,
    pub method: String,
    pub mutations: Vec<&'static str>,
    pub what: String,
    pub body_prefix: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "case {} {} {}: {} (mutations: {}; body starts {})",
            self.index,
            self.method,
            self.endpoint.name(),
            self.what,
            self.mutations.join("+"),
            self.body_prefix
        )
    }
}

#[derive(Debug, Default)]
pub struct Tally {
    pub per: BTreeMap<Endpoint, Counts>,
    pub failures: Vec<Failure>,
}

impl Tally {
    pub fn add(&mut self, case: &Case, answer: &Answer) {
        let c = self.per.entry(case.endpoint).or_default();
        c.sent += 1;
        match answer {
            Answer::Status(200..=299) => c.ok += 1,
            Answer::Status(400..=499) => c.client_error += 1,
            Answer::Status(_) => c.other += 1,
            Answer::Shed => c.shed += 1,
            Answer::Failed(what) => {
                if what.starts_with("status 5") {
                    c.server_error += 1;
                }
                self.failures.push(Failure {
                    endpoint: case.endpoint,
                    index: case.index,
                    method: case.method.to_string(),
                    mutations: case.mutations.clone(),
                    what: what.clone(),
                    body_prefix: case.body_prefix(),
                });
            }
        }
    }

    pub fn total(&self) -> Counts {
        self.per.values().fold(Counts::default(), |a, c| Counts {
            sent: a.sent + c.sent,
            ok: a.ok + c.ok,
            client_error: a.client_error + c.client_error,
            server_error: a.server_error + c.server_error,
            shed: a.shed + c.shed,
            other: a.other + c.other,
        })
    }

    /// `sent=N (drchrono=.. deepcura=.. ...) 2xx=.. 4xx=.. 5xx=.. shed=.. failures=..`
    pub fn summary(&self) -> String {
        let t = self.total();
        let mut per = String::new();
        for (endpoint, c) in &self.per {
            let _ = write!(per, "{}{}={}", if per.is_empty() { "" } else { " " }, endpoint.name(), c.sent);
        }
        format!(
            "sent={} ({per}) 2xx={} 4xx={} 5xx={} other={} shed_503={} failed_requests={}",
            t.sent,
            t.ok,
            t.client_error,
            t.server_error,
            t.other,
            t.shed,
            self.failures.len()
        )
    }
}
