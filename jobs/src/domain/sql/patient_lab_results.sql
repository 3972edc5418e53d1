-- Per-table part of the upsert; see upsert_head.sql and upsert_tail.sql.
-- Results entered in a patient's chart; `lab_result_value_as_float` is the
-- number when there is one.
INSERT INTO patient_lab_results AS t (id, patient_id, ordering_doctor_id, title, loinc_code, value,
    value_numeric, unit, normal_range, abnormal_flag, order_status, performed_on, doctor_signoff,
    raw, source_updated_at, synced_by)
SELECT id, drchrono_id(r->>'patient'), drchrono_id(r->>'ordering_doctor'), nullif_blank(r->>'title'),
       nullif_blank(r->>'loinc_code'), nullif_blank(r->>'lab_result_value'),
       coalesce(drchrono_money(r->>'lab_result_value_as_float'), drchrono_money(r->>'lab_result_value')),
       nullif_blank(r->>'lab_result_value_units'), nullif_blank(r->>'lab_normal_range'),
       nullif(nullif_blank(r->>'lab_abnormal_flag'), 'null'), nullif_blank(r->>'lab_order_status'),
       drchrono_date(r->>'date_test_performed'), coalesce((r->>'doctor_signoff')::boolean, false),
       r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET patient_id = EXCLUDED.patient_id,
    ordering_doctor_id = EXCLUDED.ordering_doctor_id, title = EXCLUDED.title, loinc_code = EXCLUDED.loinc_code,
    value = EXCLUDED.value, value_numeric = EXCLUDED.value_numeric, unit = EXCLUDED.unit,
    normal_range = EXCLUDED.normal_range, abnormal_flag = EXCLUDED.abnormal_flag,
    order_status = EXCLUDED.order_status, performed_on = EXCLUDED.performed_on,
    doctor_signoff = EXCLUDED.doctor_signoff,
