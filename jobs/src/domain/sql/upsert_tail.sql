-- Shared tail of every upsert: stale-safe, and identical rows are not
-- rewritten, unless the row was marked removed and is listed again. $5 names
-- the kind's verbose-only keys, kept when an object comes without them.
    raw = carry_keys(t.raw, EXCLUDED.raw, $5::text[]), source_updated_at = EXCLUDED.source_updated_at,
    synced_at = now(), synced_by = EXCLUDED.synced_by, removed_at = NULL
WHERE (t.raw IS DISTINCT FROM carry_keys(t.raw, EXCLUDED.raw, $5::text[]) OR t.removed_at IS NOT NULL)
  AND (t.source_updated_at IS NULL OR EXCLUDED.source_updated_at IS NULL
       OR EXCLUDED.source_updated_at >= t.source_updated_at)
RETURNING t.id, (xmax = 0) AS inserted
