-- A delivery that failed authentication keeps no body: anyone can post
-- one, so it is a way to fill the disk and proves nothing. Its size and a
-- SHA-256 of its body stay, so an operator can still tell two apart.
ALTER TABLE webhook_deliveries
    ADD COLUMN body_size   integer,
    ADD COLUMN body_sha256 text;
UPDATE webhook_deliveries
   SET body_size = octet_length(body), body_sha256 = encode(sha256(body), 'hex'), body = ''::bytea
 WHERE NOT verified;
CREATE INDEX webhook_deliveries_unverified ON webhook_deliveries (received_at) WHERE NOT verified;

-- Retention of bodies that hold PHI, as configured (RETENTION_*): the rows
-- stay for the audit, their bodies go.
ALTER TABLE write_requests ADD COLUMN body_pruned_at timestamptz;
ALTER TABLE appointment_events ADD COLUMN body_pruned_at timestamptz;
ALTER TABLE deepcura_notes ADD COLUMN text_pruned_at timestamptz;

-- What each cleanup pruned, per table.
ALTER TABLE sync_runs ADD COLUMN pruned jsonb;
