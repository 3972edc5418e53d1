-- Hits close to the term by trigrams (typos, swapped first and last name)
-- that prefix.sql did not find, most similar first. A term of several
-- words is compared with the whole name (`%`), one word with the closest
-- part of it (`<%`), each at the threshold the transaction set, and ranked
-- by that same measure (one trigram comparison per candidate in the sort).
-- $1 the normalized term, $2 it as a regular expression literal, $3 birth
-- date, $4 phone in E.164, $5 whether the term has several words, $6 how
-- many rows, $7 how many to skip.
SELECT p.id, p.first_name, p.last_name, p.date_of_birth, p.chart_id
FROM patients p
WHERE p.removed_at IS NULL
  AND ($3::date IS NULL OR p.date_of_birth = $3)
  AND ($4::text IS NULL OR p.phone_home_e164 = $4 OR p.phone_mobile_e164 = $4)
  AND (($5 AND p.search_name % $1) OR (NOT $5 AND $1 <% p.search_name))
  AND p.search_name !~ ('(^| )' || $2)
ORDER BY CASE WHEN $5 THEN similarity($1, p.search_name) ELSE word_similarity($1, p.search_name) END DESC,
         p.last_name, p.first_name, p.id
LIMIT $6 OFFSET $7
