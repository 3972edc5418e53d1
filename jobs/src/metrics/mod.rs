//! Prometheus metrics for `GET /metrics`.
//!
//! Two sources, one page: series this process counts as work happens
//! ([`local`]: job attempts, webhook deliveries, S3 puts), and shared state
//! read from Postgres at scrape time ([`scrape`]: queue depth, the DrChrono
//! budget and tokens). Labels are queue names, endpoints and outcomes;
//! never ids or anything from a record.

mod local;
mod scrape;
mod text;

use sqlx::PgPool;
use std::{collections::BTreeMap, time::Instant};

use local::{DURATION_BUCKETS, Labels};
use text::{Family, Kind, Text};

const QUEUE_JOBS: Family = Family {
    name: "drchrono_sync_queue_jobs",
    help: "Jobs per queue and status: Pending (waiting), Failed (waiting to retry), Killed (dead).",
    kind: Kind::Gauge,
};
const OLDEST_DUE: Family = Family {
    name: "drchrono_sync_queue_oldest_pending_age_seconds",
    help: "How long the longest-waiting due job of each queue has waited to start.",
    kind: Kind::Gauge,
};
const DEAD: Family = Family {
    name: "drchrono_sync_dead_jobs",
    help: "Dead (Killed) jobs per queue; `cargo xtask retry-failed` revives them.",
    kind: Kind::Gauge,
};
const RUNNING: Family = Family {
    name: "drchrono_sync_jobs_running",
    help: "Attempts running in this process, per queue.",
    kind: Kind::Gauge,
};
const DURATION: Family = Family {
    name: "drchrono_sync_job_duration_seconds",
    help: "Duration of job attempts, per queue and outcome (succeeded or failed).",
    kind: Kind::Histogram,
};
const DURATION_BUCKET: &str = "drchrono_sync_job_duration_seconds_bucket";
const DURATION_SUM: &str = "drchrono_sync_job_duration_seconds_sum";
const DURATION_COUNT: &str = "drchrono_sync_job_duration_seconds_count";
const RETRIES: Family = Family {
    name: "drchrono_sync_job_retries_total",
    help: "Attempts after a job's first, per queue.",
    kind: Kind::Counter,
};
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

/// One attempt of a job, from start to finish: counts it as running while
/// it lives, then records its duration with [`JobAttempt::finish`].
pub struct JobAttempt {
    queue: &'static str,
    started: Instant,
}

impl JobAttempt {
    /// `attempt` is 1 for a job's first attempt; later ones count as retries.
    pub fn start(queue: &'static str, attempt: usize) -> Self {
        if attempt > 1 {
            local::add(RETRIES.name, queue_label(queue), 1);
        }
        local::gauge_add(RUNNING.name, queue_label(queue), 1);
        Self { queue, started: Instant::now() }
    }

    pub fn finish(self, succeeded: bool) {
        let outcome = if succeeded { "succeeded" } else { "failed" };
        let labels = vec![("queue", self.queue.into()), ("outcome", outcome.into())];
        local::observe(DURATION.name, labels, self.started.elapsed().as_secs_f64());
    }
}

impl Drop for JobAttempt {
    fn drop(&mut self) {
        local::gauge_add(RUNNING.name, queue_label(self.queue), -1);
    }
}

fn queue_label(queue: &'static str) -> Labels {
    vec![("queue", queue.into())]
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
    let depth = scrape::queue_depth(pool).await?;
    let budget = crate::drchrono::budget_status(pool).await?;
    let token = scrape::token_state(pool).await?;
    let local = local::snapshot();
    let mut t = Text::default();
    queues(&mut t, &config.queues, &depth, &local);
    attempts(&mut t, &config.queues, &local);
    t.family(&WEBHOOKS);
    for (labels, n) in local.counters_of(WEBHOOKS.name) {
        t.sample(WEBHOOKS.name, &[("endpoint", &labels[0].1), ("outcome", &labels[1].1)], n as f64);
    }
    drchrono(&mut t, config.calls_per_hour, &budget, &token);
    t.family(&S3_PUTS);
    let mut puts: BTreeMap<&str, u64> = S3_PUT_OUTCOMES.iter().map(|o| (*o, 0)).collect();
    puts.extend(local.counters_of(S3_PUTS.name).map(|(l, n)| (l[0].1.as_str(), n)));
    for (outcome, n) in puts {
        t.sample(S3_PUTS.name, &[("outcome", outcome)], n as f64);
    }
    Ok(t.into_string())
}

/// Depth, oldest due job, dead jobs and running attempts, for every queue.
fn queues(t: &mut Text, queues: &[&'static str], depth: &[scrape::QueueDepth], local: &local::Local) {
    let count = |queue: &str, status: &str| {
        depth.iter().find(|d| d.queue == queue && d.status == status).map_or(0, |d| d.jobs) as f64
    };
    t.family(&QUEUE_JOBS);
    for queue in queues {
        for status in ["Pending", "Failed", "Killed"] {
            t.sample(QUEUE_JOBS.name, &[("queue", queue), ("status", status)], count(queue, status));
        }
    }
    t.family(&OLDEST_DUE);
    for queue in queues {
        let age = depth.iter().filter(|d| d.queue == *queue).map(|d| d.oldest_due_secs).fold(0.0, f64::max);
        t.sample(OLDEST_DUE.name, &[("queue", queue)], age);
    }
    t.family(&DEAD);
    for queue in queues {
        t.sample(DEAD.name, &[("queue", queue)], count(queue, "Killed"));
    }
    t.family(&RUNNING);
    for queue in queues {
        let n = local.gauges_of(RUNNING.name).find(|(l, _)| l[0].1 == *queue).map_or(0, |(_, v)| v);
        t.sample(RUNNING.name, &[("queue", queue)], n as f64);
    }
}

/// Attempt durations (a histogram per queue and outcome) and retries.
fn attempts(t: &mut Text, queues: &[&'static str], local: &local::Local) {
    t.family(&DURATION);
    for (labels, h) in local.histograms_of(DURATION.name) {
        let (queue, outcome) = (labels[0].1.as_str(), labels[1].1.as_str());
        let mut cumulative = 0;
        for (le, n) in DURATION_BUCKETS.iter().zip(&h.buckets) {
            cumulative += n;
            let le = le.to_string();
            t.sample(DURATION_BUCKET, &[("queue", queue), ("outcome", outcome), ("le", &le)], cumulative as f64);
        }
        t.sample(DURATION_BUCKET, &[("queue", queue), ("outcome", outcome), ("le", "+Inf")], h.count as f64);
        t.sample(DURATION_SUM, &[("queue", queue), ("outcome", outcome)], h.sum);
        t.sample(DURATION_COUNT, &[("queue", queue), ("outcome", outcome)], h.count as f64);
    }
    t.family(&RETRIES);
    for queue in queues {
        let n = local.counters_of(RETRIES.name).find(|(l, _)| l[0].1 == *queue).map_or(0, |(_, v)| v);
        t.sample(RETRIES.name, &[("queue", queue)], n as f64);
    }
}

/// The shared hourly budget and the token row.
fn drchrono(t: &mut Text, calls_per_hour: u32, budget: &crate::drchrono::BudgetStatus, token: &scrape::TokenState) {
    t.family(&BUDGET_LEFT);
    t.sample(BUDGET_LEFT.name, &[], (i64::from(calls_per_hour) - budget.used).max(0) as f64);
    t.family(&BUDGET_BLOCKED);
    let blocked = budget.blocked_until.map_or(0, |u| (u - chrono::Utc::now()).num_milliseconds().max(0));
    t.sample(BUDGET_BLOCKED.name, &[], blocked as f64 / 1000.0);
    t.family(&TOKEN_STATE);
    for state in scrape::TOKEN_STATES {
        t.sample(TOKEN_STATE.name, &[("state", state)], if state == token.state { 1.0 } else { 0.0 });
    }
    if let Some(secs) = token.expires_in_secs {
        t.family(&TOKEN_EXPIRY);
        t.sample(TOKEN_EXPIRY.name, &[], secs.round());
    }
}
