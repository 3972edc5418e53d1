-- The webhook inbox: every delivery, verified or not, with what became of it.
CREATE TABLE webhook_deliveries (
    id            bigserial PRIMARY KEY,
    source        text        NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    delivery_id   text,
    event         text,
    object_id     bigint,
    headers       jsonb       NOT NULL,
    body          bytea       NOT NULL,
    verified      boolean     NOT NULL,
    outcome       text        NOT NULL CHECK (outcome IN
                      ('accepted', 'duplicate', 'unhandled', 'ping', 'rejected_auth', 'malformed')),
    reason        text,
    job_id        text
);
CREATE INDEX webhook_deliveries_by_object ON webhook_deliveries (source, object_id, received_at);
CREATE INDEX webhook_deliveries_by_delivery_id ON webhook_deliveries (source, delivery_id);

COMMENT ON TABLE webhook_deliveries IS
    'Inbox of webhook deliveries, stored in the same transaction that enqueues their job.';

CREATE TABLE patients (
    id                bigint PRIMARY KEY,
    chart_id          text,
    first_name        text,
    middle_name       text,
    last_name         text,
    date_of_birth     date,
    gender            text,
    email             text,
    cell_phone        text,
    home_phone        text,
    doctor_id         bigint,
    patient_status    text,
    raw               jsonb       NOT NULL,
    source_updated_at timestamptz,
    synced_at         timestamptz NOT NULL DEFAULT now(),
    synced_by         text        NOT NULL
);

COMMENT ON COLUMN patients.source_updated_at IS
    'DrChrono''s updated_at; an upsert carrying an older value is ignored.';
