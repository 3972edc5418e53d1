-- The appointment mapping completed: what kind of visit (the appointment
-- profile), where (office, and the exam room inside it) and why (reason),
-- as columns, with the lookups that name them.

-- Appointment profiles (a visit type with its default length): a lookup synced with
-- the doctors and offices (`sync_lookups`), one call a night.
CREATE TABLE appointment_profiles (
    id                bigint PRIMARY KEY,
    name              text,
    doctor_id         bigint,
    duration_minutes  integer,
    reason            text,
    archived          boolean     NOT NULL DEFAULT false,
    raw               jsonb       NOT NULL,
    source_updated_at timestamptz,
    synced_at         timestamptz NOT NULL DEFAULT now(),
    synced_by         text        NOT NULL,
    removed_at        timestamptz
);

CREATE TRIGGER record_change AFTER INSERT OR UPDATE OR DELETE ON appointment_profiles
    FOR EACH ROW EXECUTE FUNCTION record_change();

-- `exam_room` is the room's index within the office's `exam_rooms`, as
-- DrChrono sends it.
ALTER TABLE appointments
    ADD COLUMN profile_id bigint,
    ADD COLUMN exam_room  integer,
    ADD COLUMN reason     text;

UPDATE appointments
SET profile_id = drchrono_id(raw->>'profile'), exam_room = drchrono_id(raw->>'exam_room')::integer,
    reason = nullif_blank(raw->>'reason')
WHERE raw ?| ARRAY['profile', 'exam_room', 'reason'];

-- One appointment as a practice reads it: the type (profile), the status,
-- the location (office) and room by name, and the reason. A reference that
-- does not resolve leaves its name NULL and is counted in
-- `appointment_mapping_gaps`.
CREATE VIEW appointment_details AS
SELECT a.id, a.patient_id, a.doctor_id, a.start_utc, a.end_utc, a.duration_minutes,
       nullif_blank(a.status) AS status, a.profile_id, p.name AS appointment_type,
       a.office_id, o.name AS location, o.city AS location_city, o.state AS location_state,
       a.exam_room, room.name AS exam_room_name, a.reason, a.deleted, a.removed_at
FROM appointments a
LEFT JOIN appointment_profiles p ON p.id = a.profile_id
LEFT JOIN offices o ON o.id = a.office_id
LEFT JOIN LATERAL (
    SELECT nullif_blank(e->>'name') AS name
    FROM jsonb_array_elements(o.exam_rooms) e
    WHERE drchrono_id(e->>'index') = a.exam_room
    LIMIT 1
) room ON true;

CREATE VIEW appointment_mapping_gaps AS
SELECT 'profile not synced' AS rule, count(*) AS appointments, array_agg(id ORDER BY id) AS appointment_ids
FROM appointment_details WHERE profile_id IS NOT NULL AND appointment_type IS NULL
UNION ALL
SELECT 'office not synced', count(*), array_agg(id ORDER BY id)
FROM appointment_details WHERE office_id IS NOT NULL AND location IS NULL
UNION ALL
SELECT 'exam room not in its office', count(*), array_agg(id ORDER BY id)
FROM appointment_details WHERE exam_room IS NOT NULL AND location IS NOT NULL AND exam_room_name IS NULL;

COMMENT ON VIEW appointment_mapping_gaps IS
    'Per rule, the appointments whose profile, office or exam room did not resolve to a synced name (run sync_lookups).';
