-- $1 jsonb array of DrChrono patient objects, $2 actor, $3 practice time zone.
WITH input AS (
    SELECT DISTINCT ON (id) *
    FROM (SELECT drchrono_id(r->>'id') AS id, r, drchrono_time(r->>'updated_at', $3) AS updated_at
          FROM jsonb_array_elements($1::jsonb) AS r) x
    WHERE id IS NOT NULL
    ORDER BY id, updated_at DESC NULLS LAST
)
INSERT INTO patients AS t (id, chart_id, first_name, middle_name, last_name, date_of_birth, gender,
    email, cell_phone, home_phone, doctor_id, patient_status, raw, source_updated_at, synced_by)
SELECT id, r->>'chart_id', r->>'first_name', r->>'middle_name', r->>'last_name',
       drchrono_date(r->>'date_of_birth'), r->>'gender', r->>'email', r->>'cell_phone',
       r->>'home_phone', drchrono_id(r->>'doctor'), r->>'patient_status', r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET chart_id = EXCLUDED.chart_id, first_name = EXCLUDED.first_name,
    middle_name = EXCLUDED.middle_name, last_name = EXCLUDED.last_name,
    date_of_birth = EXCLUDED.date_of_birth, gender = EXCLUDED.gender, email = EXCLUDED.email,
    cell_phone = EXCLUDED.cell_phone, home_phone = EXCLUDED.home_phone,
    doctor_id = EXCLUDED.doctor_id, patient_status = EXCLUDED.patient_status,
    raw = EXCLUDED.raw, source_updated_at = EXCLUDED.source_updated_at,
    synced_at = now(), synced_by = EXCLUDED.synced_by
WHERE t.raw IS DISTINCT FROM EXCLUDED.raw
  AND (t.source_updated_at IS NULL OR EXCLUDED.source_updated_at IS NULL
       OR EXCLUDED.source_updated_at >= t.source_updated_at)
RETURNING (xmax = 0) AS inserted
