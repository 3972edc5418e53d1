-- $1 jsonb array of DrChrono clinical note objects, $2 actor, $3 practice time zone.
WITH input AS (
    SELECT DISTINCT ON (id) *
    FROM (SELECT drchrono_id(r->>'id') AS id, r, drchrono_time(r->>'updated_at', $3) AS updated_at
          FROM jsonb_array_elements($1::jsonb) AS r) x
    WHERE id IS NOT NULL
    ORDER BY id, updated_at DESC NULLS LAST
)
INSERT INTO clinical_notes AS t (id, patient_id, doctor_id, appointment_id, note_date, locked, archived,
    raw, source_updated_at, synced_by)
SELECT id, drchrono_id(r->>'patient'), drchrono_id(r->>'doctor'), drchrono_id(r->>'appointment'),
       drchrono_date(r->>'date'), coalesce((r->>'locked')::boolean, false),
       coalesce((r->>'archived')::boolean, false), r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET patient_id = EXCLUDED.patient_id, doctor_id = EXCLUDED.doctor_id,
    appointment_id = EXCLUDED.appointment_id, note_date = EXCLUDED.note_date,
    locked = EXCLUDED.locked, archived = EXCLUDED.archived,
    raw = EXCLUDED.raw, source_updated_at = EXCLUDED.source_updated_at,
    synced_at = now(), synced_by = EXCLUDED.synced_by
WHERE t.raw IS DISTINCT FROM EXCLUDED.raw
  AND (t.source_updated_at IS NULL OR EXCLUDED.source_updated_at IS NULL
       OR EXCLUDED.source_updated_at >= t.source_updated_at)
RETURNING (xmax = 0) AS inserted
