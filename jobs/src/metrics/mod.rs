//! Prometheus metrics for `GET /metrics`: the runner's queue and attempt
//! series ([`job_runner::metrics`]), then the service's own.
//!
//! Two sources, one page: series this process counts as work happens
//! (webhook deliveries, S3 puts), and shared state read from Postgres at
//! scrape time (the DrChrono budget and tokens). Labels are endpoints and
//! outcomes; never ids or anything from a record.

mod token;

use job_runner::metrics::{Family, Kind, Text, local};
use sqlx::PgPool;
use std::collections::BTreeMap;

const WEBHOOKS: Family = Family {
    name: "drchrono_sync_webhook_deliveries_total",
    help: "Webhook deliveries per endpoint and inbox outcome.",
    kind: Kind::Counter,
};
const BUDGET_LEFT: Family = Family {
    name: "drchrono_sync_drchrono_budget_remaining",
    help: "DrChrono calls left in this clock hour's shared budget.",
    kind: Kind::Gauge,
};
const BUDGET_BLOCKED: Family = Family {
    name: "drchrono_sync_drchrono_blocked_seconds",
    help: "Seconds until a DrChrono 429 block ends (0 when not blocked).",
    kind: Kind::Gauge,
};
const TOKEN_STATE: Family = Family {
    name: "drchrono_sync_drchrono_token_state",
    help: "1 for the DrChrono token's current state; reauthorization_required needs a person.",
    kind: Kind::Gauge,
};
const TOKEN_EXPIRY: Family = Family {
    name: "drchrono_sync_drchrono_token_expires_in_seconds",
    help: "Seconds until the stored access token expires (negative once it has).",
    kind: Kind::Gauge,
};
const S3_PUTS: Family = Family {
    name: "drchrono_sync_s3_puts_total",
    help: "S3 PutObject calls of the note archive, per outcome.",
    kind: Kind::Counter,
};

const WEBHOOK_WAITING: Family = Family {
    name: "drchrono_sync_webhook_deliveries_waiting",
    help: "DrChrono deliveries received and waiting for their transaction (group commit).",
    kind: Kind::Gauge,
};
const WEBHOOK_COMMITS: Family = Family {
    name: "drchrono_sync_webhook_commits_total",
    help: "Group-commit transactions of DrChrono deliveries: committed, split (one by one after a failure) or failed.",
    kind: Kind::Counter,
};
const WEBHOOK_COMMITTED: Family = Family {
    name: "drchrono_sync_webhook_committed_deliveries_total",
    help: "DrChrono deliveries in committed group-commit transactions (over commits: the mean batch).",
    kind: Kind::Counter,
};

/// Outcomes of [`webhook_commit`] that exist (at zero) before the first.
pub const WEBHOOK_COMMIT_OUTCOMES: [&str; 3] = ["committed", "split", "failed"];

/// Outcomes of [`s3_put`] that exist (at zero) before the first put.
pub const S3_PUT_OUTCOMES: [&str; 2] = ["ok", "error"];

/// Counts one S3 PutObject of the archive; `outcome` is `ok` or `error`.
pub fn s3_put(outcome: &'static str) {
    local::add(S3_PUTS.name, vec![("outcome", outcome.into())], 1);
}

/// Counts one webhook delivery at `endpoint` (`drchrono`, `deepcura`, ...)
/// with its inbox outcome (`accepted`, `duplicate`, `rejected_auth`, ...).
pub fn webhook_delivery(endpoint: &'static str, outcome: &str) {
    local::add(WEBHOOKS.name, vec![("endpoint", endpoint.into()), ("outcome", outcome.into())], 1);
}

/// `delta` deliveries began (positive) or ended (negative) waiting for their commit.
pub fn webhook_waiting(delta: i64) {
    local::gauge_add(WEBHOOK_WAITING.name, Vec::new(), delta);
}

/// Deliveries waiting for their commit in this process now.
pub fn webhook_waiting_now() -> i64 {
    waiting(&local::snapshot())
}

fn waiting(local: &local::Local) -> i64 {
    local.gauges_of(WEBHOOK_WAITING.name).map(|(_, n)| n).sum()
}

/// One group-commit transaction of `deliveries`, with its `outcome` (one of
/// [`WEBHOOK_COMMIT_OUTCOMES`]).
pub fn webhook_commit(outcome: &'static str, deliveries: usize) {
    local::add(WEBHOOK_COMMITS.name, vec![("outcome", outcome.into())], 1);
    if outcome == "committed" {
        local::add(WEBHOOK_COMMITTED.name, Vec::new(), deliveries as u64);
    }
}

/// What a scrape needs to know about the service.
#[derive(Debug, Clone)]
pub struct ScrapeConfig {
    /// Every registered queue, so each has its series even while idle.
    pub queues: Vec<&'static str>,
    /// `DRCHRONO_CALLS_PER_HOUR`.
    pub calls_per_hour: u32,
}

/// The whole `/metrics` page. Fails only when Postgres does.
pub async fn render(pool: &PgPool, config: &ScrapeConfig) -> Result<String, sqlx::Error> {
    let mut t = Text::default();
    job_runner::metrics::render_queues(&mut t, pool, &config.queues).await?;
    let budget = crate::drchrono::budget_status(pool).await?;
    let token = token::token_state(pool).await?;
    let local = local::snapshot();
    t.family(&WEBHOOKS);
    for (labels, n) in local.counters_of(WEBHOOKS.name) {
        t.sample(WEBHOOKS.name, &[("endpoint", &labels[0].1), ("outcome", &labels[1].1)], n as f64);
    }
    drchrono(&mut t, config.calls_per_hour, &budget, &token);
    group_commit(&mut t, &local);
    by_outcome(&mut t, &local, &S3_PUTS, &S3_PUT_OUTCOMES);
    Ok(t.into_string())
}

/// The webhook group commit: waiting deliveries, transactions, deliveries committed.
fn group_commit(t: &mut Text, local: &local::Local) {
    t.family(&WEBHOOK_WAITING);
    t.sample(WEBHOOK_WAITING.name, &[], waiting(local) as f64);
    by_outcome(t, local, &WEBHOOK_COMMITS, &WEBHOOK_COMMIT_OUTCOMES);
    t.family(&WEBHOOK_COMMITTED);
    let committed: u64 = local.counters_of(WEBHOOK_COMMITTED.name).map(|(_, n)| n).sum();
    t.sample(WEBHOOK_COMMITTED.name, &[], committed as f64);
}

/// A counter labelled by `outcome`, with each of `outcomes` shown from zero.
fn by_outcome(t: &mut Text, local: &local::Local, family: &Family, outcomes: &[&str]) {
    t.family(family);
    let mut counts: BTreeMap<&str, u64> = outcomes.iter().map(|o| (*o, 0)).collect();
    counts.extend(local.counters_of(family.name).map(|(l, n)| (l[0].1.as_str(), n)));
    for (outcome, n) in counts {
        t.sample(family.name, &[("outcome", outcome)], n as f64);
    }
}

/// The shared hourly budget and the token row.
fn drchrono(t: &mut Text, calls_per_hour: u32, budget: &crate::drchrono::BudgetStatus, token: &token::TokenState) {
    t.family(&BUDGET_LEFT);
    t.sample(BUDGET_LEFT.name, &[], (i64::from(calls_per_hour) - budget.used).max(0) as f64);
    t.family(&BUDGET_BLOCKED);
    let blocked = budget.blocked_until.map_or(0, |u| (u - chrono::Utc::now()).num_milliseconds().max(0));
    t.sample(BUDGET_BLOCKED.name, &[], blocked as f64 / 1000.0);
    t.family(&TOKEN_STATE);
    for state in token::TOKEN_STATES {
        t.sample(TOKEN_STATE.name, &[("state", state)], if state == token.state { 1.0 } else { 0.0 });
    }
    if let Some(secs) = token.expires_in_secs {
        t.family(&TOKEN_EXPIRY);
        t.sample(TOKEN_EXPIRY.name, &[], secs.round());
    }
}
