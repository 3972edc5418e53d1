-- Per-table part of the upsert; see upsert_head.sql and upsert_tail.sql.
-- `deleted_flag` is set by a LAB_ORDER_DELETE delivery (upsert_record).
INSERT INTO lab_orders AS t (id, patient_id, doctor_id, sublab_id, status, priority, requisition_id,
    accession_number, ordered_at, icd10_codes, deleted, raw, source_updated_at, synced_by)
SELECT id, drchrono_id(r->>'patient'), drchrono_id(r->>'doctor'), drchrono_id(r->>'sublab'),
       nullif_blank(r->>'status'), nullif_blank(r->>'priority'), nullif_blank(r->>'requisition_id'),
       nullif_blank(r->>'accession_number'), drchrono_time(r->>'timestamp', $3),
       coalesce((SELECT array_agg(c->>'code') FILTER (WHERE nullif_blank(c->>'code') IS NOT NULL)
                 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(r->'icd10_codes') = 'array'
                                                THEN r->'icd10_codes' ELSE '[]' END) c), '{}'),
       coalesce((r->>'deleted_flag')::boolean, false), r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET patient_id = EXCLUDED.patient_id, doctor_id = EXCLUDED.doctor_id,
    sublab_id = EXCLUDED.sublab_id, status = EXCLUDED.status, priority = EXCLUDED.priority,
    requisition_id = EXCLUDED.requisition_id, accession_number = EXCLUDED.accession_number,
    ordered_at = EXCLUDED.ordered_at, icd10_codes = EXCLUDED.icd10_codes, deleted = EXCLUDED.deleted,
