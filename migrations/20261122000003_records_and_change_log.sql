-- Every DrChrono record type the service mirrors, and the change log.
--
-- Each table keeps the DrChrono id (primary key), chosen columns, the raw
-- JSON as DrChrono serialized it, the source's updated_at and who wrote the
-- row. Upserts (jobs/src/domain/sql/*.sql) are idempotent and stale-safe.

-- DrChrono ids arrive as numbers or numeric strings; anything else is NULL.
CREATE FUNCTION drchrono_id(v text) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN v ~ '^\s*-?\d{1,18}\s*$' THEN trim(v)::bigint END
$$;

-- DrChrono times: YYYY-MM-DD, naive YYYY-MM-DDTHH:MM:SS or with a space,
-- in the practice's zone unless an offset is given. Unparseable gives NULL.
CREATE FUNCTION drchrono_time(v text, zone text) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- Postgres would also accept words such as 'yesterday'; DrChrono never sends them.
    IF v IS NULL OR v !~ '^\d{4}-\d{2}-\d{2}' THEN
        RETURN NULL;
    ELSIF v ~ '\d\d:\d\d(:\d\d(\.\d+)?)?\s*(Z|[+-]\d\d(:?\d\d)?)$' THEN
        RETURN v::timestamptz;
    ELSE
        RETURN replace(v, ' ', 'T')::timestamp AT TIME ZONE zone;
    END IF;
EXCEPTION WHEN others THEN
    RETURN NULL;
END;
$$;

CREATE FUNCTION drchrono_date(v text) RETURNS date
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN CASE WHEN v ~ '^\d{4}-\d{2}-\d{2}' THEN left(v, 10)::date END;
EXCEPTION WHEN others THEN
    RETURN NULL;
END;
$$;

CREATE TABLE doctors (
    id                bigint PRIMARY KEY,
    first_name        text,
    last_name         text,
    specialty         text,
    npi_number        text,
    raw               jsonb       NOT NULL,
    source_updated_at timestamptz,
    synced_at         timestamptz NOT NULL DEFAULT now(),
    synced_by         text        NOT NULL
);

CREATE TABLE appointments (
    id                bigint PRIMARY KEY,
    patient_id        bigint,
    doctor_id         bigint,
    office_id         bigint,
    scheduled_time    timestamptz,
    duration_minutes  integer,
    status            text,
    deleted           boolean     NOT NULL DEFAULT false,
    raw               jsonb       NOT NULL,
    source_updated_at timestamptz,
    synced_at         timestamptz NOT NULL DEFAULT now(),
    synced_by         text        NOT NULL
);
CREATE INDEX appointments_by_patient ON appointments (patient_id, scheduled_time);

CREATE TABLE clinical_notes (
    id                bigint PRIMARY KEY,
    patient_id        bigint,
    doctor_id         bigint,
    appointment_id    bigint,
    note_date         date,
    locked            boolean     NOT NULL DEFAULT false,
    archived          boolean     NOT NULL DEFAULT false,
    raw               jsonb       NOT NULL,
    source_updated_at timestamptz,
    synced_at         timestamptz NOT NULL DEFAULT now(),
    synced_by         text        NOT NULL
);
CREATE INDEX clinical_notes_by_patient ON clinical_notes (patient_id, note_date);
CREATE INDEX clinical_notes_by_appointment ON clinical_notes (appointment_id);

CREATE TABLE medications (
    id                bigint PRIMARY KEY,
    patient_id        bigint,
    doctor_id         bigint,
    name              text,
    rxnorm            text,
    status            text,
    date_prescribed   date,
    raw               jsonb       NOT NULL,
    source_updated_at timestamptz,
    synced_at         timestamptz NOT NULL DEFAULT now(),
    synced_by         text        NOT NULL
);
CREATE INDEX medications_by_patient ON medications (patient_id);

CREATE TABLE problems (
    id                bigint PRIMARY KEY,
    patient_id        bigint,
    doctor_id         bigint,
    name              text,
    icd_code          text,
    status            text,
    date_diagnosis    date,
    raw               jsonb       NOT NULL,
    source_updated_at timestamptz,
    synced_at         timestamptz NOT NULL DEFAULT now(),
    synced_by         text        NOT NULL
);
CREATE INDEX problems_by_patient ON problems (patient_id);

CREATE TABLE allergies (
    id                bigint PRIMARY KEY,
    patient_id        bigint,
    doctor_id         bigint,
    description       text,
    reaction          text,
    status            text,
    raw               jsonb       NOT NULL,
    source_updated_at timestamptz,
    synced_at         timestamptz NOT NULL DEFAULT now(),
    synced_by         text        NOT NULL
);
CREATE INDEX allergies_by_patient ON allergies (patient_id);

-- The inbox learns which record a delivery carries, so the upsert job can
-- apply the newest version of that record (coalescing).
ALTER TABLE webhook_deliveries
    ADD COLUMN record_kind text,
    ADD COLUMN patient_id bigint,
    ADD COLUMN object_updated_at timestamptz,
    DROP CONSTRAINT webhook_deliveries_outcome_check,
    ADD CONSTRAINT webhook_deliveries_outcome_check CHECK (outcome IN
        ('accepted', 'duplicate', 'unhandled', 'not_modelled', 'ping', 'rejected_auth', 'malformed'));
CREATE INDEX webhook_deliveries_by_record
    ON webhook_deliveries (record_kind, object_id, object_updated_at DESC, id DESC);
CREATE INDEX webhook_deliveries_by_patient ON webhook_deliveries (patient_id, received_at);

-- The audit of every change to a domain row: who, what, when, before and after.
CREATE TABLE change_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    table_name  text        NOT NULL,
    record_id   bigint      NOT NULL,
    op          text        NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    actor       text,
    old_values  jsonb,
    new_values  jsonb
);
CREATE INDEX change_log_by_record ON change_log (table_name, record_id, id);
CREATE INDEX change_log_by_time ON change_log (at);

COMMENT ON TABLE change_log IS
    'Written by triggers on the domain tables. Each change also sends NOTIFY drchrono_sync_changes '
    'with {"table","id","op"} (no PHI) for downstream consumers.';

CREATE FUNCTION record_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    rid   bigint;
    actor text;
    op    text := lower(TG_OP);
BEGIN
    IF TG_OP = 'DELETE' THEN
        rid := OLD.id;
        actor := coalesce(current_setting('drchrono_sync.actor', true), OLD.synced_by);
    ELSE
        rid := NEW.id;
        actor := NEW.synced_by;
    END IF;
    INSERT INTO change_log (table_name, record_id, op, actor, old_values, new_values)
    VALUES (TG_TABLE_NAME, rid, op, actor,
            CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) - 'synced_at' END,
            CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) - 'synced_at' END);
    PERFORM pg_notify('drchrono_sync_changes',
                      json_build_object('table', TG_TABLE_NAME, 'id', rid, 'op', op)::text);
    RETURN NULL;
END;
$$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['patients', 'doctors', 'appointments', 'clinical_notes',
                             'medications', 'problems', 'allergies'] LOOP
        EXECUTE format('CREATE TRIGGER record_change AFTER INSERT OR UPDATE OR DELETE ON %I '
                       'FOR EACH ROW EXECUTE FUNCTION record_change()', t);
    END LOOP;
END;
$$;
