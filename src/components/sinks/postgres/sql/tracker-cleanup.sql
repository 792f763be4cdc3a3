-- Deletes tracker rows older than $2 days, for one pipeline ($1) or all ($1 NULL), never the newest
-- row of a pipeline: a re-run of the last batch must still be recognised as a duplicate.
DELETE FROM {{schema}}.batch_tracker b
WHERE b.processed_at < LOCALTIMESTAMP - make_interval(days => $2::int)
  AND ($1::text IS NULL OR b.pipeline_id = $1::text)
  AND b.batch_id < (SELECT MAX(m.batch_id) FROM {{schema}}.batch_tracker m WHERE m.pipeline_id = b.pipeline_id)
