-- Which of two deliveries of one Deep Cura session is the newer is decided
-- by the note's own time (`updated_at`, else `created_at`, in the decrypted
-- payload), not by which delivery reached the inbox first: Deep Cura may
-- retry an older version after a newer one. Delivery order decides only
-- between notes that carry no time.
ALTER TABLE deepcura_notes ADD COLUMN note_time timestamptz;
COMMENT ON COLUMN deepcura_notes.note_time IS
    'The note''s own updated_at (else created_at), capped at receipt plus FUTURE_SKEW; NULL when the payload has none.';
