-- Every pending outbox row of a pipeline, for the recovery check after a relay (re)start.
-- $1 pipeline_id
SELECT batch_id, seq, topic, created_at
FROM {{table}}
WHERE pipeline_id = $1
