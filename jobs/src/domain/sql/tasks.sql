-- Per-table part of the upsert; see upsert_head.sql and upsert_tail.sql.
-- The patient is the first associated item of type Patient; `due_date` is
-- `{time}`; `deleted_flag` is set by a TASK_DELETE delivery (upsert_record).
INSERT INTO tasks AS t (id, patient_id, title, status_id, category_id, priority, assignee_user_id,
    assignee_group_id, due_at, archived, deleted, raw, source_updated_at, synced_by)
SELECT id,
       (SELECT drchrono_id(i->>'value')
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(r->'associated_items') = 'array'
                                       THEN r->'associated_items' ELSE '[]' END) WITH ORDINALITY AS a(i, n)
        WHERE i->>'type' = 'Patient' ORDER BY n LIMIT 1),
       nullif_blank(r->>'title'), drchrono_id(r->>'status'), drchrono_id(r->>'category'),
       drchrono_id(r->>'priority')::integer, drchrono_id(r->>'assignee_user'), drchrono_id(r->>'assignee_group'),
       drchrono_time(CASE WHEN jsonb_typeof(r->'due_date') = 'object' THEN r->'due_date'->>'time'
                          ELSE r->>'due_date' END, $3),
       coalesce((r->>'archived')::boolean, false), coalesce((r->>'deleted_flag')::boolean, false),
       r, updated_at, $2
FROM input
ON CONFLICT (id) DO UPDATE SET patient_id = EXCLUDED.patient_id, title = EXCLUDED.title,
    status_id = EXCLUDED.status_id, category_id = EXCLUDED.category_id, priority = EXCLUDED.priority,
    assignee_user_id = EXCLUDED.assignee_user_id, assignee_group_id = EXCLUDED.assignee_group_id,
    due_at = EXCLUDED.due_at, archived = EXCLUDED.archived, deleted = EXCLUDED.deleted,
