//! What `/metrics` reads from Postgres at scrape time: shared state that no
//! single process counts (queue depth, the DrChrono budget and tokens).
//!
//! Every query stays on an index: `apalis.jobs` keeps 30 days of finished
//! jobs, and a scrape comes every few seconds.

use sqlx::PgPool;

/// Jobs of one queue in one status.
pub(crate) struct QueueDepth {
    pub queue: String,
    pub status: String,
    pub jobs: i64,
    /// How long the longest-waiting due job has waited past its `run_at`.
    pub oldest_due_secs: f64,
}

/// Waiting jobs (`Pending`, and `Failed` ones waiting to retry) through the
/// fetch index, dead ones (`Killed`) through `jobs_dead`.
pub(crate) async fn queue_depth(pool: &PgPool) -> Result<Vec<QueueDepth>, sqlx::Error> {
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

/// The DrChrono token row as an operator cares about it.
pub(crate) struct TokenState {
    /// One of [`TOKEN_STATES`].
    pub state: &'static str,
    /// Seconds until the access token expires (negative once it has), when known.
    pub expires_in_secs: Option<f64>,
}

/// `absent`: no stored row (tokens, if any, come from the environment);
/// `valid`; `expired`: the next call refreshes it; `reauthorization_required`:
/// DrChrono refused the refresh token and a person must act.
pub(crate) const TOKEN_STATES: [&str; 4] = ["absent", "valid", "expired", "reauthorization_required"];

pub(crate) async fn token_state(pool: &PgPool) -> Result<TokenState, sqlx::Error> {
    let row: Option<(bool, Option<f64>)> = sqlx::query_as(
        "SELECT needs_reauth, extract(epoch FROM access_expires_at - now())::float8
           FROM oauth_tokens WHERE key = 'default'",
    )
    .fetch_optional(pool)
    .await?;
    let state = match row {
        None => "absent",
        Some((true, _)) => "reauthorization_required",
        Some((false, Some(secs))) if secs <= 0.0 => "expired",
        Some(_) => "valid",
    };
    Ok(TokenState { state, expires_in_secs: row.and_then(|(_, secs)| secs) })
}
