-- Per-table part of the upsert; see upsert_head.sql and upsert_tail.sql.
-- The normalized columns follow the README's "Field mappings"; phones come
-- in E.164 from Rust (`m`).
INSERT INTO patients AS t (id, chart_id, first_name, middle_name, last_name, date_of_birth, gender,
    email, cell_phone, home_phone, doctor_id, patient_status,
    phone_home_e164, phone_mobile_e164, phones_unparsed, gender_code, address_line1, address_line2,
    city, state, postal_code, preferred_language_code, preferred_language_label,
    race_code, race_label, ethnicity_code, ethnicity_label, raw, source_updated_at, synced_by)
SELECT id, r->>'chart_id', r->>'first_name', r->>'middle_name', r->>'last_name',
       drchrono_date(r->>'date_of_birth'), r->>'gender', r->>'email', r->>'cell_phone',
       r->>'home_phone', drchrono_id(r->>'doctor'), r->>'patient_status',
       m->>'phone_home_e164', m->>'phone_mobile_e164', coalesce((m->>'phones_unparsed')::smallint, 0),
       gender_code(r->>'gender'), address_line1(r->>'address'),
       address_line2(r->>'address', r->>'apartment'), nullif_blank(r->>'city'),
       upper(nullif_blank(r->>'state')), nullif_blank(r->>'zip_code'),
       drchrono_code(r->>'preferred_language'), code_label('language', r->>'preferred_language'),
       drchrono_code(r->>'race'), code_label('race', r->>'race'),
       drchrono_code(r->>'ethnicity'), code_label('ethnicity', r->>'ethnicity'), r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET chart_id = EXCLUDED.chart_id, first_name = EXCLUDED.first_name,
    middle_name = EXCLUDED.middle_name, last_name = EXCLUDED.last_name,
    date_of_birth = EXCLUDED.date_of_birth, gender = EXCLUDED.gender, email = EXCLUDED.email,
    cell_phone = EXCLUDED.cell_phone, home_phone = EXCLUDED.home_phone,
    doctor_id = EXCLUDED.doctor_id, patient_status = EXCLUDED.patient_status,
    phone_home_e164 = EXCLUDED.phone_home_e164, phone_mobile_e164 = EXCLUDED.phone_mobile_e164,
    phones_unparsed = EXCLUDED.phones_unparsed, gender_code = EXCLUDED.gender_code,
    address_line1 = EXCLUDED.address_line1, address_line2 = EXCLUDED.address_line2,
    city = EXCLUDED.city, state = EXCLUDED.state, postal_code = EXCLUDED.postal_code,
    preferred_language_code = EXCLUDED.preferred_language_code,
    preferred_language_label = EXCLUDED.preferred_language_label,
    race_code = EXCLUDED.race_code, race_label = EXCLUDED.race_label,
    ethnicity_code = EXCLUDED.ethnicity_code, ethnicity_label = EXCLUDED.ethnicity_label,
