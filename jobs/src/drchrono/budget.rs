//! The shared hourly call budget, kept in Postgres (`drchrono_rate_budget`).
//!
//! DrChrono allows a number of calls per application per clock hour and
//! resets at the top of the hour. Every process takes one call from this row
//! before each request, atomically, with one statement. Webhook-driven work
//! may spend the whole budget; reconciliation stops at its share, so the rest
//! stays free for webhooks. When the budget is spent the caller gets the time
//! it is free again, and the job is rescheduled to then: nobody sleeps.
//!
//! The same statement paces the fleet under DrChrono's burst limit (10 calls
//! in any second): each call reserves the next free slot (`next_slot`), one
//! interval after the last, and waits the fraction of a second until it.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// One row per DrChrono application.
pub(crate) const APP: &str = "default";

/// Who is asking. Webhook-driven jobs go before reconciliation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Priority {
    /// Work a delivery asked for: may use the whole hourly budget.
    Webhook,
    /// Background catch-up: stops at its share (`DRCHRONO_RECONCILE_PERCENT`).
    Reconcile,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Webhook => "webhook",
            Priority::Reconcile => "reconcile",
        }
    }
}

/// How many calls of the hour `priority` may use.
pub fn allowance(calls_per_hour: u32, reconcile_percent: u8, priority: Priority) -> i32 {
    let limit = i64::from(calls_per_hour);
    let allowed = match priority {
        Priority::Webhook => limit,
        Priority::Reconcile => limit * i64::from(reconcile_percent.min(100)) / 100,
    };
    allowed.min(i64::from(i32::MAX)) as i32
}

/// The spacing between two calls of the fleet; zero when pacing is off.
pub(crate) fn spacing(calls_per_second: u32) -> std::time::Duration {
    match calls_per_second {
        0 => std::time::Duration::ZERO,
        n => std::time::Duration::from_secs(1) / n,
    }
}

/// Takes one call and its slot: how long to wait before calling, to keep
/// the fleet's pace; or when the budget is free again.
pub(crate) async fn take(
    pool: &PgPool,
    allowed: i32,
    spacing: std::time::Duration,
) -> Result<Result<std::time::Duration, DateTime<Utc>>, sqlx::Error> {
    if allowed > 0 {
        // The window is the UTC clock hour, taken from the database's clock
        // so that every process agrees. A newer window resets the count. The
        // slot is the later of now and the last slot plus the spacing.
        let wait: Option<f64> = sqlx::query_scalar(
            "INSERT INTO drchrono_rate_budget AS b (app, window_start, calls, next_slot)
             VALUES ($1, date_trunc('hour', now(), 'UTC'), 1, clock_timestamp() + make_interval(secs => $3))
             ON CONFLICT (app) DO UPDATE
                SET calls = CASE WHEN b.window_start >= EXCLUDED.window_start THEN b.calls + 1 ELSE 1 END,
                    window_start = greatest(b.window_start, EXCLUDED.window_start),
                    next_slot = greatest(b.next_slot, clock_timestamp()) + make_interval(secs => $3),
                    updated_at = now()
              WHERE (b.blocked_until IS NULL OR b.blocked_until <= now())
                AND (b.window_start < EXCLUDED.window_start OR b.calls < $2)
             RETURNING greatest(extract(epoch FROM b.next_slot - make_interval(secs => $3) - clock_timestamp()), 0)::float8",
        )
        .bind(APP)
        .bind(allowed)
        .bind(spacing.as_secs_f64())
        .fetch_optional(pool)
        .await?;
        if let Some(wait) = wait {
            return Ok(Ok(std::time::Duration::from_secs_f64(wait.clamp(0.0, 60.0))));
        }
    }
    // Refused: free again at the later of a 429's block and the next hour.
    let until: DateTime<Utc> = sqlx::query_scalar(
        "SELECT coalesce(
                    greatest(
                        CASE WHEN b.blocked_until > now() THEN b.blocked_until END,
                        CASE WHEN $2 <= 0 OR (b.window_start >= date_trunc('hour', now(), 'UTC') AND b.calls >= $2)
                             THEN date_trunc('hour', now(), 'UTC') + interval '1 hour' END),
                    now())
           FROM (SELECT $1::text AS app) a
           LEFT JOIN drchrono_rate_budget b USING (app)",
    )
    .bind(APP)
    .bind(allowed)
    .fetch_one(pool)
    .await?;
    Ok(Err(until))
}

/// A 429: nobody calls until `until`.
pub(crate) async fn block_until(pool: &PgPool, until: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO drchrono_rate_budget AS b (app, window_start, calls, blocked_until)
         VALUES ($1, date_trunc('hour', now(), 'UTC'), 0, $2)
         ON CONFLICT (app) DO UPDATE
            SET blocked_until = greatest(b.blocked_until, EXCLUDED.blocked_until), updated_at = now()",
    )
    .bind(APP)
    .bind(until)
    .execute(pool)
    .await?;
    Ok(())
}

/// The budget as it stands, for metrics and operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetStatus {
    /// Start of the current clock hour.
    pub window_start: DateTime<Utc>,
    /// Calls taken in the current hour.
    pub used: i64,
    /// Set while a 429 blocks every call.
    pub blocked_until: Option<DateTime<Utc>>,
}

/// Reads the shared budget (calls used this hour, any 429 block).
pub async fn budget_status(pool: &PgPool) -> Result<BudgetStatus, sqlx::Error> {
    let (window_start, used, blocked_until) = sqlx::query_as(
        "SELECT date_trunc('hour', now(), 'UTC'),
                coalesce(CASE WHEN b.window_start >= date_trunc('hour', now(), 'UTC') THEN b.calls END, 0)::bigint,
                CASE WHEN b.blocked_until > now() THEN b.blocked_until END
           FROM (SELECT $1::text AS app) a
           LEFT JOIN drchrono_rate_budget b USING (app)",
    )
    .bind(APP)
    .fetch_one(pool)
    .await?;
    Ok(BudgetStatus { window_start, used, blocked_until })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconciliation_keeps_a_reserve_for_webhooks() {
        assert_eq!(allowance(500, 80, Priority::Webhook), 500);
        assert_eq!(allowance(500, 80, Priority::Reconcile), 400);
        assert_eq!(allowance(5, 80, Priority::Reconcile), 4);
        assert_eq!(allowance(5, 0, Priority::Reconcile), 0);
        assert_eq!(allowance(5, 250, Priority::Reconcile), 5);
    }
}
