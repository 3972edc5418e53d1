-- Hardening of apalis-postgres 1.0's job table (see DESIGN.md, "The job runner").
--
-- Status values after this migration:
--   Pending  waiting to run at run_at (new, deferred, or rescued from a dead worker)
--   Queued   fetched by a worker, not yet started
--   Running  started by a worker
--   Failed   an attempt failed; the retry waits for run_at (never "exhausted": see Killed)
--   Done     succeeded
--   Killed   dead: attempts exhausted or a permanent error; only retry-failed revives it
--
-- Everything here is enforced inside the database, so it holds on every path
-- (worker result, orphan rescue, graceful shutdown) and for every replica.

-- Defect 5: a payload that is not JSON cannot enter the table. Workers decode
-- rows as generic JSON and each job decodes its own arguments, so a row of the
-- wrong shape fails that job alone.
ALTER TABLE apalis.jobs
    ADD CONSTRAINT jobs_payload_is_json
    CHECK ((convert_from(job, 'UTF8')::jsonb) IS NOT NULL);

-- Defect 7: "one active job per key" replaces apalis's unique-forever key.
DROP INDEX IF EXISTS apalis.idx_jobs_idempotency_key;
CREATE UNIQUE INDEX jobs_one_active_per_key
    ON apalis.jobs (job_type, idempotency_key)
    WHERE status IN ('Pending', 'Queued', 'Running', 'Failed');

CREATE INDEX jobs_dead ON apalis.jobs (job_type, done_at) WHERE status = 'Killed';

-- apalis 1.0 leaves two redundant indexes from its first schema: `lidx`
-- duplicates idx_apalis_jobs_lock_by and `unique_job_id` duplicates the
-- primary key. Every job writes three row versions, each paying for them.
DROP INDEX IF EXISTS apalis.lidx;
DROP INDEX IF EXISTS apalis.unique_job_id;

-- Defect 9: one row per attempt, kept after the job's own row is overwritten.
CREATE TABLE job_attempts (
    id          bigserial PRIMARY KEY,
    job_id      text        NOT NULL,
    queue       text        NOT NULL,
    attempt     integer     NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    outcome     text        NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'deferred', 'orphaned')),
    error_class text,
    message     text,
    worker_id   text,
    trace_id    text
);
CREATE INDEX job_attempts_by_job ON job_attempts (job_id, id);
CREATE INDEX job_attempts_by_time ON job_attempts (finished_at);

COMMENT ON TABLE job_attempts IS
    'One row per job attempt: start, end, outcome, PHI-free error class and message, worker and trace.';

-- Defect 1: exponential backoff with jitter, bounded: 5 s, 10 s, 20 s, ... at most 1 h, each +-25 %.
CREATE FUNCTION job_backoff(attempt integer) RETURNS interval
LANGUAGE sql VOLATILE AS $$
    SELECT least(interval '1 hour', interval '5 seconds' * power(2, greatest(attempt, 1) - 1))
           * (0.75 + random() * 0.5)
$$;

-- Error strings are written by the runner as "<class>: <message>", or
-- "wait_until@<RFC 3339 time>: <message>" for a known wait. See jobs/src/runner/error.rs.
CREATE FUNCTION job_error_class(msg text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(substring(msg FROM '^([a-z_]+)[:@]'), 'unclassified')
$$;

CREATE FUNCTION job_error_message(msg text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT left(coalesce(substring(msg FROM '^[a-z_]+(?:@\S+)?: (.*)$'), msg), 2000)
$$;

CREATE FUNCTION job_record_attempt(j apalis.jobs, attempt integer, started timestamptz,
                                   outcome text, class text, message text, worker text)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO job_attempts (job_id, queue, attempt, started_at, finished_at, outcome,
                              error_class, message, worker_id, trace_id)
    VALUES (j.id, j.job_type, attempt, coalesce(started, now()), clock_timestamp(), outcome,
            class, message, worker, j.metadata -> 'trace_id')
$$;

-- Defects 1, 2 and 9 in one place: every transition out of a worker's hands
-- passes through here.
CREATE FUNCTION job_harden_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    msg   text;
    class text;
    wait  timestamptz;
BEGIN

    -- A worker reports a failed attempt (apalis's handle_result keeps lock_by).
    -- Successes are recorded per statement by job_record_successes.
    IF NEW.lock_by IS NOT NULL AND NEW.status IN ('Failed', 'Killed', 'Pending') THEN
        msg := coalesce(NEW.last_result ->> 'Err', NEW.last_result::text);
        class := job_error_class(msg);
        IF class = 'wait_until' THEN
            wait := substring(msg FROM '^wait_until@(\S+): ')::timestamptz;
        END IF;
        IF wait IS NOT NULL THEN
            PERFORM job_record_attempt(NEW, NEW.attempts, OLD.lock_at, 'deferred', class,
                                       job_error_message(msg), OLD.lock_by);
            -- A known wait does not use up an attempt.
            NEW.attempts := OLD.attempts;
            NEW.status := 'Pending';
            NEW.run_at := wait;
            RETURN NEW;
        END IF;
        PERFORM job_record_attempt(NEW, NEW.attempts, OLD.lock_at, 'failed', class,
                                   job_error_message(msg), OLD.lock_by);
        IF class IN ('permanent', 'bad_payload') OR NEW.attempts >= NEW.max_attempts THEN
            NEW.status := 'Killed';
        ELSE
            NEW.status := 'Failed';
            NEW.run_at := now() + job_backoff(NEW.attempts);
        END IF;
        RETURN NEW;
    END IF;

    -- A job taken back from a worker (apalis clears lock_by).
    IF NEW.lock_by IS NULL AND NEW.status = 'Pending' THEN
        IF OLD.status = 'Queued' AND NEW.last_result ->> 'Err' LIKE '%worker shutdown%' THEN
            -- Buffered but never started by a worker that stopped cleanly: no attempt used.
            NEW.attempts := OLD.attempts;
            RETURN NEW;
        END IF;
        -- The worker stopped heartbeating while holding the job: count an attempt,
        -- so that a job that kills its process ends dead instead of looping.
        PERFORM job_record_attempt(NEW, NEW.attempts, OLD.lock_at, 'orphaned', 'worker_lost',
                                   'the worker holding the job stopped heartbeating', OLD.lock_by);
        IF NEW.attempts >= NEW.max_attempts THEN
            NEW.status := 'Killed';
            NEW.done_at := now();
        ELSE
            NEW.run_at := now() + job_backoff(NEW.attempts);
        END IF;
        RETURN NEW;
    END IF;

    RETURN NEW;
END;
$$;

-- The WHEN clause is evaluated without entering PL/pgSQL, so fetches, locks
-- and successes (the hot path) never pay for the function.
CREATE TRIGGER job_harden_update
    BEFORE UPDATE ON apalis.jobs
    FOR EACH ROW
    WHEN (OLD.status IN ('Queued', 'Running') AND NEW.status IN ('Failed', 'Killed', 'Pending'))
    EXECUTE FUNCTION job_harden_update();

-- Successful attempts, one INSERT per UPDATE statement: apalis acknowledges
-- results in batches, and a row-level insert per job halved throughput.
CREATE FUNCTION job_record_successes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_attempts (job_id, queue, attempt, started_at, finished_at, outcome,
                              worker_id, trace_id)
    SELECT n.id, n.job_type, n.attempts, coalesce(o.lock_at, now()), clock_timestamp(),
           'succeeded', o.lock_by, n.metadata -> 'trace_id'
    FROM done_rows n
    JOIN before_rows o ON o.id = n.id
    WHERE n.status = 'Done' AND o.status IN ('Queued', 'Running');
    RETURN NULL;
END;
$$;

CREATE TRIGGER job_record_successes
    AFTER UPDATE ON apalis.jobs
    REFERENCING OLD TABLE AS before_rows NEW TABLE AS done_rows
    FOR EACH STATEMENT EXECUTE FUNCTION job_record_successes();
