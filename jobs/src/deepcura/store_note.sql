-- One row per Deep Cura session. Returns the id when the row was written;
-- nothing when the stored row is from a newer delivery or identical. The
-- note's text (SOAP sections, transcript) is only in `raw_sealed`: reading
-- it is an explicit unseal (`open_text`).
INSERT INTO deepcura_notes AS t (session_id, delivery_id, appointment_id, patient_id, doctor_id,
    session_date, icd10_codes, cpt_codes, medication_mentions, billing_summary, risk_assessment,
    raw_sealed, raw_fingerprint, synced_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (session_id) DO UPDATE SET delivery_id = EXCLUDED.delivery_id,
    appointment_id = EXCLUDED.appointment_id, patient_id = EXCLUDED.patient_id,
    doctor_id = EXCLUDED.doctor_id, session_date = EXCLUDED.session_date,
    icd10_codes = EXCLUDED.icd10_codes,
    cpt_codes = EXCLUDED.cpt_codes, medication_mentions = EXCLUDED.medication_mentions,
    billing_summary = EXCLUDED.billing_summary, risk_assessment = EXCLUDED.risk_assessment,
    raw_sealed = EXCLUDED.raw_sealed, raw_fingerprint = EXCLUDED.raw_fingerprint,
    synced_at = now(), synced_by = EXCLUDED.synced_by
WHERE t.delivery_id < EXCLUDED.delivery_id AND t.raw_fingerprint <> EXCLUDED.raw_fingerprint
RETURNING id
