-- Where each reconciliation walk resumes, and what each walk did.

CREATE TABLE sync_cursors (
    name        text PRIMARY KEY,
    -- DrChrono updated_at high-water mark, minus the overlap window.
    resume_from timestamptz NOT NULL,
    advanced_at timestamptz NOT NULL DEFAULT now(),
    advanced_by text        NOT NULL
);

COMMENT ON TABLE sync_cursors IS
    'Advanced only when a sync job completes, so a walk that fails halfway is redone from the same point.';

CREATE TABLE sync_runs (
    id          bigserial PRIMARY KEY,
    schedule    text,
    job_id      text,
    kind        text        NOT NULL,
    since       timestamptz,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome     text        NOT NULL DEFAULT 'running'
                CHECK (outcome IN ('running', 'completed', 'failed', 'deferred')),
    seen        bigint      NOT NULL DEFAULT 0,
    created     bigint      NOT NULL DEFAULT 0,
    updated     bigint      NOT NULL DEFAULT 0,
    unchanged   bigint      NOT NULL DEFAULT 0,
    failed      bigint      NOT NULL DEFAULT 0,
    calls       bigint      NOT NULL DEFAULT 0,
    pages       bigint      NOT NULL DEFAULT 0,
    error       text
);
CREATE INDEX sync_runs_by_time ON sync_runs (started_at);
