-- Shared head of every upsert: $1 jsonb array of DrChrono objects, $2 actor,
-- $3 practice time zone, $4 jsonb array of what Rust mapped for each object
-- (same order; `m`, NULL where nothing was mapped). One row per id (the
-- newest version) goes on. A stamp more than an hour ahead of our clock is
-- taken as an hour ahead (FUTURE_SKEW in domain/mod.rs): one object dated
-- 2099 must not make every later version of its row look stale.
WITH input AS (
    SELECT DISTINCT ON (id) *
    FROM (SELECT drchrono_id(o.r->>'id') AS id, o.r, m.m, least(drchrono_time(o.r->>'updated_at', $3), now() + interval '1 hour') AS updated_at
          FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS o(r, n)
          LEFT JOIN jsonb_array_elements($4::jsonb) WITH ORDINALITY AS m(m, n) ON m.n = o.n) x
    WHERE id IS NOT NULL
    ORDER BY id, updated_at DESC NULLS LAST
)
