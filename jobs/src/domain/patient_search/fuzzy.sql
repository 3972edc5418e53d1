-- The typo step's second half: patients whose name has, for every word of
-- the term, one of its corrections (fixes.sql), that prefix.sql did not
-- find, and whose corrections are close enough on average. Ranked by how
-- close the corrections are (the best per term word, summed), then by name. Each pattern ($8, $9, $10: the first three term
-- words; NULL when the term has fewer) is one term word's corrections as
-- whole words, each a condition the name index serves; the ranking then
-- compares words, not trigrams, per candidate.
-- $1 the normalized term, $2 it as a regular expression literal, $3 birth
-- date, $4 phone in E.164, $5 the corrections' term-word numbers, $6 the
-- corrections, $7 their similarities, $11 how many rows, $12 how many to
-- skip, $13 the least score a hit needs.
WITH fixes AS (
    SELECT * FROM unnest($5::integer[], $6::text[], $7::float8[]) AS f(n, word, s)
)
SELECT p.id, p.first_name, p.last_name, p.date_of_birth, p.chart_id
FROM patients p
CROSS JOIN LATERAL (
    SELECT sum(best) AS score FROM (
        SELECT max(f.s) AS best FROM fixes f
        WHERE f.word = ANY (string_to_array(p.search_name, ' '))
        GROUP BY f.n
    ) per_word
) m
WHERE p.removed_at IS NULL
  AND ($3::date IS NULL OR p.date_of_birth = $3)
  AND ($4::text IS NULL OR p.phone_home_e164 = $4 OR p.phone_mobile_e164 = $4)
  AND p.search_name ~ $8
  AND ($9::text IS NULL OR p.search_name ~ $9)
  AND ($10::text IS NULL OR p.search_name ~ $10)
  AND p.search_name !~ ('(^| )' || $2)
  AND m.score >= $13
ORDER BY m.score DESC, p.last_name, p.first_name, p.id
LIMIT $11 OFFSET $12
