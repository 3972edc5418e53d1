-- Patient search by whole words instead of trigram patterns
-- (jobs/src/domain/patient_search/search.sql).
--
-- A name's words, as an array, in a GIN index: a whole word is one posting
-- list, and a word prefix is the few name words it begins (from
-- `patient_name_words`), where a trigram pattern read several posting lists
-- and rechecked every candidate row. The trigram index on `search_name`
-- then serves no query, and dropping it spares each patient upsert its
-- twenty-odd trigram entries.
CREATE INDEX patients_search_words ON patients USING gin (string_to_array(search_name, ' '))
    WHERE removed_at IS NULL;
DROP INDEX patients_search_name;

-- The name words a term's last word begins: a B-tree serves a prefix LIKE
-- only with pattern operators, unless the database's collation is "C".
CREATE INDEX patient_name_words_by_prefix ON patient_name_words (word text_pattern_ops);

-- A search term normalized as the stored names are. The search's planner
-- folds the term into constants once per reference, and each fold of the
-- SQL function planned its body again; PL/pgSQL keeps the plan of its body
-- for the session.
CREATE FUNCTION patient_search_term(term text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
BEGIN
    RETURN patient_search_name(term, NULL);
END;
$$;
