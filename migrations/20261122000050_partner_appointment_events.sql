-- The partner appointment feed: every accepted event, and what it did to the
-- appointment it names.

CREATE TABLE appointment_events (
    id                     bigserial PRIMARY KEY,
    event_type             text        NOT NULL CHECK (event_type IN
                               ('appointment.scheduled', 'appointment.cancelled', 'appointment.updated')),
    -- The partner's ids, as sent.
    appointment_id         text        NOT NULL,
    patient_id             text        NOT NULL,
    -- The event's `timestamp`: as sent, and as an instant.
    timestamp_sent         text        NOT NULL,
    occurred_at            timestamptz NOT NULL,
    notes                  text,
    received_at            timestamptz NOT NULL DEFAULT now(),
    request_id             text        NOT NULL,
    body                   bytea       NOT NULL,
    job_id                 text,
    -- pending: not applied yet; applied: the appointment carries its status;
    -- superseded: a newer partner event already set the status;
    -- unmatched: no stored appointment has this id.
    match_status           text        NOT NULL DEFAULT 'pending'
                               CHECK (match_status IN ('pending', 'applied', 'superseded', 'unmatched')),
    matched_appointment_id bigint,
    applied_at             timestamptz
);

-- The duplicate rule ("same appointment, same timestamp") is this index:
-- INSERT ... ON CONFLICT DO NOTHING makes it race-free under concurrent senders.
-- Timestamps compare as instants, so 12:30:00Z and 07:30:00-05:00 are one event.
CREATE UNIQUE INDEX appointment_events_one_per_instant ON appointment_events (appointment_id, occurred_at);
CREATE INDEX appointment_events_by_patient ON appointment_events (patient_id, id);
CREATE INDEX appointment_events_by_type ON appointment_events (event_type, id);
CREATE INDEX appointment_events_by_time ON appointment_events (occurred_at);

COMMENT ON TABLE appointment_events IS
    'Partner appointment events, stored with the raw body in the transaction that enqueues '
    'apply_partner_appointment_event.';

-- Partner appointment ids that are not DrChrono ids, mapped by an operator.
-- An id found neither here nor as a numeric DrChrono id leaves its event unmatched.
CREATE TABLE partner_appointment_links (
    partner_appointment_id text PRIMARY KEY,
    appointment_id         bigint      NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now()
);

-- What the partner last said about an appointment. DrChrono's own columns
-- (status, deleted, raw) are never written by the feed; a refetch keeps them current.
ALTER TABLE appointments
    ADD COLUMN partner_status text CHECK (partner_status IN ('scheduled', 'cancelled', 'updated')),
    ADD COLUMN partner_status_at timestamptz,
    ADD COLUMN partner_event_id bigint;

COMMENT ON COLUMN appointments.partner_status IS
    '''cancelled'' means cancelled by the partner; set by apply_partner_appointment_event from the newest partner event.';
