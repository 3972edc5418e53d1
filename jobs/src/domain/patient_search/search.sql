-- A search by name in one statement: its hits, ranked and paged, and its
-- `read_audit` row, so the read and its record commit together and a search
-- costs one round trip however many steps it takes.
--
-- $1 the name as given, $2 birth date (or NULL), $3 phone in E.164 (or
-- NULL), $4 offset, $5 limit, $6 and $7 the audit row's actor and what, $8
-- the trigram similarity a correction needs (text, for set_config), $9 the
-- least mean similarity of a typo hit's corrections, $10 the fewest
-- characters a term needs for the typo step.
--
-- Every term-derived value comes from $1 through IMMUTABLE functions, so the
-- planner folds them into constants: the word prefix becomes an index range
-- over `patient_name_words`, and the branches a term cannot use (a typo
-- step for a short term, a one-word step for two words) are planned away.
-- Names are found through the index of their words (`patients_search_words`):
-- a whole word is one posting list, where a trigram pattern cost several and
-- a recheck of every candidate.
WITH t AS NOT MATERIALIZED (
    SELECT n.term, string_to_array(n.term, ' ') AS words, cardinality(string_to_array(n.term, ' ')) AS k
    FROM (SELECT patient_search_term($1) AS term) n
),
-- The whole name equal to the term (rank 0), the term as whole words (1),
-- the term at the start of a word (2); by name within a rank. The term's
-- last word may end inside a name word: its candidates are the name words
-- it begins (LIKE, escaped). A term that normalizes to nothing (only marks
-- unaccent removes) would match every name: it matches none instead.
prefix AS MATERIALIZED (
    SELECT p.id, p.first_name, p.last_name, p.date_of_birth, p.chart_id,
           CASE WHEN p.search_name = t.term THEN 0
                WHEN strpos(' ' || p.search_name || ' ', ' ' || t.term || ' ') > 0 THEN 1
                ELSE 2 END AS rank,
           0::float8 AS score
    FROM patients p, t
    WHERE p.removed_at IS NULL
      AND ($2::date IS NULL OR p.date_of_birth = $2)
      AND ($3::text IS NULL OR p.phone_home_e164 = $3 OR p.phone_mobile_e164 = $3)
      AND t.term <> ''
      AND (t.k < 2 OR string_to_array(p.search_name, ' ') @> t.words[1:t.k - 1])
      AND string_to_array(p.search_name, ' ') && ARRAY(
          SELECT w.word FROM patient_name_words w
          WHERE w.word LIKE replace(replace(replace(t.words[t.k], '\', '\\'), '%', '\%'), '_', '\_') || '%')
      AND strpos(' ' || p.search_name, ' ' || t.term) > 0
    ORDER BY rank, p.last_name, p.first_name, p.id
    LIMIT $4 + $5 + 1
),
-- The typo step, only when the prefix hits do not fill the page. The
-- threshold is set here, for this statement's transaction only, before any
-- row reaches the `%` below: a database-wide setting cannot change hits.
words AS MATERIALIZED (
    SELECT u.w, u.n::integer AS n, t.k
    FROM t, (SELECT set_config('pg_trgm.similarity_threshold', $8, true)) AS cfg(threshold),
         unnest(t.words) WITH ORDINALITY AS u(w, n)
    WHERE char_length(t.term) >= $10 AND cfg.threshold IS NOT NULL
      AND (SELECT count(*) FROM prefix) < $4 + $5 + 1
),
-- Per term word, its closest name words, at most four; one too far to reach
-- the least mean even beside exact words would only widen the candidates.
fixes AS MATERIALIZED (
    SELECT t.n, c.word, c.s
    FROM words t
    CROSS JOIN LATERAL (
        SELECT word, similarity(word, t.w)::float8 AS s FROM patient_name_words
        WHERE word % t.w
        ORDER BY s DESC, word
        LIMIT 4
    ) c
    WHERE c.s + (t.k - 1) >= $9 * t.k
),
-- A one-word term's closest corrections (ties included) give the highest
-- score, so their namesakes rank first among typo hits, by name alone, and
-- a common surname's thousand namesakes are neither scored nor, when they
-- fill the page, joined by the next correction's.
closest AS MATERIALIZED (
    SELECT p.id, p.first_name, p.last_name, p.date_of_birth, p.chart_id, 3 AS rank,
           (SELECT max(s) FROM fixes) AS score
    FROM patients p, t
    WHERE p.removed_at IS NULL
      AND t.k = 1
      AND ($2::date IS NULL OR p.date_of_birth = $2)
      AND ($3::text IS NULL OR p.phone_home_e164 = $3 OR p.phone_mobile_e164 = $3)
      AND string_to_array(p.search_name, ' ')
          && (SELECT array_agg(word) FROM fixes WHERE s = (SELECT max(s) FROM fixes))
      AND strpos(' ' || p.search_name, ' ' || t.term) = 0
    ORDER BY p.last_name, p.first_name, p.id
    LIMIT $4 + $5 + 1
),
-- The other typo hits: a name holding, for each of the first three term
-- words, one of its corrections (further words only rank). Scored by the
-- best correction per term word, summed; by name within a score.
typo AS (
    SELECT p.id, p.first_name, p.last_name, p.date_of_birth, p.chart_id, 3 AS rank, m.score
    FROM patients p, t
    CROSS JOIN LATERAL (
        SELECT sum(best) AS score FROM (
            SELECT max(f.s) AS best FROM fixes f
            WHERE f.word = ANY (string_to_array(p.search_name, ' '))
            GROUP BY f.n
        ) per_word
    ) m
    WHERE p.removed_at IS NULL
      AND (SELECT count(*) FROM prefix) + (SELECT count(*) FROM closest) < $4 + $5 + 1
      AND ($2::date IS NULL OR p.date_of_birth = $2)
      AND ($3::text IS NULL OR p.phone_home_e164 = $3 OR p.phone_mobile_e164 = $3)
      AND string_to_array(p.search_name, ' ') && (SELECT array_agg(word) FROM fixes WHERE n = 1)
      AND (t.k < 2 OR string_to_array(p.search_name, ' ') && (SELECT array_agg(word) FROM fixes WHERE n = 2))
      AND (t.k < 3 OR string_to_array(p.search_name, ' ') && (SELECT array_agg(word) FROM fixes WHERE n = 3))
      AND NOT (t.k = 1 AND string_to_array(p.search_name, ' ')
               && (SELECT array_agg(word) FROM fixes WHERE s = (SELECT max(s) FROM fixes)))
      AND strpos(' ' || p.search_name, ' ' || t.term) = 0
      AND m.score >= $9 * t.k
    ORDER BY m.score DESC, p.last_name, p.first_name, p.id
    LIMIT $4 + $5 + 1
),
-- Each step returns its first offset + limit + 1 hits and a later step runs
-- only when the earlier ones return fewer, so these are the ranking's first.
page AS (
    SELECT * FROM (SELECT * FROM prefix UNION ALL SELECT * FROM closest UNION ALL SELECT * FROM typo) hits
    ORDER BY rank, score DESC, last_name, first_name, id
    LIMIT $5 + 1 OFFSET $4
),
audit AS (
    INSERT INTO read_audit (actor, what, records)
    SELECT $6, $7, least(count(*), $5) FROM page
)
SELECT id, first_name, last_name, date_of_birth, chart_id FROM page
ORDER BY rank, score DESC, last_name, first_name, id
