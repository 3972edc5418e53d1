-- Patient search without a call to DrChrono (`GET /api/patients/search`,
-- `cargo xtask patients search`; the query is jobs/src/domain/patient_search).
--
-- Names are matched accent- and case-blind, by word prefix and by trigram
-- word similarity (typos), so both sides are normalized the same way by
-- `patient_search_name`. Both extensions ship with PostgreSQL (contrib) and
-- are trusted: a database owner may create them without superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;

-- unaccent() is STABLE because its dictionary could be changed; an index
-- needs IMMUTABLE. Naming the dictionary and the schema fixes both, so the
-- index cannot go stale through a search_path change.
CREATE FUNCTION f_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
BEGIN ATOMIC
    SELECT public.unaccent('public.unaccent'::regdictionary, $1);
END;

-- "first last", lowercased and without accents or repeated spaces: what the
-- name index holds and what a search term is compared with.
CREATE FUNCTION patient_search_name(first_name text, last_name text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT btrim(regexp_replace(lower(public.f_unaccent(coalesce(first_name, '') || ' ' || coalesce(last_name, ''))),
                                '\s+', ' ', 'g'));
END;

-- The normalized name, stored: computing it per candidate row at query
-- time (unaccent is a dictionary lookup per character) made a common prefix
-- cost hundreds of milliseconds on 100,000 patients. It is derived, so the
-- audit trigger leaves it out of `change_log` (the names are audited).
ALTER TABLE patients
    ADD COLUMN search_name text GENERATED ALWAYS AS (patient_search_name(first_name, last_name)) STORED;

DROP TRIGGER record_change ON patients;
CREATE TRIGGER record_change AFTER INSERT OR UPDATE OR DELETE ON patients
    FOR EACH ROW EXECUTE FUNCTION record_change('search_name');

-- A removed patient (gone from DrChrono) is never a search hit, so the
-- indexes leave those rows out.
CREATE INDEX patients_search_name ON patients USING gin (search_name gin_trgm_ops) WHERE removed_at IS NULL;
CREATE INDEX patients_by_birth_date ON patients (date_of_birth) WHERE removed_at IS NULL;
CREATE INDEX patients_by_home_phone ON patients (phone_home_e164)
    WHERE removed_at IS NULL AND phone_home_e164 IS NOT NULL;
CREATE INDEX patients_by_mobile_phone ON patients (phone_mobile_e164)
    WHERE removed_at IS NULL AND phone_mobile_e164 IS NOT NULL;

-- The distinct words of the patients' normalized names. A typo is corrected
-- against these few thousand words, and patients are then found by the
-- corrected words through the name index, instead of ranking every patient
-- whose name is merely close. Words are only added: one no longer used
-- finds nobody. Statement-level triggers add each statement's words in one
-- sorted insert, so concurrent upserts take the word rows' locks in the
-- same order and cannot deadlock on them.
CREATE TABLE patient_name_words (word text PRIMARY KEY);
CREATE INDEX patient_name_words_trigrams ON patient_name_words USING gin (word gin_trgm_ops);

CREATE FUNCTION record_name_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO patient_name_words (word)
    SELECT DISTINCT w FROM new_rows, unnest(string_to_array(new_rows.search_name, ' ')) AS w
    WHERE w <> '' ORDER BY w
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;
CREATE TRIGGER record_name_words_on_insert AFTER INSERT ON patients
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION record_name_words();
CREATE TRIGGER record_name_words_on_update AFTER UPDATE ON patients
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION record_name_words();

INSERT INTO patient_name_words (word)
SELECT DISTINCT w FROM patients, unnest(string_to_array(search_name, ' ')) AS w WHERE w <> ''
ON CONFLICT DO NOTHING;
