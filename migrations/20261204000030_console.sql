-- The operator console (/console): its sessions, and the indexes that keep
-- each of its pages a bounded scan with a million finished jobs.

-- One row per logged-in browser. Only the SHA-256 of the session id is kept,
-- so a copy of this table opens no session. `flash` is the outcome of the
-- session's last action (ids and states, never PHI), shown once on the page
-- the action redirects to.
CREATE TABLE console_sessions (
    id_sha256    bytea       PRIMARY KEY,
    role         text        NOT NULL CHECK (role IN ('admin', 'readonly')),
    csrf         text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    flash        text
);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);

COMMENT ON TABLE console_sessions IS
    'Console logins: SHA-256 of the cookie''s session id, role, CSRF token, expiry; logout deletes the row.';

-- Jobs page, filtered by queue or by state, newest first (a ULID id sorts by
-- enqueue time), paged with `before` an id.
CREATE INDEX jobs_by_queue_newest ON apalis.jobs (job_type, id DESC);
CREATE INDEX jobs_by_status_newest ON apalis.jobs (status, id DESC);

-- Overview: per queue counts of the jobs not finished (and the dead), so the
-- finished ones, however many, are never counted.
CREATE INDEX jobs_unfinished_by_queue ON apalis.jobs (job_type, status, run_at)
    WHERE status IN ('Pending', 'Queued', 'Running', 'Failed', 'Killed');

-- Deliveries page filtered by outcome, newest first.
CREATE INDEX webhook_deliveries_by_outcome ON webhook_deliveries (outcome, id DESC);

-- Review page: the open Deep Cura notes oldest first, the unmatched partner
-- events and the patients with unparsed phones, newest first.
CREATE INDEX deepcura_notes_open_by_arrival ON deepcura_notes (received_at, id)
    WHERE link_status IN ('unlinked', 'ambiguous');
CREATE INDEX appointment_events_unmatched ON appointment_events (id DESC) WHERE match_status = 'unmatched';
CREATE INDEX patients_phones_unparsed ON patients (id DESC) WHERE phones_unparsed > 0;
