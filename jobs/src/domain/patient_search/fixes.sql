-- The typo step's first half: for each word of the term, the closest words
-- of the patients' names (`patient_name_words`), at most four, at the
-- trigram similarity the transaction set. $1 the term's words in order.
SELECT t.n::integer AS n, c.word, similarity(c.word, t.w)::float8 AS s
FROM unnest($1::text[]) WITH ORDINALITY AS t(w, n)
CROSS JOIN LATERAL (
    SELECT word FROM patient_name_words
    WHERE word % t.w
    ORDER BY similarity(word, t.w) DESC, word
    LIMIT 4
) c
ORDER BY t.n, s DESC, c.word
