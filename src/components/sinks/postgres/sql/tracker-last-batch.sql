-- Last processed batch of a pipeline (NULL when none). $1 pipeline_id
SELECT MAX(batch_id)::text AS batch_id FROM {{schema}}.batch_tracker WHERE pipeline_id = $1
