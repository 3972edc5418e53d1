-- The overview's per-queue counts are served by jobs_by_status_newest
-- (status leading, so only the unfinished and dead rows are read); the
-- partial index 20261204000030 added for them is never chosen over it and
-- only costs every job write.
DROP INDEX IF EXISTS apalis.jobs_unfinished_by_queue;
