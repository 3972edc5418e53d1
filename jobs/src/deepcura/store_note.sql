-- One row per Deep Cura session. Returns the id when the row was written;
-- nothing when the stored row is newer or identical. Newer means a later
-- note time; a note with no time never replaces one with a time; between
-- two notes with none (or the same), the later delivery wins. The
-- note's text (SOAP sections, transcript) is only in `raw_sealed`: reading
-- it is an explicit unseal (`open_text`).
INSERT INTO deepcura_notes AS t (session_id, delivery_id, appointment_id, patient_id, doctor_id,
    session_date, icd10_codes, cpt_codes, medication_mentions, billing_summary, risk_assessment,
    raw_sealed, raw_fingerprint, synced_by, note_time)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (session_id) DO UPDATE SET delivery_id = EXCLUDED.delivery_id,
    appointment_id = EXCLUDED.appointment_id, patient_id = EXCLUDED.patient_id,
    doctor_id = EXCLUDED.doctor_id, session_date = EXCLUDED.session_date,
    icd10_codes = EXCLUDED.icd10_codes,
    cpt_codes = EXCLUDED.cpt_codes, medication_mentions = EXCLUDED.medication_mentions,
    billing_summary = EXCLUDED.billing_summary, risk_assessment = EXCLUDED.risk_assessment,
    raw_sealed = EXCLUDED.raw_sealed, raw_fingerprint = EXCLUDED.raw_fingerprint,
    synced_at = now(), synced_by = EXCLUDED.synced_by, note_time = EXCLUDED.note_time
WHERE t.raw_fingerprint <> EXCLUDED.raw_fingerprint
  AND CASE
        WHEN t.note_time IS NOT NULL AND EXCLUDED.note_time IS NOT NULL
            THEN (EXCLUDED.note_time, EXCLUDED.delivery_id) > (t.note_time, t.delivery_id)
        WHEN t.note_time IS NOT NULL THEN false
        WHEN EXCLUDED.note_time IS NOT NULL THEN true
        ELSE t.delivery_id < EXCLUDED.delivery_id
      END
RETURNING id
