-- Hits whose name has the term at the start of a word, ranked: the whole
-- name equal to the term, then the term as whole words, then a word prefix;
-- by name within a rank. Without a name term ($1 NULL), every patient the
-- other criteria match, by name. Removed patients are never hits.
-- One regular expression rather than two LIKE patterns (name start, word
-- start): one scan of the trigram index instead of two.
-- $1 the normalized term, $2 it as a regular expression literal, $3 birth
-- date, $4 phone in E.164, $5 how many rows.
SELECT p.id, p.first_name, p.last_name, p.date_of_birth, p.chart_id
FROM patients p
WHERE p.removed_at IS NULL
  AND ($3::date IS NULL OR p.date_of_birth = $3)
  AND ($4::text IS NULL OR p.phone_home_e164 = $4 OR p.phone_mobile_e164 = $4)
  AND ($1::text IS NULL OR p.search_name ~ ('(^| )' || $2))
ORDER BY CASE WHEN $1::text IS NULL OR p.search_name = $1 THEN 0
              WHEN p.search_name ~ ('(^| )' || $2 || '( |$)') THEN 1
              ELSE 2 END,
         p.last_name, p.first_name, p.id
LIMIT $5
