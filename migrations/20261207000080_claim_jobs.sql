-- Pick-up in one round trip (jobs/runner/src/claim.rs).
--
-- apalis-postgres fetches with BEGIN, SELECT * FROM apalis.get_jobs(..),
-- COMMIT, and waits for the claim's WAL to reach disk before the handler can
-- start. job_claim makes the same selection and the same update as
-- get_jobs, called as one statement in autocommit. PL/pgSQL keeps its plan
-- for the session; get_jobs, a LANGUAGE sql function, is planned on every call.
--
-- The claim's commit does not wait for the disk (synchronous_commit off for
-- this transaction only). What the claim writes is only which worker holds
-- the job; losing it to a server crash within the WAL writer's delay puts the
-- job back where it was before the claim, due and claimable, and the job runs
-- again, as any job may (every job is idempotent). Nothing durable can rest on
-- a lost claim: any later commit that waits for the disk (the attempt's
-- result, the orphan reaper, a handler's own writes) flushes the WAL up to
-- itself, the claim included. A client process that dies loses nothing: the
-- server flushes the WAL on its own. Attempts are counted where they always
-- were, at the result or by the orphan reaper, never here.
--
-- Claimed rows are Queued under the worker's id, as get_jobs leaves them, so
-- everything after the claim is unchanged: the lock to Running when the
-- attempt starts, results, the release of unstarted jobs at shutdown without
-- using an attempt, orphan rescue, and job_hold_paused, which skips a paused
-- queue's rows so that they are not returned. The predicate and order are
-- get_jobs's, which idx_apalis_jobs_fetch_partial serves; a failed job whose
-- attempts are used up is never claimed. The chosen ids reach the update as
-- an array, so it finds them by primary key: joined to a subquery instead,
-- the planner may hash-join against a scan of the whole table.
CREATE FUNCTION job_claim(worker text, queue text, batch integer)
RETURNS SETOF apalis.jobs
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    RETURN QUERY
    UPDATE apalis.jobs
       SET status = 'Queued', lock_by = worker, lock_at = now()
     WHERE id = ANY (ARRAY (
        SELECT id FROM apalis.jobs
        WHERE job_type = queue
          AND (status = 'Pending' OR (status = 'Failed' AND attempts < max_attempts))
          AND run_at < now()
        ORDER BY priority DESC, run_at ASC
        LIMIT batch
        FOR UPDATE SKIP LOCKED))
    RETURNING *;
END;
$$;

COMMENT ON FUNCTION job_claim(text, text, integer) IS
    'Claims up to batch due jobs of queue for worker in one statement, as Queued; the job runner''s fetch.';
