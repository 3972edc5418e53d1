-- Operator actions on jobs and queues (README, "Discard, cancel, pause").
--
-- Two statuses join apalis's, both final and outside the active list of
-- jobs_one_active_per_key, so neither holds a dedup key, and apalis's
-- get_jobs (Pending and Failed only) never fetches either:
--   Discarded  a dead job an operator set aside: kept, and no longer dead to
--              alerts (dead_jobs, the dead-jobs metric, retry-failed filters)
--   Cancelled  a pending or retrying job an operator stopped before it ran again

-- Who discarded a job, when and why. The reason is the operator's words:
-- the README asks for causes and ticket numbers, never patient details.
CREATE TABLE job_discards (
    job_id       text        PRIMARY KEY REFERENCES apalis.jobs (id) ON DELETE CASCADE,
    discarded_at timestamptz NOT NULL DEFAULT now(),
    discarded_by text        NOT NULL,
    reason       text        CHECK (length(reason) <= 500)
);

COMMENT ON TABLE job_discards IS
    'Dead jobs an operator discarded (cargo xtask jobs discard): who, when, why. Pruned with the job.';

-- A queue listed here is paused on every replica: no worker claims its jobs.
CREATE TABLE paused_queues (
    queue     text        PRIMARY KEY,
    paused_at timestamptz NOT NULL DEFAULT now(),
    paused_by text        NOT NULL
);

COMMENT ON TABLE paused_queues IS
    'Queues paused by cargo xtask jobs pause: enqueues go on, no worker claims their jobs until resume.';

-- The pause is enforced where a worker claims a job, not in each process:
-- the claim that follows the pause's commit skips the row, on every replica
-- and on a replica still running an older binary. Returning NULL leaves the
-- row as it was, so apalis's get_jobs simply returns fewer jobs. A job
-- already claimed (Queued or Running) goes on and finishes.
CREATE FUNCTION job_hold_paused() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM paused_queues WHERE queue = NEW.job_type) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END;
$$;

-- Only claims pay for the function: the WHEN clause is checked without it.
CREATE TRIGGER job_hold_paused
    BEFORE UPDATE ON apalis.jobs
    FOR EACH ROW
    WHEN (OLD.status IN ('Pending', 'Failed') AND NEW.status IN ('Queued', 'Running'))
    EXECUTE FUNCTION job_hold_paused();

-- Existing columns keep their names, types and meaning (state gains two
-- values); the discard's who, when and why are new columns at the end.
CREATE OR REPLACE VIEW job_overview AS
SELECT j.id, j.job_type AS queue, j.status,
       CASE j.status WHEN 'Killed' THEN 'dead' WHEN 'Failed' THEN 'retrying' WHEN 'Done' THEN 'done'
                     WHEN 'Running' THEN 'running' WHEN 'Cancelled' THEN 'cancelled'
                     WHEN 'Discarded' THEN 'discarded' ELSE 'pending' END AS state,
       j.attempts, j.max_attempts, ulid_time(j.id) AS enqueued_at, j.run_at, j.done_at,
       r.record_type, r.record_id,
       a.outcome AS last_outcome, a.error_class AS last_error_class, a.message AS last_error,
       a.finished_at AS last_attempt_at, a.worker_id AS last_worker,
       coalesce(j.metadata -> 'traceparent', j.metadata -> 'trace_id') AS trace,
       convert_from(j.job, 'UTF8')::jsonb AS args,
       d.discarded_at, d.discarded_by, d.reason AS discard_reason
FROM apalis.jobs j
CROSS JOIN LATERAL job_record(j.job_type, convert_from(j.job, 'UTF8')::jsonb) r
LEFT JOIN LATERAL (SELECT * FROM job_attempts a WHERE a.job_id = j.id ORDER BY a.id DESC LIMIT 1) a ON true
LEFT JOIN job_discards d ON d.job_id = j.id;

COMMENT ON VIEW job_overview IS
    'Every job with its state (pending, running, retrying, done, dead, cancelled, discarded), record, '
    'latest attempt, and who discarded it.';
