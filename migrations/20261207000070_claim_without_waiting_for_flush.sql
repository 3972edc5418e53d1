-- A worker's claim of its next jobs commits without waiting for its WAL
-- flush: apalis fetches in a transaction of its own (BEGIN, get_jobs,
-- COMMIT), and that commit's flush was the largest part of the time from
-- a job's insert to its handler's start.
--
-- Why it is safe: a claim lost to a crash of Postgres leaves the job
-- Pending, as if the crash had come before the claim, and the job runs
-- again (jobs are idempotent; a worker's crash after its claim ends the
-- same way). Anything the handler then commits, its own writes or the
-- job's result, flushes the WAL up to its commit and so the claim with it.
-- Only this function's transaction is affected (`set_config(..., true)`).
--
-- The body is apalis-postgres 1.0's own (migration
-- 20260902075949_remove_pl_in_get_jobs), unchanged after the first line.
CREATE OR REPLACE FUNCTION apalis.get_jobs(
    worker_id TEXT,
    v_job_type TEXT,
    v_job_count INTEGER DEFAULT 5
)
RETURNS SETOF apalis.jobs
LANGUAGE sql
VOLATILE
AS $$
    SELECT set_config('synchronous_commit', 'off', true);
    WITH jobs AS (
        SELECT id
        FROM apalis.jobs
        WHERE
            (
                status = 'Pending'
                OR (
                    status = 'Failed'
                    AND attempts < max_attempts
                )
            )
            AND run_at < now()
            AND job_type = v_job_type
        ORDER BY priority DESC, run_at ASC
        LIMIT v_job_count
        FOR UPDATE SKIP LOCKED
    )
    UPDATE apalis.jobs j
    SET
        status = 'Queued',
        lock_by = worker_id,
        lock_at = now()
    FROM jobs
    WHERE j.id = jobs.id
    RETURNING j.*;
$$;
