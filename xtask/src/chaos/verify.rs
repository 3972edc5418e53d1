//! The checks after the queue has drained. What the service promised:
//! - every delivery answered 2xx is in the inbox (nothing lost);
//! - each record is stored at the newest version that reached the inbox,
//!   which is at least the newest answered 2xx, and never went back;
//! - no version was written twice (the change log, which keeps the values
//!   while `AUDIT_VALUES` is on, has one row per version), and no delivery
//!   was accepted twice;
//! - no job died.

use anyhow::{Context, Result, bail};
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};

use super::load::{Sent, Target};

#[derive(Debug, Default)]
pub struct Findings {
    pub jobs: i64,
    pub dead_jobs: i64,
    /// Records not at the newest landed version, plus versions written over a newer one.
    pub wrong_version: u64,
    /// Deliveries answered 2xx that are not in the inbox.
    pub lost: u64,
    /// Versions written more than once, plus deliveries accepted more than once.
    pub duplicates: u64,
    /// A few dead jobs (queue and error class), for the report.
    pub dead_examples: Vec<String>,
}

pub async fn check(pool: &PgPool, targets: &[Target], sent: &[Sent]) -> Result<Findings> {
    let mut findings = Findings::default();
    let accepted = inbox(pool).await?;
    // A delivery held as a duplicate of a job already waiting counts 0 here.
    findings.duplicates += accepted.values().map(|&n| u64::try_from(n - 1).unwrap_or(0)).sum::<u64>();
    let landed: HashSet<&str> = accepted.keys().map(String::as_str).collect();
    let mut expected: HashMap<usize, &str> = HashMap::new();
    for s in sent {
        if !landed.contains(s.delivery_id.as_str()) {
            findings.lost += u64::from(s.succeeded());
            continue;
        }
        let newest = expected.entry(s.target).or_insert(&s.updated_at);
        if s.updated_at.as_str() > *newest {
            *newest = &s.updated_at;
        }
    }
    let stored = stored_versions(pool, targets).await?;
    for (i, target) in targets.iter().enumerate() {
        let stored = stored.get(&(target.kind.table(), target.id)).map(String::as_str);
        findings.wrong_version += u64::from(expected.get(&i).copied() != stored);
    }
    let (rewrites, regressions) = change_log(pool, targets).await?;
    findings.duplicates += rewrites;
    findings.wrong_version += regressions;
    (findings.jobs, findings.dead_jobs, findings.dead_examples) = jobs(pool).await?;
    Ok(findings)
}

/// The chaos deliveries in the inbox: delivery id -> how many rows were accepted (not duplicates).
async fn inbox(pool: &PgPool) -> Result<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT delivery_id, count(*) FILTER (WHERE outcome = 'accepted') FROM webhook_deliveries \
         WHERE source = 'drchrono' AND verified AND delivery_id LIKE 'chaos-%' GROUP BY delivery_id",
    )
    .fetch_all(pool)
    .await
    .context("reading the inbox")?;
    Ok(rows.into_iter().collect())
}

/// `(table, id) -> updated_at` of every stored target, as delivered.
async fn stored_versions(pool: &PgPool, targets: &[Target]) -> Result<HashMap<(&'static str, i64), String>> {
    let mut by_table: HashMap<&'static str, Vec<i64>> = HashMap::new();
    for t in targets {
        by_table.entry(t.kind.table()).or_default().push(t.id);
    }
    let mut stored = HashMap::new();
    for (table, ids) in by_table {
        // Only a kind's own fixed table name is formatted in.
        let sql = format!("SELECT id, raw->>'updated_at' FROM {table} WHERE id = ANY($1)");
        let rows: Vec<(i64, Option<String>)> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(&ids).fetch_all(pool).await.context("reading records")?;
        stored.extend(rows.into_iter().filter_map(|(id, at)| Some(((table, id), at?))));
    }
    Ok(stored)
}

/// From the change log of the targets' tables: (rows that wrote no new
/// version, rows that went back to an older version).
async fn change_log(pool: &PgPool, targets: &[Target]) -> Result<(u64, u64)> {
    let tables: Vec<&str> = targets.iter().map(|t| t.kind.table()).collect::<HashSet<_>>().into_iter().collect();
    let (without_values, rewrites, regressions): (i64, i64, i64) = sqlx::query_as(
        "SELECT coalesce(sum(unvalued), 0)::bigint, coalesce(sum(n - versions), 0)::bigint, \
                coalesce(sum(back), 0)::bigint \
         FROM (SELECT count(*) AS n, count(DISTINCT new_values->>'source_updated_at') AS versions, \
                      count(*) FILTER (WHERE new_values IS NULL) AS unvalued, \
                      count(*) FILTER (WHERE (new_values->>'source_updated_at')::timestamptz \
                                           < (old_values->>'source_updated_at')::timestamptz) AS back \
               FROM change_log WHERE op <> 'delete' AND table_name = ANY($1) \
               GROUP BY table_name, record_id) per_record",
    )
    .bind(&tables)
    .fetch_one(pool)
    .await
    .context("reading the change log")?;
    if without_values > 0 {
        bail!("{without_values} change-log rows keep no values: the run needs AUDIT_VALUES=on to count versions");
    }
    Ok((rewrites as u64, regressions as u64))
}

/// (jobs, dead jobs, a few dead jobs' queue and error class).
async fn jobs(pool: &PgPool) -> Result<(i64, i64, Vec<String>)> {
    use job_runner::{JobState, queries::count};
    let all = count(pool, None, &JobState::ALL).await.context("counting jobs")?;
    let dead = count(pool, None, &[JobState::Dead]).await.context("counting dead jobs")?;
    let examples: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT id, queue, error_class FROM dead_jobs ORDER BY died_at LIMIT 5")
            .fetch_all(pool)
            .await
            .context("listing dead jobs")?;
    let examples = examples
        .into_iter()
        .map(|(id, queue, class)| format!("{queue} {id} ({})", class.unwrap_or_default()))
        .collect();
    Ok((all, dead, examples))
}
