-- Per-table part of the upsert; see upsert_head.sql and upsert_tail.sql.
-- `exam_rooms` is a list of objects at DrChrono; anything else is kept as [].
INSERT INTO offices AS t (id, name, city, state, archived, exam_rooms, raw, source_updated_at, synced_by)
SELECT id, r->>'name', r->>'city', r->>'state', coalesce((r->>'archived')::boolean, false),
       CASE WHEN jsonb_typeof(r->'exam_rooms') = 'array' THEN r->'exam_rooms' ELSE '[]'::jsonb END,
       r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, city = EXCLUDED.city, state = EXCLUDED.state,
    archived = EXCLUDED.archived, exam_rooms = EXCLUDED.exam_rooms,
