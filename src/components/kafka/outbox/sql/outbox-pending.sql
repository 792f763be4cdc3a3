-- The next outbox rows of a pipeline to publish, in publication order (headers as JSON text).
-- $1 pipeline_id, $2 most rows
SELECT batch_id, seq, topic, key, value, headers::text AS headers
FROM {{table}}
WHERE pipeline_id = $1
ORDER BY batch_id, seq
LIMIT $2
