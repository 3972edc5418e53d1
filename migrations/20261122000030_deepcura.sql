-- Deep Cura Gridhooks: visit notes from the AI scribe, stored decrypted and
-- parsed, and linked to the DrChrono clinical note they document.

-- Gridhook deliveries share the inbox; they are stored still encrypted.
-- deepcura_note_id points from a delivery to the note it produced.
ALTER TABLE webhook_deliveries ADD COLUMN deepcura_note_id bigint;

CREATE TABLE deepcura_notes (
    id                  bigserial PRIMARY KEY,
    session_id          text        NOT NULL UNIQUE,
    -- The newest delivery applied; an older one running late changes nothing.
    delivery_id         bigint      NOT NULL,
    appointment_id      bigint,
    patient_id          bigint,
    doctor_id           bigint,
    session_date        date,
    soap_subjective     text,
    soap_objective      text,
    soap_assessment     text,
    soap_plan           text,
    transcript          text,
    icd10_codes         jsonb       NOT NULL DEFAULT '[]',
    cpt_codes           jsonb       NOT NULL DEFAULT '[]',
    medication_mentions jsonb,
    billing_summary     jsonb,
    risk_assessment     jsonb,
    -- The whole decrypted JSON, unknown fields included, sealed with
    -- TOKEN_ENCRYPTION_KEY (AES-256-GCM) like the OAuth tokens.
    raw_sealed          bytea       NOT NULL,
    -- HMAC of the decrypted JSON under the same key: a re-delivery of the same
    -- content is recognised without opening the sealed copy.
    raw_fingerprint     bytea       NOT NULL,
    link_status         text        NOT NULL DEFAULT 'unlinked'
                            CHECK (link_status IN ('unlinked', 'linked', 'ambiguous')),
    clinical_note_id    bigint,
    -- 'manual': set by an operator; automatic linking leaves it alone.
    link_method         text CHECK (link_method IN ('appointment', 'patient_date', 'manual')),
    link_candidates     bigint[]    NOT NULL DEFAULT '{}',
    linked_at           timestamptz,
    received_at         timestamptz NOT NULL DEFAULT now(),
    synced_at           timestamptz NOT NULL DEFAULT now(),
    synced_by           text        NOT NULL,
    CHECK ((link_status = 'linked') = (clinical_note_id IS NOT NULL))
);
-- What a newly arrived appointment or clinical note is matched against.
CREATE INDEX deepcura_notes_open_by_appointment ON deepcura_notes (appointment_id)
    WHERE link_status <> 'linked' OR link_method = 'patient_date';
CREATE INDEX deepcura_notes_open_by_patient_day ON deepcura_notes (patient_id, session_date)
    WHERE link_status <> 'linked' OR link_method = 'patient_date';
CREATE INDEX deepcura_notes_by_clinical_note ON deepcura_notes (clinical_note_id);

COMMENT ON TABLE deepcura_notes IS
    'Deep Cura visit notes, one per session_id. link_status: linked (clinical_note_id set), '
    'ambiguous (several candidate notes in link_candidates), or unlinked (none yet).';

-- change_log leaves out columns named as trigger arguments: for Deep Cura
-- notes, the sealed raw JSON and the transcript, which are large and the
-- former meaningless outside the service.
CREATE OR REPLACE FUNCTION record_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    rid     bigint;
    actor   text;
    op      text := lower(TG_OP);
    omitted text[] := coalesce(TG_ARGV, '{}'::text[]) || ARRAY['synced_at'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        rid := OLD.id;
        actor := coalesce(current_setting('drchrono_sync.actor', true), OLD.synced_by);
    ELSE
        rid := NEW.id;
        actor := NEW.synced_by;
    END IF;
    INSERT INTO change_log (table_name, record_id, op, actor, old_values, new_values)
    VALUES (TG_TABLE_NAME, rid, op, actor,
            CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) - omitted END,
            CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) - omitted END);
    PERFORM pg_notify('drchrono_sync_changes',
                      json_build_object('table', TG_TABLE_NAME, 'id', rid, 'op', op)::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER record_change AFTER INSERT OR UPDATE OR DELETE ON deepcura_notes
    FOR EACH ROW EXECUTE FUNCTION record_change('raw_sealed', 'raw_fingerprint', 'transcript');
