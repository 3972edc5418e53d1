//! Bounded reads of the job table for the operator console: a page of jobs
//! newest first, and each queue's unfinished depth. Unlike [`super::list`]
//! and [`super::stats`], which read the `job_overview` view and count every
//! job, each of these is served by an index and never touches the finished
//! jobs, so it stays fast with millions of them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use crate::JobState;

/// Which jobs a page shows; empty fields match every job.
#[derive(Debug, Clone, Default)]
pub struct PageFilter {
    pub queue: Option<String>,
    pub states: Vec<JobState>,
    /// The last attempt's error class.
    pub error_class: Option<String>,
    /// Only jobs enqueued before this one (ids sort by enqueue time).
    pub before: Option<String>,
    /// Only jobs enqueued at or after this time.
    pub enqueued_since: Option<DateTime<Utc>>,
    /// Only jobs enqueued before this time.
    pub enqueued_until: Option<DateTime<Utc>>,
}

/// The smallest job id of a job enqueued at `at`: a ULID's first ten
/// characters are its time, so a time range is an id range, served by the
/// same indexes as the id order.
pub fn first_id_at(at: DateTime<Utc>) -> String {
    let ms = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    ulid::Ulid::from_parts(ms, 0).to_string()
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PageRow {
    pub id: String,
    pub queue: String,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub enqueued_at: Option<DateTime<Utc>>,
    pub error_class: Option<String>,
}

impl PageRow {
    /// Its state as `job_overview` names it (a queued job is `pending`).
    pub fn state(&self) -> &'static str {
        JobState::from_db_status(&self.status).map_or("unknown", overview_name)
    }
}

/// The states as `job_overview` and `jobs list --state` name them.
pub const OVERVIEW_STATES: [&str; 7] = ["pending", "running", "retrying", "done", "dead", "cancelled", "discarded"];

/// `state`'s name in `job_overview`: `queued` (claimed, not yet started) shows as `pending`.
pub fn overview_name(state: JobState) -> &'static str {
    match state {
        JobState::Queued => "pending",
        other => other.name(),
    }
}

/// The states `name` (one of [`OVERVIEW_STATES`]) stands for; empty for an unknown name.
pub fn states_named(name: &str) -> Vec<JobState> {
    JobState::ALL.into_iter().filter(|s| overview_name(*s) == name).collect()
}

/// At most `limit` jobs, newest first. Served by `jobs_by_queue_newest`
/// with a queue, `jobs_by_status_newest` (or `jobs_dead`) with states, else
/// `jobs_pkey` backwards; the error class is checked on each job's last
/// attempt (`job_attempts_by_job`) along that scan. Only the filters given
/// are in the SQL, so no plan (custom or cached generic) is left to guess
/// which index a `$1 IS NULL OR ...` condition allows.
pub async fn page(pool: &PgPool, filter: &PageFilter, limit: i64) -> Result<Vec<PageRow>, sqlx::Error> {
    let mut q = sqlx::QueryBuilder::new(
        "SELECT j.id, j.job_type AS queue, j.status, j.attempts, j.max_attempts, ulid_time(j.id) AS enqueued_at, \
                a.error_class \
         FROM apalis.jobs j LEFT JOIN LATERAL \
              (SELECT error_class FROM job_attempts a WHERE a.job_id = j.id ORDER BY a.id DESC LIMIT 1) a ON true \
         WHERE true",
    );
    if let Some(queue) = &filter.queue {
        q.push(" AND j.job_type = ").push_bind(queue);
    }
    if let [state] = filter.states.as_slice() {
        q.push(" AND j.status = ").push_bind(state.db_status());
    } else if !filter.states.is_empty() {
        q.push(" AND j.status = ANY(").push_bind(JobState::db_statuses(&filter.states)).push(")");
    }
    if let Some(class) = &filter.error_class {
        q.push(" AND a.error_class = ").push_bind(class);
    }
    if let Some(before) = &filter.before {
        q.push(" AND j.id < ").push_bind(before);
    }
    if let Some(since) = filter.enqueued_since {
        q.push(" AND j.id >= ").push_bind(first_id_at(since));
    }
    if let Some(until) = filter.enqueued_until {
        q.push(" AND j.id < ").push_bind(first_id_at(until));
    }
    q.push(" ORDER BY j.id DESC LIMIT ").push_bind(limit);
    q.build_query_as().fetch_all(pool).await
}

/// A queue's jobs that are not finished, and its dead ones.
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct Depth {
    pub queue: String,
    pub pending: i64,
    pub running: i64,
    pub retrying: i64,
    pub dead: i64,
    /// Seconds the oldest due pending job has waited.
    pub oldest_pending_secs: Option<f64>,
}

/// Every queue with an unfinished or dead job: `jobs_by_status_newest`
/// (status leading) reads only those rows, never the finished ones.
pub async fn depths(pool: &PgPool) -> Result<Vec<Depth>, sqlx::Error> {
    sqlx::query_as(
        "SELECT job_type AS queue, \
                count(*) FILTER (WHERE status IN ('Pending', 'Queued')) AS pending, \
                count(*) FILTER (WHERE status = 'Running') AS running, \
                count(*) FILTER (WHERE status = 'Failed') AS retrying, \
                count(*) FILTER (WHERE status = 'Killed') AS dead, \
                extract(epoch FROM now() - min(run_at) FILTER (WHERE status = 'Pending' AND run_at <= now()))::float8 \
                    AS oldest_pending_secs \
         FROM apalis.jobs WHERE status IN ('Pending', 'Queued', 'Running', 'Failed', 'Killed') GROUP BY job_type",
    )
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_id_at_a_time_sorts_between_the_ids_of_jobs_before_and_after_it() {
        let at = DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z").unwrap().with_timezone(&Utc);
        let ms = at.timestamp_millis() as u64;
        let before = ulid::Ulid::from_parts(ms - 1, u128::MAX).to_string();
        let same = ulid::Ulid::from_parts(ms, 1).to_string();
        assert!(before < first_id_at(at) && first_id_at(at) <= same, "{before} {} {same}", first_id_at(at));
    }
}
