-- An operator may mark a Deep Cura note as not linkable (no clinical note
-- will ever match it: a test session, a visit never charted). It leaves the
-- review list; link_method 'manual' keeps automatic linking off it, as for
-- a link made by hand. The reason is the operator's own words and stays on
-- the note, out of operator_actions.
ALTER TABLE deepcura_notes
    DROP CONSTRAINT deepcura_notes_link_status_check,
    ADD CONSTRAINT deepcura_notes_link_status_check
        CHECK (link_status IN ('unlinked', 'linked', 'ambiguous', 'unlinkable')),
    ADD COLUMN unlinkable_reason text;
