-- The audit keeps who, what and when, not the PHI itself: table, id,
-- operation, actor, time, the names of the changed fields and a keyed hash
-- of each old and new value, so that equality can still be proven. Values
-- are kept only while the session says `drchrono_sync.audit_values = on`
-- (AUDIT_VALUES), and cleanup empties them after RETENTION_AUDIT_VALUES_DAYS.
-- The hash key comes from the session (`drchrono_sync.audit_key`, set by the
-- service's pool from TOKEN_ENCRYPTION_KEY), never from the database.
ALTER TABLE change_log
    ADD COLUMN changed_fields text[],
    ADD COLUMN old_hashes     jsonb,
    ADD COLUMN new_hashes     jsonb,
    ADD COLUMN patient_id     bigint;

-- Rows written before: their fields and patient, from the values they copied.
UPDATE change_log c SET
    changed_fields = ARRAY(SELECT k FROM jsonb_object_keys(coalesce(c.new_values, c.old_values)) AS k
                           WHERE (c.old_values -> k) IS DISTINCT FROM (c.new_values -> k) ORDER BY k),
    patient_id = CASE WHEN c.table_name = 'patients' THEN c.record_id
                      ELSE drchrono_id(coalesce(c.new_values, c.old_values) ->> 'patient_id') END;

CREATE INDEX change_log_values_kept ON change_log (at) WHERE old_values IS NOT NULL OR new_values IS NOT NULL;

-- SHA-256 of the session's key followed by the value's JSON text; NULL when
-- the session has no key.
CREATE FUNCTION audit_hash(value jsonb) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN coalesce(current_setting('drchrono_sync.audit_key', true), '') = '' THEN NULL
           ELSE encode(sha256(decode(current_setting('drchrono_sync.audit_key', true), 'hex')
                              || convert_to(coalesce(value::text, 'null'), 'UTF8')), 'hex') END
$$;

CREATE OR REPLACE FUNCTION record_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    rid     bigint;
    actor   text;
    op      text := lower(TG_OP);
    omitted text[] := coalesce(TG_ARGV, '{}'::text[]) || ARRAY['synced_at'];
    old_row jsonb;
    new_row jsonb;
    fields  text[];
    keep    boolean := coalesce(current_setting('drchrono_sync.audit_values', true), '') = 'on';
BEGIN
    IF TG_OP = 'DELETE' THEN
        rid := OLD.id;
        actor := coalesce(current_setting('drchrono_sync.actor', true), OLD.synced_by);
    ELSE
        rid := NEW.id;
        actor := NEW.synced_by;
    END IF;
    old_row := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) - omitted END;
    new_row := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) - omitted END;
    fields := ARRAY(SELECT k FROM jsonb_object_keys(coalesce(new_row, old_row)) AS k
                    WHERE (old_row -> k) IS DISTINCT FROM (new_row -> k) ORDER BY k);
    INSERT INTO change_log (table_name, record_id, op, actor, changed_fields, old_hashes, new_hashes,
                            patient_id, old_values, new_values)
    VALUES (TG_TABLE_NAME, rid, op, actor, fields,
            CASE WHEN old_row IS NOT NULL THEN
                (SELECT jsonb_object_agg(k, audit_hash(old_row -> k)) FROM unnest(fields) AS k) END,
            CASE WHEN new_row IS NOT NULL THEN
                (SELECT jsonb_object_agg(k, audit_hash(new_row -> k)) FROM unnest(fields) AS k) END,
            CASE WHEN TG_TABLE_NAME = 'patients' THEN rid
                 ELSE drchrono_id(coalesce(new_row, old_row) ->> 'patient_id') END,
            CASE WHEN keep THEN old_row END,
            CASE WHEN keep THEN new_row END);
    PERFORM pg_notify('drchrono_sync_changes',
                      json_build_object('table', TG_TABLE_NAME, 'id', rid, 'op', op)::text);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE VIEW record_timeline AS
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
SELECT c.at, 'change', table_record_type(c.table_name), c.record_id, c.patient_id,
       c.table_name || ' ' || c.op,
       CASE c.op WHEN 'insert' THEN 'new row' WHEN 'delete' THEN 'row deleted'
           ELSE 'fields: ' || coalesce((SELECT string_agg(f, ', ' ORDER BY f) FROM unnest(c.changed_fields) AS f
                                        WHERE f NOT IN ('raw', 'source_updated_at', 'synced_by')), '-')
       END,
       NULL, c.actor
FROM change_log c
UNION ALL
SELECT x.at, 'operator', o.record_type, o.record_id, record_patient(o.record_type, o.record_id),
       x.action || CASE WHEN x.dry_run THEN ' (dry run)' ELSE '' END, x.outcome, o.id, x.actor
FROM operator_actions x CROSS JOIN LATERAL unnest(x.job_ids) AS jid(id)
JOIN job_overview o ON o.id = jid.id WHERE o.record_id IS NOT NULL;
