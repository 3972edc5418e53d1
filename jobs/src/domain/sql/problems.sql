-- $1 jsonb array of DrChrono problem objects, $2 actor, $3 practice time zone.
WITH input AS (
    SELECT DISTINCT ON (id) *
    FROM (SELECT drchrono_id(r->>'id') AS id, r, drchrono_time(r->>'updated_at', $3) AS updated_at
          FROM jsonb_array_elements($1::jsonb) AS r) x
    WHERE id IS NOT NULL
    ORDER BY id, updated_at DESC NULLS LAST
)
INSERT INTO problems AS t (id, patient_id, doctor_id, name, icd_code, status, date_diagnosis,
    raw, source_updated_at, synced_by)
SELECT id, drchrono_id(r->>'patient'), drchrono_id(r->>'doctor'), r->>'name', r->>'icd_code',
       r->>'status', drchrono_date(r->>'date_diagnosis'), r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET patient_id = EXCLUDED.patient_id, doctor_id = EXCLUDED.doctor_id,
    name = EXCLUDED.name, icd_code = EXCLUDED.icd_code, status = EXCLUDED.status,
    date_diagnosis = EXCLUDED.date_diagnosis,
    raw = EXCLUDED.raw, source_updated_at = EXCLUDED.source_updated_at,
    synced_at = now(), synced_by = EXCLUDED.synced_by
WHERE t.raw IS DISTINCT FROM EXCLUDED.raw
  AND (t.source_updated_at IS NULL OR EXCLUDED.source_updated_at IS NULL
       OR EXCLUDED.source_updated_at >= t.source_updated_at)
RETURNING (xmax = 0) AS inserted
