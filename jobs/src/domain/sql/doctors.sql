-- $1 jsonb array of DrChrono doctor objects, $2 actor, $3 practice time zone.
WITH input AS (
    SELECT DISTINCT ON (id) *
    FROM (SELECT drchrono_id(r->>'id') AS id, r, drchrono_time(r->>'updated_at', $3) AS updated_at
          FROM jsonb_array_elements($1::jsonb) AS r) x
    WHERE id IS NOT NULL
    ORDER BY id, updated_at DESC NULLS LAST
)
INSERT INTO doctors AS t (id, first_name, last_name, specialty, npi_number, raw, source_updated_at, synced_by)
SELECT id, r->>'first_name', r->>'last_name', r->>'specialty', r->>'npi_number', r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
    specialty = EXCLUDED.specialty, npi_number = EXCLUDED.npi_number,
    raw = EXCLUDED.raw, source_updated_at = EXCLUDED.source_updated_at,
    synced_at = now(), synced_by = EXCLUDED.synced_by
WHERE t.raw IS DISTINCT FROM EXCLUDED.raw
  AND (t.source_updated_at IS NULL OR EXCLUDED.source_updated_at IS NULL
       OR EXCLUDED.source_updated_at >= t.source_updated_at)
RETURNING (xmax = 0) AS inserted
