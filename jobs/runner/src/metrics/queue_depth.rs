//! Queue depth as `/metrics` reads it at scrape time: shared state that no
//! single process counts.
//!
//! Every query stays on an index: `apalis.jobs` keeps 30 days of finished
//! jobs, and a scrape comes every few seconds.

use sqlx::PgPool;

use crate::JobState;

/// The `status` label values, in the table's spelling that dashboards
/// already chart: waiting, waiting to retry, dead.
pub(super) const STATUSES: [&str; 3] =
    [JobState::Pending.db_status(), JobState::Retrying.db_status(), JobState::Dead.db_status()];

/// Jobs of one queue in one status.
pub(super) struct QueueDepth {
    pub queue: String,
    pub status: String,
    pub jobs: i64,
    /// How long the longest-waiting due job has waited past its `run_at`.
    pub oldest_due_secs: f64,
}

/// Waiting jobs (`Pending`, and `Failed` ones waiting to retry) through the
/// fetch index, dead ones (`Killed`) through `jobs_dead`.
pub(super) async fn read(pool: &PgPool) -> Result<Vec<QueueDepth>, sqlx::Error> {
    let rows: Vec<(String, String, i64, f64)> = sqlx::query_as(
        "SELECT job_type, status, count(*),
                coalesce(extract(epoch FROM max(now() - run_at) FILTER (WHERE run_at <= now())), 0)::float8
           FROM apalis.jobs
          WHERE status = 'Pending' OR (status = 'Failed' AND attempts < max_attempts)
          GROUP BY 1, 2
         UNION ALL
         SELECT job_type, 'Killed', count(*), 0::float8
           FROM apalis.jobs WHERE status = 'Killed'
          GROUP BY 1
         ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(queue, status, jobs, oldest_due_secs)| QueueDepth { queue, status, jobs, oldest_due_secs })
        .collect())
}
