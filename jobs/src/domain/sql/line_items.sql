-- Per-table part of the upsert; see upsert_head.sql and upsert_tail.sql.
-- Amounts are exact (numeric); `patient` and `doctor` are string ids in
-- DrChrono's spec; `deleted_flag` is set by a LINE_ITEM_DELETE delivery.
INSERT INTO line_items AS t (id, appointment_id, patient_id, doctor_id, code, procedure_type, description,
    modifiers, diagnosis_pointers, units, quantity, price, billed, allowed, adjustment, paid_total,
    balance_total, billing_status, service_date, posted_date, deleted, raw, source_updated_at, synced_by)
SELECT id, drchrono_id(r->>'appointment'), drchrono_id(r->>'patient'), drchrono_id(r->>'doctor'),
       nullif_blank(r->>'code'), nullif_blank(r->>'procedure_type'), nullif_blank(r->>'description'),
       json_texts(r->'modifiers'), json_texts(r->'diagnosis_pointers'), nullif_blank(r->>'units'),
       drchrono_money(r->>'quantity'), drchrono_money(r->>'price'), drchrono_money(r->>'billed'),
       drchrono_money(r->>'allowed'), drchrono_money(r->>'adjustment'), drchrono_money(r->>'paid_total'),
       drchrono_money(r->>'balance_total'), nullif_blank(r->>'billing_status'),
       drchrono_date(r->>'service_date'), drchrono_date(r->>'posted_date'),
       coalesce((r->>'deleted_flag')::boolean, false), r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET appointment_id = EXCLUDED.appointment_id, patient_id = EXCLUDED.patient_id,
    doctor_id = EXCLUDED.doctor_id, code = EXCLUDED.code, procedure_type = EXCLUDED.procedure_type,
    description = EXCLUDED.description, modifiers = EXCLUDED.modifiers,
    diagnosis_pointers = EXCLUDED.diagnosis_pointers, units = EXCLUDED.units, quantity = EXCLUDED.quantity,
    price = EXCLUDED.price, billed = EXCLUDED.billed, allowed = EXCLUDED.allowed,
    adjustment = EXCLUDED.adjustment, paid_total = EXCLUDED.paid_total, balance_total = EXCLUDED.balance_total,
    billing_status = EXCLUDED.billing_status, service_date = EXCLUDED.service_date,
    posted_date = EXCLUDED.posted_date, deleted = EXCLUDED.deleted,
