-- The rest of the practice's records: lab orders and their results, lab
-- results entered in the chart, staff
-- tasks and billing line items. Each is mirrored as the other kinds are: the
-- columns a practice queries, `raw` for the rest, `change_log` through
-- `record_change`, and `removed_at` for what a complete walk no longer lists
-- or a `*_DELETE` event removed (`deleted`).

-- Amounts as DrChrono sends them (a JSON number or a numeric string), kept
-- exact. Anything else is NULL rather than a failed upsert.
CREATE FUNCTION drchrono_money(v text) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN v ~ '^\s*-?\d{1,15}(\.\d+)?\s*$' THEN trim(v)::numeric END
$$;

-- The text elements of a JSON array (modifiers, diagnosis pointers, codes).
CREATE FUNCTION json_texts(v jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(v) = 'array'
                THEN coalesce((SELECT array_agg(nullif_blank(e)) FILTER (WHERE nullif_blank(e) IS NOT NULL)
                               FROM jsonb_array_elements_text(v) e), '{}')
                ELSE '{}' END
$$;

CREATE TABLE lab_orders (
    id                bigint PRIMARY KEY,
    patient_id        bigint,
    doctor_id         bigint,
    sublab_id         bigint,
    -- HL7 ORC.5: N not sent, Q queued, A ABN required, S send, R results received, E error.
    status            text,
    -- N normal, S STAT.
    priority          text,
    requisition_id    text,
    accession_number  text,
    ordered_at        timestamptz,
    icd10_codes       text[]      NOT NULL DEFAULT '{}',
    deleted           boolean     NOT NULL DEFAULT false,
    raw               jsonb       NOT NULL,
    source_updated_at timestamptz,
    synced_at         timestamptz NOT NULL DEFAULT now(),
    synced_by         text        NOT NULL,
    removed_at        timestamptz
);
CREATE INDEX lab_orders_by_patient ON lab_orders (patient_id, ordered_at);

-- Results name their order; patient and doctor are the order's
-- (`lab_result_details`). DrChrono's results carry no `updated_at`.
CREATE TABLE lab_results (
    id                bigint PRIMARY KEY,
    lab_order_id      bigint,
    loinc_code        text,
    description       text,
    value             text,
    value_numeric     numeric,
    unit              text,
    normal_range      text,
    -- HL7 abnormal flag: L, LL, H, HH, <, >, A, AA, N, …; blank is NULL.
    abnormal_flag     text,
    is_abnormal       boolean,
    -- P preliminary, I pending, C correction, F final, X canceled.
    status            text,
    raw               jsonb       NOT NULL,
    source_updated_at timestamptz,
    synced_at         timestamptz NOT NULL DEFAULT now(),
    synced_by         text        NOT NULL,
    removed_at        timestamptz
);
CREATE INDEX lab_results_by_order ON lab_results (lab_order_id);

-- Results entered in a patient's chart (`/api/patient_lab_results`):
-- typed in or imported, not tied to an order of the practice's; they carry
-- `updated_at`, so their list is walked from a cursor.
CREATE TABLE patient_lab_results (
    id                 bigint PRIMARY KEY,
    patient_id         bigint,
    ordering_doctor_id bigint,
    title              text,
    loinc_code         text,
    value              text,
    value_numeric      numeric,
    unit               text,
    normal_range       text,
    abnormal_flag      text,
    order_status       text,
    performed_on       date,
    doctor_signoff     boolean     NOT NULL DEFAULT false,
    raw                jsonb       NOT NULL,
    source_updated_at  timestamptz,
    synced_at          timestamptz NOT NULL DEFAULT now(),
    synced_by          text        NOT NULL,
    removed_at         timestamptz
);
CREATE INDEX patient_lab_results_by_patient ON patient_lab_results (patient_id, performed_on);

CREATE TABLE tasks (
    id                bigint PRIMARY KEY,
    -- The first associated item of type Patient.
    patient_id        bigint,
    title             text,
    status_id         bigint,
    category_id       bigint,
    -- 10 low, 20 medium, 30 high, 40 urgent.
    priority          integer,
    assignee_user_id  bigint,
    assignee_group_id bigint,
    due_at            timestamptz,
    archived          boolean     NOT NULL DEFAULT false,
    deleted           boolean     NOT NULL DEFAULT false,
    raw               jsonb       NOT NULL,
    source_updated_at timestamptz,
    synced_at         timestamptz NOT NULL DEFAULT now(),
    synced_by         text        NOT NULL,
    removed_at        timestamptz
);
CREATE INDEX tasks_by_patient ON tasks (patient_id);
CREATE INDEX tasks_open_by_assignee ON tasks (assignee_user_id, due_at) WHERE NOT archived AND NOT deleted;

CREATE TABLE line_items (
    id                     bigint PRIMARY KEY,
    appointment_id         bigint,
    patient_id             bigint,
    doctor_id              bigint,
    code                   text,
    procedure_type         text,
    description            text,
    modifiers              text[]  NOT NULL DEFAULT '{}',
    diagnosis_pointers     text[]  NOT NULL DEFAULT '{}',
    units                  text,
    quantity               numeric,
    price                  numeric,
    billed                 numeric,
    allowed                numeric,
    adjustment             numeric,
    paid_total             numeric,
    balance_total          numeric,
    billing_status         text,
    service_date           date,
    posted_date            date,
    deleted                boolean     NOT NULL DEFAULT false,
    raw                    jsonb       NOT NULL,
    source_updated_at      timestamptz,
    synced_at              timestamptz NOT NULL DEFAULT now(),
    synced_by              text        NOT NULL,
    removed_at             timestamptz
);
CREATE INDEX line_items_by_appointment ON line_items (appointment_id);
CREATE INDEX line_items_by_patient ON line_items (patient_id, service_date);

CREATE TRIGGER record_change AFTER INSERT OR UPDATE OR DELETE ON lab_orders
    FOR EACH ROW EXECUTE FUNCTION record_change();
CREATE TRIGGER record_change AFTER INSERT OR UPDATE OR DELETE ON lab_results
    FOR EACH ROW EXECUTE FUNCTION record_change();
CREATE TRIGGER record_change AFTER INSERT OR UPDATE OR DELETE ON patient_lab_results
    FOR EACH ROW EXECUTE FUNCTION record_change();
CREATE TRIGGER record_change AFTER INSERT OR UPDATE OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION record_change();
CREATE TRIGGER record_change AFTER INSERT OR UPDATE OR DELETE ON line_items
    FOR EACH ROW EXECUTE FUNCTION record_change();

-- A result as a practice reads it: with its order's patient, doctor and
-- status. A result whose order is not (yet) mirrored has NULL there.
CREATE VIEW lab_result_details AS
SELECT r.id, r.lab_order_id, o.patient_id, o.doctor_id, o.ordered_at, o.status AS order_status,
       r.loinc_code, r.description, r.value, r.value_numeric, r.unit, r.normal_range,
       r.abnormal_flag, r.is_abnormal, r.status, r.removed_at
FROM lab_results r
LEFT JOIN lab_orders o ON o.id = r.lab_order_id;

-- The timeline (`record_timeline`) finds the new kinds' patients, and names
-- their tables as record types, as it does for the others.
CREATE OR REPLACE FUNCTION record_patient(record_type text, record_id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT CASE record_type
        WHEN 'patient' THEN record_id
        WHEN 'appointment' THEN (SELECT patient_id FROM appointments WHERE id = record_id)
        WHEN 'clinical_note' THEN (SELECT patient_id FROM clinical_notes WHERE id = record_id)
        WHEN 'medication' THEN (SELECT patient_id FROM medications WHERE id = record_id)
        WHEN 'problem' THEN (SELECT patient_id FROM problems WHERE id = record_id)
        WHEN 'allergy' THEN (SELECT patient_id FROM allergies WHERE id = record_id)
        WHEN 'deepcura_note' THEN (SELECT patient_id FROM deepcura_notes WHERE id = record_id)
        WHEN 'lab_order' THEN (SELECT patient_id FROM lab_orders WHERE id = record_id)
        WHEN 'lab_result' THEN (SELECT patient_id FROM lab_result_details WHERE id = record_id)
        WHEN 'patient_lab_result' THEN (SELECT patient_id FROM patient_lab_results WHERE id = record_id)
        WHEN 'task' THEN (SELECT patient_id FROM tasks WHERE id = record_id)
        WHEN 'line_item' THEN (SELECT patient_id FROM line_items WHERE id = record_id)
    END
$$;

CREATE OR REPLACE FUNCTION table_record_type(table_name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE table_name
        WHEN 'patients' THEN 'patient' WHEN 'doctors' THEN 'doctor'
        WHEN 'appointments' THEN 'appointment' WHEN 'clinical_notes' THEN 'clinical_note'
        WHEN 'medications' THEN 'medication' WHEN 'problems' THEN 'problem'
        WHEN 'allergies' THEN 'allergy' WHEN 'deepcura_notes' THEN 'deepcura_note'
        WHEN 'lab_orders' THEN 'lab_order' WHEN 'lab_results' THEN 'lab_result'
        WHEN 'patient_lab_results' THEN 'patient_lab_result'
        WHEN 'tasks' THEN 'task' WHEN 'line_items' THEN 'line_item'
        ELSE table_name
    END
$$;
