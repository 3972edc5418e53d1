-- Operations: what operators did, and the audit views documented in the
-- README ("Operations"). Views show ids, states, error classes and the
-- names of changed fields, never field values or payload text.

CREATE TABLE operator_actions (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text        NOT NULL,
    action   text        NOT NULL,
    filters  jsonb       NOT NULL,
    dry_run  boolean     NOT NULL,
    -- Jobs the action touched (or would have, for a dry run).
    job_ids  text[]      NOT NULL,
    outcome  text        NOT NULL
);
CREATE INDEX operator_actions_by_time ON operator_actions (at);
CREATE INDEX operator_actions_by_job ON operator_actions USING gin (job_ids);

COMMENT ON TABLE operator_actions IS
    'Every use of an operator command (cargo xtask retry-failed): who, when, with which filters, on which jobs.';

-- Job ids are ULIDs: their first 10 characters are the enqueue time in ms
-- (Crockford base32). apalis.jobs keeps no creation time of its own.
CREATE FUNCTION ulid_time(id text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    alphabet constant text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    ms bigint := 0;
    pos int;
BEGIN
    IF id IS NULL OR length(id) <> 26 THEN
        RETURN NULL;
    END IF;
    FOR i IN 1..10 LOOP
        pos := strpos(alphabet, upper(substr(id, i, 1)));
        IF pos = 0 THEN
            RETURN NULL;
        END IF;
        ms := ms * 32 + (pos - 1);
    END LOOP;
    RETURN to_timestamp(ms / 1000.0);
END;
$$;

-- The record a job is about, from its arguments. A new job about a record
-- names it with `kind` + `object_id`/`id`, or gets a line here.
CREATE FUNCTION job_record(job_type text, args jsonb, OUT record_type text, OUT record_id bigint)
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
               WHEN args ? 'kind' AND (args ? 'object_id' OR args ? 'id') THEN args ->> 'kind'
               WHEN job_type = 'link_note' THEN 'deepcura_note'
               WHEN args ? 'clinical_note_id' THEN 'clinical_note'
               WHEN args ? 'appointment_id' THEN 'appointment'
               WHEN args ? 'patient' AND args ->> 'patient' ~ '^\d+$' THEN 'patient'
           END,
           drchrono_id(coalesce(args ->> 'object_id', args ->> 'id', args ->> 'note',
                                args ->> 'clinical_note_id', args ->> 'appointment_id',
                                args ->> 'patient'))
$$;

-- The patient a record belongs to, for "everything about patient 123".
CREATE FUNCTION record_patient(record_type text, record_id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT CASE record_type
        WHEN 'patient' THEN record_id
        WHEN 'appointment' THEN (SELECT patient_id FROM appointments WHERE id = record_id)
        WHEN 'clinical_note' THEN (SELECT patient_id FROM clinical_notes WHERE id = record_id)
        WHEN 'medication' THEN (SELECT patient_id FROM medications WHERE id = record_id)
        WHEN 'problem' THEN (SELECT patient_id FROM problems WHERE id = record_id)
        WHEN 'allergy' THEN (SELECT patient_id FROM allergies WHERE id = record_id)
        WHEN 'deepcura_note' THEN (SELECT patient_id FROM deepcura_notes WHERE id = record_id)
    END
$$;

CREATE FUNCTION table_record_type(table_name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE table_name
        WHEN 'patients' THEN 'patient' WHEN 'doctors' THEN 'doctor'
        WHEN 'appointments' THEN 'appointment' WHEN 'clinical_notes' THEN 'clinical_note'
        WHEN 'medications' THEN 'medication' WHEN 'problems' THEN 'problem'
        WHEN 'allergies' THEN 'allergy' WHEN 'deepcura_notes' THEN 'deepcura_note'
        ELSE table_name
    END
$$;

-- One row per job: its arguments (ids only), record and latest attempt.
CREATE VIEW job_overview AS
SELECT j.id, j.job_type AS queue, j.status,
       CASE j.status WHEN 'Killed' THEN 'dead' WHEN 'Failed' THEN 'retrying' WHEN 'Done' THEN 'done'
                     WHEN 'Running' THEN 'running' ELSE 'pending' END AS state,
       j.attempts, j.max_attempts, ulid_time(j.id) AS enqueued_at, j.run_at, j.done_at,
       r.record_type, r.record_id,
       a.outcome AS last_outcome, a.error_class AS last_error_class, a.message AS last_error,
       a.finished_at AS last_attempt_at, a.worker_id AS last_worker,
       coalesce(j.metadata -> 'traceparent', j.metadata -> 'trace_id') AS trace,
       convert_from(j.job, 'UTF8')::jsonb AS args
FROM apalis.jobs j
CROSS JOIN LATERAL job_record(j.job_type, convert_from(j.job, 'UTF8')::jsonb) r
LEFT JOIN LATERAL (SELECT * FROM job_attempts a WHERE a.job_id = j.id ORDER BY a.id DESC LIMIT 1) a ON true;

COMMENT ON VIEW job_overview IS
    'Every job with its state (pending, running, retrying, done, dead), record, and latest attempt.';

CREATE VIEW dead_jobs AS
SELECT id, queue, attempts, max_attempts, coalesce(last_attempt_at, done_at) AS died_at,
       last_error_class AS error_class, last_error AS message, last_worker AS worker,
       record_type, record_id, args
FROM job_overview WHERE status = 'Killed';

COMMENT ON VIEW dead_jobs IS
    'Dead jobs and why they died; cargo xtask retry-failed revives them.';

-- Everything that happened to a record, in time order:
--   SELECT * FROM record_timeline
--   WHERE record_type = 'patient' AND record_id = 123 AND at BETWEEN T1 AND T2 ORDER BY at;
-- or, with patient_id = 123, also its appointments, notes and chart entries.
-- An attempt is placed at its start; its detail is how it ended.
CREATE VIEW record_timeline AS
SELECT d.received_at AS at, 'delivery' AS source,
       coalesce(d.record_kind, CASE WHEN d.deepcura_note_id IS NOT NULL THEN 'deepcura_note' END) AS record_type,
       coalesce(d.object_id, d.deepcura_note_id) AS record_id,
       coalesce(d.patient_id, record_patient('deepcura_note', d.deepcura_note_id)) AS patient_id,
       d.source || ' ' || coalesce(d.event, '-') AS what,
       d.outcome || coalesce(': ' || d.reason, '') AS detail,
       d.job_id, d.source AS actor
FROM webhook_deliveries d
UNION ALL
SELECT o.enqueued_at, 'job', o.record_type, o.record_id, record_patient(o.record_type, o.record_id),
       'enqueued ' || o.queue, 'now ' || o.state, o.id, NULL
FROM job_overview o WHERE o.record_id IS NOT NULL
UNION ALL
SELECT a.started_at, 'attempt', o.record_type, o.record_id, record_patient(o.record_type, o.record_id),
       a.queue || ' attempt ' || a.attempt,
       a.outcome || coalesce(' ' || a.error_class || ': ' || a.message, ''), a.job_id, a.worker_id
FROM job_attempts a JOIN job_overview o ON o.id = a.job_id WHERE o.record_id IS NOT NULL
UNION ALL
SELECT c.at, 'change', table_record_type(c.table_name), c.record_id,
       CASE WHEN c.table_name = 'patients' THEN c.record_id
            ELSE drchrono_id(coalesce(c.new_values, c.old_values) ->> 'patient_id') END,
       c.table_name || ' ' || c.op,
       CASE c.op WHEN 'insert' THEN 'new row' WHEN 'delete' THEN 'row deleted'
           ELSE 'fields: ' || coalesce((SELECT string_agg(n.key, ', ' ORDER BY n.key)
                                        FROM jsonb_each(c.new_values) n
                                        WHERE n.value IS DISTINCT FROM c.old_values -> n.key
                                          AND n.key NOT IN ('raw', 'source_updated_at', 'synced_by')), '-')
       END,
       NULL, c.actor
FROM change_log c
UNION ALL
SELECT x.at, 'operator', o.record_type, o.record_id, record_patient(o.record_type, o.record_id),
       x.action || CASE WHEN x.dry_run THEN ' (dry run)' ELSE '' END, x.outcome, o.id, x.actor
FROM operator_actions x CROSS JOIN LATERAL unnest(x.job_ids) AS jid(id)
JOIN job_overview o ON o.id = jid.id WHERE o.record_id IS NOT NULL;

COMMENT ON VIEW record_timeline IS
    'Deliveries, jobs, attempts, changes and operator actions per record, for audit; filter on '
    'record_type and record_id (or patient_id) and a time range, and ORDER BY at.';
