-- Shared head of every upsert: $1 jsonb array of DrChrono objects, $2 actor,
-- $3 practice time zone. One row per id (the newest version) goes on.
WITH input AS (
    SELECT DISTINCT ON (id) *
    FROM (SELECT drchrono_id(r->>'id') AS id, r, drchrono_time(r->>'updated_at', $3) AS updated_at
          FROM jsonb_array_elements($1::jsonb) AS r) x
    WHERE id IS NOT NULL
    ORDER BY id, updated_at DESC NULLS LAST
)
