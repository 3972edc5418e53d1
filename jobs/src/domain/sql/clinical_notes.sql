-- Per-table part of the upsert; see upsert_head.sql and upsert_tail.sql.
INSERT INTO clinical_notes AS t (id, patient_id, doctor_id, appointment_id, note_date, locked, archived,
    raw, source_updated_at, synced_by)
SELECT id, drchrono_id(r->>'patient'), drchrono_id(r->>'doctor'), drchrono_id(r->>'appointment'),
       drchrono_date(r->>'date'), coalesce((r->>'locked')::boolean, false),
       coalesce((r->>'archived')::boolean, false), r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET patient_id = EXCLUDED.patient_id, doctor_id = EXCLUDED.doctor_id,
    appointment_id = EXCLUDED.appointment_id, note_date = EXCLUDED.note_date,
    locked = EXCLUDED.locked, archived = EXCLUDED.archived,
