-- Reads of PHI are audited too: every operator or admin read of a
-- PHI-bearing endpoint or command leaves who, when, what and how many
-- records. Nothing of what was read is kept here.
CREATE TABLE read_audit (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text        NOT NULL,
    what    text        NOT NULL,
    records integer     NOT NULL
);
CREATE INDEX read_audit_by_time ON read_audit (at);
