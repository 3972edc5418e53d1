-- The job-insert notification: once per statement and queue, not once per
-- row, and not at all from a transaction that notifies after its commit.
--
-- Why: a transaction that notifies takes Postgres's notification lock at
-- commit and keeps it through its WAL flush, so notifying commits cannot
-- share a flush; they queue for the disk one by one. Measured with pgbench
-- (one inbox row and one job row per transaction, 32 clients), the per-row
-- trigger alone cut the rate to a fifth. The webhook group commit sets
-- `drchrono_sync.notify_after_commit` for its transaction and notifies in a
-- statement of its own once committed, which holds the lock for no flush.
-- Workers read only `job_type` from the payload; a notification lost to a
-- crash between the commit and the notify is covered by the fallback poll.
DROP TRIGGER IF EXISTS notify_workers ON apalis.jobs;

CREATE OR REPLACE FUNCTION apalis.notify_new_jobs() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('drchrono_sync.notify_after_commit', true) = 'on' THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('apalis::job::insert', json_build_object('job_type', q.job_type)::text)
    FROM (SELECT DISTINCT job_type FROM inserted WHERE run_at <= now()) q;
    RETURN NULL;
END;
$$;

CREATE TRIGGER notify_workers
    AFTER INSERT ON apalis.jobs
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION apalis.notify_new_jobs();
