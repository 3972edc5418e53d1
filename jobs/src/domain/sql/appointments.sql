-- Per-table part of the upsert; see upsert_head.sql and upsert_tail.sql.
-- An appointment's own id arrives as a string; drchrono_id accepts both.
-- start_utc is scheduled_time read in the practice zone; end_utc adds the
-- duration as elapsed minutes, so a visit across a DST change keeps its length.
-- profile, exam_room (an index into the office's rooms) and reason are the
-- rest of the mapping; `appointment_details` names them.
INSERT INTO appointments AS t (id, patient_id, doctor_id, office_id, scheduled_time, duration_minutes,
    status, deleted, start_utc, end_utc, profile_id, exam_room, reason, raw, source_updated_at, synced_by)
SELECT id, drchrono_id(r->>'patient'), drchrono_id(r->>'doctor'), drchrono_id(r->>'office'),
       drchrono_time(r->>'scheduled_time', $3), drchrono_id(r->>'duration')::integer,
       r->>'status', coalesce((r->>'deleted_flag')::boolean, false),
       drchrono_time(r->>'scheduled_time', $3),
       drchrono_time(r->>'scheduled_time', $3) + make_interval(mins => drchrono_id(r->>'duration')::integer),
       drchrono_id(r->>'profile'), drchrono_id(r->>'exam_room')::integer, nullif_blank(r->>'reason'),
       r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET patient_id = EXCLUDED.patient_id, doctor_id = EXCLUDED.doctor_id,
    office_id = EXCLUDED.office_id, scheduled_time = EXCLUDED.scheduled_time,
    duration_minutes = EXCLUDED.duration_minutes, status = EXCLUDED.status, deleted = EXCLUDED.deleted,
    start_utc = EXCLUDED.start_utc, end_utc = EXCLUDED.end_utc, profile_id = EXCLUDED.profile_id,
    exam_room = EXCLUDED.exam_room, reason = EXCLUDED.reason,
