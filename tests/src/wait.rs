//! Polling until the database shows an expected state. Deadlines are
//! generous: they catch a hang, they do not measure speed.

use sqlx::PgPool;
use std::time::{Duration, Instant};

/// Polls `sql` (one scalar) every 50 ms until `done` holds; panics after `limit`.
pub async fn until<T>(pool: &PgPool, sql: &'static str, limit: Duration, done: impl Fn(&T) -> bool) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin + std::fmt::Debug,
{
    let start = Instant::now();
    loop {
        let v: T = sqlx::query_scalar(sql).fetch_one(pool).await.expect("poll query");
        if done(&v) {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting on `{sql}`; last value {v:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
