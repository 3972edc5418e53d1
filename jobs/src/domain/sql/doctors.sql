-- Per-table part of the upsert; see upsert_head.sql and upsert_tail.sql.
INSERT INTO doctors AS t (id, first_name, last_name, specialty, npi_number, raw, source_updated_at, synced_by)
SELECT id, r->>'first_name', r->>'last_name', r->>'specialty', r->>'npi_number', r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
    specialty = EXCLUDED.specialty, npi_number = EXCLUDED.npi_number,
