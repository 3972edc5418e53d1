-- Per-table part of the upsert; see upsert_head.sql and upsert_tail.sql.
INSERT INTO appointment_profiles AS t (id, name, doctor_id, duration_minutes, reason, archived, raw,
    source_updated_at, synced_by)
SELECT id, nullif_blank(r->>'name'), drchrono_id(r->>'doctor'), drchrono_id(r->>'duration')::integer,
       nullif_blank(r->>'reason'), coalesce((r->>'archived')::boolean, false), r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, doctor_id = EXCLUDED.doctor_id,
    duration_minutes = EXCLUDED.duration_minutes, reason = EXCLUDED.reason, archived = EXCLUDED.archived,
