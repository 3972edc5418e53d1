-- Replaying stored deliveries (cargo xtask deliveries replay). A replay is
-- a new inbox row that names its original in replay_of; the original keeps
-- its outcome and job. The replay keeps the original's received_at, so the
-- body it copies is pruned on the original's schedule; replayed_at is when
-- it was admitted again.
ALTER TABLE webhook_deliveries
    ADD COLUMN replay_of   bigint,
    ADD COLUMN replayed_at timestamptz;
CREATE INDEX webhook_deliveries_replays ON webhook_deliveries (replay_of) WHERE replay_of IS NOT NULL;

COMMENT ON COLUMN webhook_deliveries.replay_of IS
    'For a replay: the inbox row it re-admitted. NULL for a delivery as received.';

-- Operator actions about deliveries name them, as job_ids names jobs.
ALTER TABLE operator_actions ADD COLUMN delivery_ids bigint[] NOT NULL DEFAULT '{}';
CREATE INDEX operator_actions_by_delivery ON operator_actions USING gin (delivery_ids);
