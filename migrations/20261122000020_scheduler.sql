-- The scheduler's claims: one row per fired tick (DESIGN.md, defect 8).
--
-- Every replica computes the same ticks; the one whose INSERT ... ON CONFLICT
-- DO NOTHING creates the row enqueues the tick's jobs in the same
-- transaction. The row outlives the jobs, so a tick fires once, ever.
-- The latest row per schedule is also where a replica back from an outage
-- starts: only ticks newer than it can fire.
CREATE TABLE scheduler_ticks (
    schedule  text        NOT NULL,
    tick_at   timestamptz NOT NULL,
    fired_at  timestamptz NOT NULL DEFAULT now(),
    fired_by  text        NOT NULL,
    job_ids   text[]      NOT NULL DEFAULT '{}',
    PRIMARY KEY (schedule, tick_at)
);

COMMENT ON TABLE scheduler_ticks IS
    'One row per fired cron tick: schedule, scheduled time, firing process and the jobs enqueued '
    '(empty when an equivalent job was still active). Retention may prune old rows but must keep '
    'the latest per schedule, or that schedule treats its next start as a first start.';
