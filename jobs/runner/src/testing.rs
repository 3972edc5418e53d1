//! Direct writes to the job table that test harnesses and benchmarks need
//! and the service never does: forcing a state, making a job due now,
//! ageing finished jobs, raw rows. Compiled with the `testing` feature.

use sqlx::PgExecutor;

use crate::JobState;

/// Inserts a pending job row as-is, bypassing [`crate::enqueue`]: for rows
/// of a shape the runner must survive (a payload of the wrong type).
pub async fn insert_raw<'e>(
    db: impl PgExecutor<'e>,
    id: &str,
    queue: &str,
    payload: &[u8],
    max_attempts: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO apalis.jobs (id, job_type, job, max_attempts) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(queue)
        .bind(payload)
        .bind(max_attempts)
        .execute(db)
        .await?;
    Ok(())
}

/// Inserts dead jobs of `queue` with empty arguments, one per id, each
/// having used `attempts` of `attempts`.
pub async fn insert_dead<'e>(
    db: impl PgExecutor<'e>,
    queue: &str,
    ids: &[String],
    attempts: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, priority) \
         SELECT id, $2, convert_to('{}', 'UTF8'), $3, $4, $4, now(), 0 FROM unnest($1::text[]) AS t(id)",
    )
    .bind(ids)
    .bind(queue)
    .bind(JobState::Dead.db_status())
    .bind(attempts)
    .execute(db)
    .await?;
    Ok(())
}

/// Puts job `id` in `state` directly (`done_at` set for done and dead).
pub async fn force_state<'e>(db: impl PgExecutor<'e>, id: &str, state: JobState) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE apalis.jobs SET status = $2, \
         done_at = CASE WHEN $2 = ANY($3) THEN now() ELSE done_at END WHERE id = $1",
    )
    .bind(id)
    .bind(state.db_status())
    .bind(JobState::db_statuses(&[JobState::Done, JobState::Dead]))
    .execute(db)
    .await?;
    Ok(())
}

/// Marks every job done, as if all had run.
pub async fn finish_all<'e>(db: impl PgExecutor<'e>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE apalis.jobs SET status = $1, done_at = now()")
        .bind(JobState::Done.db_status())
        .execute(db)
        .await?;
    Ok(())
}

/// Makes job `id` due now, whatever its state: a retry's backoff or a
/// deferral is skipped. Returns whether the job exists.
pub async fn make_due<'e>(db: impl PgExecutor<'e>, id: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("UPDATE apalis.jobs SET run_at = now() WHERE id = $1").bind(id).execute(db).await?.rows_affected()
        > 0)
}

/// Makes every waiting job (pending or retrying) due now; returns how many.
pub async fn make_all_due<'e>(db: impl PgExecutor<'e>) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("UPDATE apalis.jobs SET run_at = now() WHERE status = ANY($1) AND run_at > now()")
        .bind(JobState::db_statuses(&[JobState::Pending, JobState::Retrying]))
        .execute(db)
        .await?
        .rows_affected())
}

/// Sets the `run_at` of every job of `queue` to `secs` seconds ago, so it
/// has waited that long.
pub async fn backdate_run_at<'e>(db: impl PgExecutor<'e>, queue: &str, secs: f64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE apalis.jobs SET run_at = now() - make_interval(secs => $2) WHERE job_type = $1")
        .bind(queue)
        .bind(secs)
        .execute(db)
        .await?;
    Ok(())
}

/// Sets the `done_at` of every job to `days` days ago, as retention sees it.
pub async fn age_finished<'e>(db: impl PgExecutor<'e>, days: i32) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE apalis.jobs SET done_at = now() - make_interval(days => $1)").bind(days).execute(db).await?;
    Ok(())
}

/// Deletes every job (benchmarks start from an empty table).
pub async fn delete_all<'e>(db: impl PgExecutor<'e>) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM apalis.jobs").execute(db).await?;
    Ok(())
}

/// Every job in the table, of any queue.
pub async fn count_all<'e>(db: impl PgExecutor<'e>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM apalis.jobs").fetch_one(db).await
}

/// `count` finished jobs with one attempt each, for benchmarks over a full
/// table: done over the last `count * spacing_secs` seconds, one in 100,000
/// dead, retrying or pending instead, over four queues. Ids sort by age,
/// as ULIDs do, but do not decode to the finish time.
pub async fn seed_finished(pool: &sqlx::PgPool, count: i64, spacing_secs: f64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, done_at, priority) \
         SELECT '01' || lpad(upper(to_hex(i)), 24, '0'), \
                (ARRAY['upsert_record', 'fetch_record', 'link_note', 'archive_pdf'])[1 + i % 4], \
                convert_to(json_build_object('kind', 'patient', 'object_id', 1000 + i % 5000)::text, 'UTF8'), \
                CASE WHEN i % 100000 = 1 THEN 'Killed' WHEN i % 100000 = 2 THEN 'Failed' \
                     WHEN i % 100000 = 3 THEN 'Pending' ELSE 'Done' END, \
                1, 10, now() - make_interval(secs => ($1 - i) * $2), now() - make_interval(secs => ($1 - i) * $2), 0 \
         FROM generate_series(1, $1::bigint) AS i",
    )
    .bind(count)
    .bind(spacing_secs)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO job_attempts (job_id, queue, attempt, worker_id, started_at, finished_at, outcome) \
         SELECT id, job_type, 1, 'bench-worker', done_at - interval '20 ms', done_at, \
                CASE WHEN status = 'Killed' THEN 'failed' ELSE 'succeeded' END \
         FROM apalis.jobs WHERE status IN ('Done', 'Killed')",
    )
    .execute(pool)
    .await?;
    Ok(())
}
