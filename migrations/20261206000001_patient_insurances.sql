-- A patient's insurance coverage as columns a practice can query: one row
-- per patient and rank (1 primary, 2 secondary, 3 tertiary). DrChrono sends
-- the coverage only in the verbose patient (a bulk batch or a verbose walk);
-- the upsert keeps those blocks in `patients.raw` when a plain object comes
-- without them, so the stored raw is always the latest coverage known and
-- these rows are rebuilt from it. The subscriber's own details (name, birth
-- date, social security number, address) stay in `raw` only.
CREATE TABLE patient_insurances (
    patient_id                 bigint   NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    rank                       smallint NOT NULL CHECK (rank BETWEEN 1 AND 3),
    payer_id                   text,
    payer_name                 text,
    plan_name                  text,
    plan_type                  text,
    member_id                  text,
    group_number               text,
    group_name                 text,
    subscriber_is_patient      boolean,
    relationship_to_subscriber text,
    synced_at                  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_id, rank)
);
-- "Which patients does this payer cover?"
CREATE INDEX patient_insurances_by_payer ON patient_insurances (payer_id) WHERE payer_id IS NOT NULL;

-- Rebuilds the coverage rows of these patients from their stored raw. A
-- block that is absent (a plain object never stored a verbose one) leaves
-- the rank alone; a block that is null or blank (DrChrono sends every field
-- as "" when there is no coverage) removes it. Returns the rows written or
-- removed.
CREATE FUNCTION level_patient_insurances(ids bigint[]) RETURNS bigint
LANGUAGE sql AS $$
    WITH blocks AS (
        SELECT p.id AS patient_id, r.rank, p.raw -> r.key AS b
        FROM patients p
        CROSS JOIN (VALUES (1::smallint, 'primary_insurance'), (2::smallint, 'secondary_insurance'),
                           (3::smallint, 'tertiary_insurance')) AS r (rank, key)
        WHERE p.id = ANY (ids) AND p.raw ? r.key
    ), coverage AS (
        SELECT patient_id, rank, nullif_blank(b ->> 'insurance_payer_id') AS payer_id,
               nullif_blank(b ->> 'insurance_company') AS payer_name,
               nullif_blank(b ->> 'insurance_plan_name') AS plan_name,
               nullif_blank(b ->> 'insurance_plan_type') AS plan_type,
               nullif_blank(b ->> 'insurance_id_number') AS member_id,
               nullif_blank(b ->> 'insurance_group_number') AS group_number,
               nullif_blank(b ->> 'insurance_group_name') AS group_name,
               CASE jsonb_typeof(b -> 'is_subscriber_the_patient') WHEN 'boolean'
                   THEN (b ->> 'is_subscriber_the_patient')::boolean END AS subscriber_is_patient,
               nullif_blank(b ->> 'patient_relationship_to_subscriber') AS relationship_to_subscriber
        FROM blocks
        WHERE jsonb_typeof(b) = 'object'
    ), held AS (
        SELECT * FROM coverage
        WHERE coalesce(payer_id, payer_name, plan_name, member_id, group_number) IS NOT NULL
    ), removed AS (
        DELETE FROM patient_insurances i
        USING blocks
        WHERE i.patient_id = blocks.patient_id AND i.rank = blocks.rank
          AND NOT EXISTS (SELECT 1 FROM held WHERE held.patient_id = i.patient_id AND held.rank = i.rank)
        RETURNING 1
    ), written AS (
        INSERT INTO patient_insurances AS t (patient_id, rank, payer_id, payer_name, plan_name, plan_type,
            member_id, group_number, group_name, subscriber_is_patient, relationship_to_subscriber)
        SELECT patient_id, rank, payer_id, payer_name, plan_name, plan_type, member_id, group_number,
               group_name, subscriber_is_patient, relationship_to_subscriber
        FROM held
        ON CONFLICT (patient_id, rank) DO UPDATE SET payer_id = EXCLUDED.payer_id,
            payer_name = EXCLUDED.payer_name, plan_name = EXCLUDED.plan_name, plan_type = EXCLUDED.plan_type,
            member_id = EXCLUDED.member_id, group_number = EXCLUDED.group_number,
            group_name = EXCLUDED.group_name, subscriber_is_patient = EXCLUDED.subscriber_is_patient,
            relationship_to_subscriber = EXCLUDED.relationship_to_subscriber, synced_at = now()
        WHERE (t.payer_id, t.payer_name, t.plan_name, t.plan_type, t.member_id, t.group_number, t.group_name,
               t.subscriber_is_patient, t.relationship_to_subscriber)
              IS DISTINCT FROM
              (EXCLUDED.payer_id, EXCLUDED.payer_name, EXCLUDED.plan_name, EXCLUDED.plan_type, EXCLUDED.member_id,
               EXCLUDED.group_number, EXCLUDED.group_name, EXCLUDED.subscriber_is_patient,
               EXCLUDED.relationship_to_subscriber)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM written)
$$;

-- Patients synced before this table existed.
SELECT level_patient_insurances(array_agg(id)) FROM patients WHERE raw ?| ARRAY['primary_insurance', 'secondary_insurance', 'tertiary_insurance'];
