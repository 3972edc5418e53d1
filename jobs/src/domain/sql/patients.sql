-- Per-table part of the upsert; see upsert_head.sql and upsert_tail.sql.
INSERT INTO patients AS t (id, chart_id, first_name, middle_name, last_name, date_of_birth, gender,
    email, cell_phone, home_phone, doctor_id, patient_status, raw, source_updated_at, synced_by)
SELECT id, r->>'chart_id', r->>'first_name', r->>'middle_name', r->>'last_name',
       drchrono_date(r->>'date_of_birth'), r->>'gender', r->>'email', r->>'cell_phone',
       r->>'home_phone', drchrono_id(r->>'doctor'), r->>'patient_status', r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET chart_id = EXCLUDED.chart_id, first_name = EXCLUDED.first_name,
    middle_name = EXCLUDED.middle_name, last_name = EXCLUDED.last_name,
    date_of_birth = EXCLUDED.date_of_birth, gender = EXCLUDED.gender, email = EXCLUDED.email,
    cell_phone = EXCLUDED.cell_phone, home_phone = EXCLUDED.home_phone,
    doctor_id = EXCLUDED.doctor_id, patient_status = EXCLUDED.patient_status,
