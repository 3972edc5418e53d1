-- Per-table part of the upsert; see upsert_head.sql and upsert_tail.sql.
INSERT INTO problems AS t (id, patient_id, doctor_id, name, icd_code, status, date_diagnosis,
    raw, source_updated_at, synced_by)
SELECT id, drchrono_id(r->>'patient'), drchrono_id(r->>'doctor'), r->>'name', r->>'icd_code',
       r->>'status', drchrono_date(r->>'date_diagnosis'), r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET patient_id = EXCLUDED.patient_id, doctor_id = EXCLUDED.doctor_id,
    name = EXCLUDED.name, icd_code = EXCLUDED.icd_code, status = EXCLUDED.status,
    date_diagnosis = EXCLUDED.date_diagnosis,
