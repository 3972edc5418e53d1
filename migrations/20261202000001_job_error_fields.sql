-- A failed attempt's class, message and known wait arrive as fields of a
-- JSON object (jobs/runner/src/error.rs, `StoredError`), not as the first
-- word of a message. apalis stores that object's text as `last_result.Err`;
-- the trigger reads its fields and keeps it in the row as an object, so
-- `last_result -> 'Err' ->> 'class'` answers in plain SQL.
--
-- An error that is not such an object (apalis's own) is stored as
-- {"class": "unclassified", "message": ...} and retried with backoff; a job
-- taken back from a lost worker as {"class": "worker_lost", ...}. So every
-- failed row answers `last_result -> 'Err' ->> 'class'`.
--
-- Nothing here may raise: apalis acknowledges results in batches, and one
-- error would fail the whole batch's update.

DROP FUNCTION job_error_class(text);
DROP FUNCTION job_error_message(text);

CREATE FUNCTION job_error_fields(msg text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF left(ltrim(msg), 1) = '{' THEN
        RETURN msg::jsonb;
    END IF;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END;
$$;

CREATE FUNCTION job_error_time(value text) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN value::timestamptz;
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION job_harden_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    msg     text;
    err     jsonb;
    class   text;
    message text;
    wait    timestamptz;
BEGIN

    -- A worker reports a failed attempt (apalis's handle_result keeps lock_by).
    -- Successes are recorded per statement by job_record_successes.
    IF NEW.lock_by IS NOT NULL AND NEW.status IN ('Failed', 'Killed', 'Pending') THEN
        msg := coalesce(NEW.last_result ->> 'Err', NEW.last_result::text);
        err := job_error_fields(msg);
        class := coalesce(err ->> 'class', 'unclassified');
        message := left(coalesce(err ->> 'message', msg), 2000);
        NEW.last_result := jsonb_build_object('Err', coalesce(err, jsonb_build_object('class', class, 'message', message)));
        IF class = 'wait_until' THEN
            wait := job_error_time(err ->> 'retry_at');
        END IF;
        IF wait IS NOT NULL THEN
            PERFORM job_record_attempt(NEW, NEW.attempts, OLD.lock_at, 'deferred', class, message, OLD.lock_by);
            -- A known wait does not use up an attempt.
            NEW.attempts := OLD.attempts;
            NEW.status := 'Pending';
            NEW.run_at := wait;
            RETURN NEW;
        END IF;
        PERFORM job_record_attempt(NEW, NEW.attempts, OLD.lock_at, 'failed', class, message, OLD.lock_by);
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
        NEW.last_result := jsonb_build_object('Err', jsonb_build_object(
            'class', 'worker_lost', 'message', 'the worker holding the job stopped heartbeating'));
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
