-- What DrChrono's own OpenAPI (v4) taught us about its lists.
--
-- 1. A row that a complete walk no longer lists was deleted at DrChrono
--    (chart entries are deleted outright, not flagged). The walk marks it
--    `removed_at` instead of keeping it silently; listing it again clears the
--    mark. Appointments are flagged instead (`deleted`), and listed with
--    `show_archived=true`, but an appointment gone from a full walk is marked
--    too.
-- 2. Objects whose id is not a number (a recurring appointment's occurrences
--    are `{date}_{id}`) cannot key a mirrored table; they are kept here and
--    counted in each walk's `sync_runs` row, never dropped without a trace.
-- 3. DrChrono throttles an application at 10 calls in any one second. Every
--    process reserves a slot from the shared budget row (`next_slot`), so the
--    fleet together stays under the limit.
-- 4. `sync_runs` says how each walk was scoped and what it removed.

ALTER TABLE patients       ADD COLUMN removed_at timestamptz;
ALTER TABLE doctors        ADD COLUMN removed_at timestamptz;
ALTER TABLE appointments   ADD COLUMN removed_at timestamptz;
ALTER TABLE clinical_notes ADD COLUMN removed_at timestamptz;
ALTER TABLE medications    ADD COLUMN removed_at timestamptz;
ALTER TABLE problems       ADD COLUMN removed_at timestamptz;
ALTER TABLE allergies      ADD COLUMN removed_at timestamptz;

COMMENT ON COLUMN medications.removed_at IS
    'Set when a complete walk no longer listed the row: deleted at DrChrono. Cleared if it is listed again.';

CREATE TABLE unkeyed_records (
    kind       text        NOT NULL,
    -- The id as DrChrono sent it, or an md5 of the object when it had none.
    source_id  text        NOT NULL,
    raw        jsonb       NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now(),
    seen_by    text        NOT NULL,
    PRIMARY KEY (kind, source_id)
);

COMMENT ON TABLE unkeyed_records IS
    'DrChrono objects with no numeric id (recurring appointment occurrences): kept and counted, not mirrored.';

ALTER TABLE sync_runs
    -- incremental (since a cursor or a given time), full (everything of the
    -- kind), patient (one patient''s entries); a chart pass''s plan row says
    -- practice_wide or per_patient.
    ADD COLUMN scope   text,
    ADD COLUMN removed bigint NOT NULL DEFAULT 0,
    ADD COLUMN unkeyed bigint NOT NULL DEFAULT 0;

ALTER TABLE drchrono_rate_budget ADD COLUMN next_slot timestamptz;

COMMENT ON COLUMN drchrono_rate_budget.next_slot IS
    'The earliest time the next call may start: calls are spaced 1/DRCHRONO_CALLS_PER_SECOND apart across processes.';
