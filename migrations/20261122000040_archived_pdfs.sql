-- Note PDF archive: one provider check per locked version of a note, and
-- every PDF version put to S3. The uploader may only PutObject, so these
-- rows (never a HEAD or LIST on the bucket) are what makes archiving
-- idempotent.

CREATE TABLE pdf_checks (
    id               bigserial PRIMARY KEY,
    clinical_note_id bigint      NOT NULL,
    -- The note's DrChrono updated_at when it was checked: a note unlocked,
    -- edited and locked again is a new version and is checked again.
    note_updated_at  timestamptz,
    result           text        NOT NULL CHECK (result IN ('matched', 'not_matched', 'needs_review')),
    -- needs_review: why the text could not be judged; matched: how it matched.
    reason           text,
    matched_page     integer,
    pages            integer,
    sha256           text,
    size_bytes       bigint,
    job_id           text,
    checked_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (clinical_note_id, note_updated_at)
);
CREATE INDEX pdf_checks_needing_review ON pdf_checks (checked_at) WHERE result = 'needs_review';

COMMENT ON TABLE pdf_checks IS
    'Whether PROVIDER_STRING appears in a locked note''s PDF; one row per note version, so a rerun never refetches.';

CREATE TABLE archived_pdfs (
    id               bigserial PRIMARY KEY,
    clinical_note_id bigint      NOT NULL,
    patient_id       bigint,
    -- 1 for the note's first archived PDF, 2 for a later, different one, ...
    version          integer     NOT NULL CHECK (version > 0),
    bucket           text        NOT NULL,
    object_key       text        NOT NULL,
    sha256           text        NOT NULL,
    size_bytes       bigint      NOT NULL,
    etag             text,
    -- Set when the bucket keeps versions.
    s3_version_id    text,
    check_id         bigint      NOT NULL REFERENCES pdf_checks (id),
    job_id           text,
    archived_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (clinical_note_id, sha256),
    UNIQUE (clinical_note_id, version)
);

COMMENT ON TABLE archived_pdfs IS
    'Every note PDF put to S3: key, SHA-256, size and ETag. The same bytes are put once per note; a changed PDF is a new version and the older rows stay.';
