-- Per-table part of the upsert; see upsert_head.sql and upsert_tail.sql.
-- `lab_order` is a string id in DrChrono's spec; `is_abnormal` a string.
INSERT INTO lab_results AS t (id, lab_order_id, loinc_code, description, value, value_numeric, unit,
    normal_range, abnormal_flag, is_abnormal, status, raw, source_updated_at, synced_by)
SELECT id, drchrono_id(r->>'lab_order'), nullif_blank(r->>'observation_code'),
       coalesce(nullif_blank(r->>'observation_description'), nullif_blank(r->>'test_performed')),
       nullif_blank(r->>'value'), drchrono_money(r->>'value'), nullif_blank(r->>'unit'),
       nullif_blank(r->>'normal_range'), nullif_blank(r->>'abnormal_status'),
       CASE lower(trim(r->>'is_abnormal')) WHEN 'true' THEN true WHEN 'false' THEN false END,
       nullif_blank(r->>'status'), r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET lab_order_id = EXCLUDED.lab_order_id, loinc_code = EXCLUDED.loinc_code,
    description = EXCLUDED.description, value = EXCLUDED.value, value_numeric = EXCLUDED.value_numeric,
    unit = EXCLUDED.unit, normal_range = EXCLUDED.normal_range, abnormal_flag = EXCLUDED.abnormal_flag,
    is_abnormal = EXCLUDED.is_abnormal, status = EXCLUDED.status,
