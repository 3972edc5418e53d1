-- Per-table part of the upsert; see upsert_head.sql and upsert_tail.sql.
INSERT INTO medications AS t (id, patient_id, doctor_id, name, rxnorm, status, date_prescribed,
    raw, source_updated_at, synced_by)
SELECT id, drchrono_id(r->>'patient'), drchrono_id(r->>'doctor'), r->>'name', r->>'rxnorm',
       r->>'status', drchrono_date(r->>'date_prescribed'), r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET patient_id = EXCLUDED.patient_id, doctor_id = EXCLUDED.doctor_id,
    name = EXCLUDED.name, rxnorm = EXCLUDED.rxnorm, status = EXCLUDED.status,
    date_prescribed = EXCLUDED.date_prescribed,
