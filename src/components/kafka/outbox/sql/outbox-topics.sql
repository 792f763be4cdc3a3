-- The destination topics of a pipeline's pending outbox rows.
-- $1 pipeline_id
SELECT DISTINCT topic
FROM {{table}}
WHERE pipeline_id = $1
