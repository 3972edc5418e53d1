-- Offices and their exam rooms, a lookup synced on a schedule with the
-- doctors (`sync_lookups`): write-back validation and the appointment
-- mapping read them. DrChrono lists exam rooms inside the office as
-- [{index, name, online_scheduling}]; they are kept as JSON.

CREATE TABLE offices (
    id                bigint PRIMARY KEY,
    name              text,
    city              text,
    state             text,
    archived          boolean     NOT NULL DEFAULT false,
    exam_rooms        jsonb       NOT NULL DEFAULT '[]',
    raw               jsonb       NOT NULL,
    source_updated_at timestamptz,
    synced_at         timestamptz NOT NULL DEFAULT now(),
    synced_by         text        NOT NULL,
    removed_at        timestamptz
);

CREATE TRIGGER record_change AFTER INSERT OR UPDATE OR DELETE ON offices
    FOR EACH ROW EXECUTE FUNCTION record_change();
