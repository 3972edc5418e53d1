-- Per-table part of the upsert; see upsert_head.sql and upsert_tail.sql.
INSERT INTO allergies AS t (id, patient_id, doctor_id, description, reaction, status,
    raw, source_updated_at, synced_by)
SELECT id, drchrono_id(r->>'patient'), drchrono_id(r->>'doctor'), r->>'description', r->>'reaction',
       r->>'status', r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET patient_id = EXCLUDED.patient_id, doctor_id = EXCLUDED.doctor_id,
    description = CASE WHEN EXCLUDED.raw ? 'description' THEN EXCLUDED.description ELSE t.description END, reaction = EXCLUDED.reaction, status = EXCLUDED.status,
