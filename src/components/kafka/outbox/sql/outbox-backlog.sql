-- What a pipeline has waiting in the outbox, per destination topic.
-- $1 pipeline_id
SELECT topic, count(*)::integer AS rows, min(created_at) AS oldest
FROM {{table}}
WHERE pipeline_id = $1
GROUP BY topic
ORDER BY topic
