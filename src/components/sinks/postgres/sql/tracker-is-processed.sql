-- $1 pipeline_id, $2 batch_id
SELECT EXISTS (SELECT 1 FROM {{schema}}.batch_tracker WHERE pipeline_id = $1 AND batch_id = $2) AS processed
