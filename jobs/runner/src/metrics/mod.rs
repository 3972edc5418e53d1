//! The runner's Prometheus series, and the small toolkit the service's
//! other series are written with.
//!
//! Two sources, one page: what this process counts as attempts run
//! ([`local`]: running attempts, durations, retries), and queue depth read
//! from Postgres at scrape time. Labels are queue names and outcomes; never
//! ids or anything from a job's arguments.

pub mod local;
mod queue_depth;
mod text;

use sqlx::PgPool;
use std::time::Instant;

pub use text::{Family, Kind, Text};

use local::{DURATION_BUCKETS, Labels};
use queue_depth::QueueDepth;

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
const PAUSED: Family = Family {
    name: "drchrono_sync_queue_paused",
    help: "1 while an operator has the queue paused (`cargo xtask jobs resume QUEUE`): its jobs wait by intent.",
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

/// One attempt of a job, from start to finish: counts it as running while
/// it lives, then records its duration with [`JobAttempt::finish`].
pub(crate) struct JobAttempt {
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

/// Writes the runner's families for every queue in `queues` (each has its
/// series even while idle). Fails only when Postgres does.
pub async fn render_queues(t: &mut Text, pool: &PgPool, queues: &[&'static str]) -> Result<(), sqlx::Error> {
    let depth = queue_depth::read(pool).await?;
    let paused = crate::ops::paused_queues(pool).await?;
    let local = local::snapshot();
    depth_families(t, queues, &depth, &local);
    t.family(&PAUSED);
    for queue in queues {
        t.sample(PAUSED.name, &[("queue", queue)], f64::from(u8::from(paused.iter().any(|p| p.queue == *queue))));
    }
    attempt_families(t, queues, &local);
    Ok(())
}

/// Depth, oldest due job, dead jobs and running attempts, for every queue.
fn depth_families(t: &mut Text, queues: &[&'static str], depth: &[QueueDepth], local: &local::Local) {
    let count = |queue: &str, status: &str| {
        depth.iter().find(|d| d.queue == queue && d.status == status).map_or(0, |d| d.jobs) as f64
    };
    t.family(&QUEUE_JOBS);
    for queue in queues {
        for status in queue_depth::STATUSES {
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
        t.sample(DEAD.name, &[("queue", queue)], count(queue, crate::JobState::Dead.db_status()));
    }
    t.family(&RUNNING);
    for queue in queues {
        let n = local.gauges_of(RUNNING.name).find(|(l, _)| l[0].1 == *queue).map_or(0, |(_, v)| v);
        t.sample(RUNNING.name, &[("queue", queue)], n as f64);
    }
}

/// Attempt durations (a histogram per queue and outcome) and retries.
fn attempt_families(t: &mut Text, queues: &[&'static str], local: &local::Local) {
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
