-- Unmatched partner events are tried again when their appointment arrives
-- from DrChrono (jobs/src/hooks.rs); this finds them by the DrChrono id a
-- numeric partner id stands for.
CREATE INDEX appointment_events_unmatched_by_drchrono_id
    ON appointment_events (drchrono_id(appointment_id)) WHERE match_status = 'unmatched';
