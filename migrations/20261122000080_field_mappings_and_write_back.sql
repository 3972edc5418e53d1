-- Normalized columns the practice's other systems read, computed on every
-- upsert (jobs/src/domain/sql/*.sql) and documented in the README ("Field
-- mappings"). Phones are put in E.164 in Rust (libphonenumber's rules) and
-- arrive beside the raw objects; everything else is computed here.

ALTER TABLE patients
    ADD COLUMN phone_home_e164          text,
    ADD COLUMN phone_mobile_e164        text,
    -- How many of home_phone and cell_phone were given but could not be
    -- parsed; their E.164 column stays NULL rather than a guess.
    ADD COLUMN phones_unparsed          smallint NOT NULL DEFAULT 0,
    ADD COLUMN gender_code              text CHECK (gender_code IN ('M', 'F', 'O', 'U')),
    ADD COLUMN address_line1            text,
    ADD COLUMN address_line2            text,
    ADD COLUMN city                     text,
    ADD COLUMN state                    text,
    ADD COLUMN postal_code              text,
    ADD COLUMN preferred_language_code  text,
    ADD COLUMN preferred_language_label text,
    ADD COLUMN race_code                text,
    ADD COLUMN race_label               text,
    ADD COLUMN ethnicity_code           text,
    ADD COLUMN ethnicity_label          text;

ALTER TABLE appointments
    ADD COLUMN start_utc timestamptz,
    ADD COLUMN end_utc   timestamptz;

-- DrChrono's demographic codes and their labels. Operators may add rows; a
-- code without a row keeps its code and a NULL label (see mapping_gaps).
CREATE TABLE code_labels (
    kind  text NOT NULL CHECK (kind IN ('language', 'race', 'ethnicity')),
    code  text NOT NULL,
    label text NOT NULL,
    PRIMARY KEY (kind, code)
);

INSERT INTO code_labels (kind, code, label) VALUES
    ('language', 'eng', 'English'), ('language', 'spa', 'Spanish'), ('language', 'fra', 'French'),
    ('language', 'zho', 'Chinese'), ('language', 'deu', 'German'), ('language', 'ita', 'Italian'),
    ('language', 'por', 'Portuguese'), ('language', 'rus', 'Russian'), ('language', 'ara', 'Arabic'),
    ('language', 'hin', 'Hindi'), ('language', 'vie', 'Vietnamese'), ('language', 'kor', 'Korean'),
    ('language', 'jpn', 'Japanese'), ('language', 'tgl', 'Tagalog'), ('language', 'pol', 'Polish'),
    ('language', 'hat', 'Haitian Creole'), ('language', 'fas', 'Persian'), ('language', 'ben', 'Bengali'),
    ('language', 'urd', 'Urdu'), ('language', 'yid', 'Yiddish'), ('language', 'heb', 'Hebrew'),
    ('language', 'ase', 'American Sign Language'),
    ('language', 'declined', 'Declined to specify'),
    ('race', 'indian', 'American Indian or Alaska Native'), ('race', 'asian', 'Asian'),
    ('race', 'black', 'Black or African American'),
    ('race', 'hawaiian', 'Native Hawaiian or Other Pacific Islander'), ('race', 'white', 'White'),
    ('race', 'other', 'Other race'), ('race', 'declined', 'Declined to specify'),
    ('ethnicity', 'hispanic', 'Hispanic or Latino'),
    ('ethnicity', 'not_hispanic', 'Not Hispanic or Latino'),
    ('ethnicity', 'declined', 'Declined to specify');

-- A DrChrono code as kept: trimmed, lower case; blank (DrChrono's "blank"
-- included) is NULL.
CREATE FUNCTION drchrono_code(v text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN lower(trim(v)) IN ('', 'blank') THEN NULL ELSE lower(trim(v)) END
$$;

CREATE FUNCTION code_label(kind text, v text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT label FROM code_labels c WHERE c.kind = code_label.kind AND c.code = drchrono_code(v)
$$;

-- DrChrono's gender (Male, Female, Other, UNK, blank) as M/F/O/U; anything
-- unrecognised is U, and mapping_gaps counts it.
CREATE FUNCTION gender_code(v text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE lower(trim(coalesce(v, '')))
        WHEN 'male' THEN 'M' WHEN 'm' THEN 'M'
        WHEN 'female' THEN 'F' WHEN 'f' THEN 'F'
        WHEN 'other' THEN 'O' WHEN 'o' THEN 'O'
        ELSE 'U' END
$$;

-- Blank text is NULL; used for the address parts.
CREATE FUNCTION nullif_blank(v text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT nullif(trim(v), '')
$$;

-- address_line1 is the first line of `address`; address_line2 is
-- `apartment` when given, else the rest of `address`'s lines joined by ", ".
CREATE FUNCTION address_line1(address text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT nullif_blank(split_part(replace(coalesce(address, ''), E'\r', ''), E'\n', 1))
$$;

CREATE FUNCTION address_line2(address text, apartment text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(nullif_blank(apartment), nullif_blank(array_to_string(
        ARRAY(SELECT nullif_blank(l)
              FROM unnest((string_to_array(replace(coalesce(address, ''), E'\r', ''), E'\n'))[2:]) AS l),
        ', ')))
$$;

-- Rows written before this migration: every mapping but the phones, which
-- need the service's parser and are filled at each row's next change.
UPDATE patients SET
    gender_code = gender_code(raw->>'gender'),
    address_line1 = address_line1(raw->>'address'),
    address_line2 = address_line2(raw->>'address', raw->>'apartment'),
    city = nullif_blank(raw->>'city'), state = upper(nullif_blank(raw->>'state')),
    postal_code = nullif_blank(raw->>'zip_code'),
    preferred_language_code = drchrono_code(raw->>'preferred_language'),
    preferred_language_label = code_label('language', raw->>'preferred_language'),
    race_code = drchrono_code(raw->>'race'), race_label = code_label('race', raw->>'race'),
    ethnicity_code = drchrono_code(raw->>'ethnicity'),
    ethnicity_label = code_label('ethnicity', raw->>'ethnicity'),
    synced_by = 'migration:field_mappings';

UPDATE appointments SET
    start_utc = scheduled_time,
    end_utc = scheduled_time + make_interval(mins => duration_minutes),
    synced_by = 'migration:field_mappings'
WHERE scheduled_time IS NOT NULL;

-- What the mappings could not map, by rule, counted (ids, never values).
CREATE VIEW mapping_gaps AS
SELECT 'phone not parseable' AS rule, count(*) AS patients, array_agg(id ORDER BY id) AS patient_ids
FROM patients WHERE phones_unparsed > 0
UNION ALL
SELECT 'gender not recognised', count(*), array_agg(id ORDER BY id)
FROM patients WHERE gender_code = 'U' AND lower(trim(coalesce(raw->>'gender', ''))) NOT IN ('', 'unk', 'unknown')
UNION ALL
SELECT 'language code without label', count(*), array_agg(id ORDER BY id)
FROM patients WHERE preferred_language_code IS NOT NULL AND preferred_language_label IS NULL
UNION ALL
SELECT 'race code without label', count(*), array_agg(id ORDER BY id)
FROM patients WHERE race_code IS NOT NULL AND race_label IS NULL
UNION ALL
SELECT 'ethnicity code without label', count(*), array_agg(id ORDER BY id)
FROM patients WHERE ethnicity_code IS NOT NULL AND ethnicity_label IS NULL;

COMMENT ON VIEW mapping_gaps IS
    'Per mapping rule, the patients whose value could not be mapped; values themselves are never shown.';

-- Write-back: every accepted request of the write API (POST/PATCH of
-- appointments and patients), stored in the transaction that enqueues its
-- push job. The body is what DrChrono will be sent.
CREATE TABLE write_requests (
    id              bigserial PRIMARY KEY,
    received_at     timestamptz NOT NULL DEFAULT now(),
    kind            text        NOT NULL CHECK (kind IN ('appointment', 'patient')),
    op              text        NOT NULL CHECK (op IN ('create', 'update')),
    -- The DrChrono id: given for an update, learned for a create.
    drchrono_id     bigint,
    body            jsonb       NOT NULL,
    -- Who asked: the token kind (`admin` or `partner`).
    requested_by    text        NOT NULL,
    idempotency_key text,
    job_id          text        NOT NULL,
    -- Set, and committed, before a create is POSTed: a retry that finds it
    -- set cannot know whether DrChrono created the record, and looks first.
    post_started_at timestamptz,
    -- How the DrChrono id was learned: `created` (201) or `adopted` (found
    -- by a retry after an unknown outcome).
    resolution      text CHECK (resolution IN ('created', 'adopted', 'patched')),
    completed_at    timestamptz,
    CHECK (op = 'create' OR drchrono_id IS NOT NULL)
);
CREATE UNIQUE INDEX write_requests_idempotency ON write_requests (requested_by, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX write_requests_by_job ON write_requests (job_id);

COMMENT ON TABLE write_requests IS
    'Write-back requests to DrChrono and their outcome; the body may hold PHI and is never logged.';
