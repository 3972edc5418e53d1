-- DrChrono's bulk lists (`/api/patients_list`, `/api/clinical_notes_list`)
-- answer a POST with a batch uuid that is polled until complete. A walk
-- through a batch outlives one job run: it waits for the batch as a durable
-- job wait, and a crash resumes at the next page within the batch's hour.
-- The ids listed so far are kept too, so the walk's end can still tell what
-- DrChrono no longer lists.
CREATE TABLE drchrono_batches (
    walk_key     text PRIMARY KEY,
    path         text        NOT NULL,
    uuid         text        NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    walk_started timestamptz NOT NULL,
    next_page    integer     NOT NULL DEFAULT 1,
    listed       bigint[]    NOT NULL DEFAULT '{}'
);

-- `new` with the listed keys of `old` that `new` lacks: the fields DrChrono
-- sends only with `verbose=true` (insurance, an allergy's description)
-- survive a plain list or a webhook that leaves them out.
CREATE FUNCTION carry_keys(old jsonb, new jsonb, keys text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT new || coalesce(
        (SELECT jsonb_object_agg(k, old -> k) FROM unnest(keys) AS k WHERE old ? k AND NOT new ? k),
        '{}'::jsonb)
$$;
