-- Indexes of the inbox that no query of the service uses, each paid for by
-- every delivery stored. `webhook_deliveries_by_record` serves the lookups
-- by object (upsert_record's newest version), so `_by_object` is left
-- with none; nothing reads deliveries by patient.
DROP INDEX IF EXISTS webhook_deliveries_by_object;
DROP INDEX IF EXISTS webhook_deliveries_by_patient;
