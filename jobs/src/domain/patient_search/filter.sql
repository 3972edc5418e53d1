-- A search without a name: the patients the birth date and the phone match,
-- by name, and the search's `read_audit` row, in one statement (as
-- search.sql, whose name steps this search has no use for).
-- $1 birth date (or NULL), $2 phone in E.164 (or NULL), $3 offset, $4 limit,
-- $5 and $6 the audit row's actor and what.
WITH page AS (
    SELECT p.id, p.first_name, p.last_name, p.date_of_birth, p.chart_id
    FROM patients p
    WHERE p.removed_at IS NULL
      AND ($1::date IS NULL OR p.date_of_birth = $1)
      AND ($2::text IS NULL OR p.phone_home_e164 = $2 OR p.phone_mobile_e164 = $2)
    ORDER BY p.last_name, p.first_name, p.id
    LIMIT $4 + 1 OFFSET $3
),
audit AS (
    INSERT INTO read_audit (actor, what, records)
    SELECT $5, $6, least(count(*), $4) FROM page
)
SELECT id, first_name, last_name, date_of_birth, chart_id FROM page
ORDER BY last_name, first_name, id
