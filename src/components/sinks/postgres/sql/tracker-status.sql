-- The newest tracker row of a pipeline, for `sluice status`. $1 pipeline_id
SELECT batch_id::text AS batch_id, processed_at, record_count::text AS record_count, checkpoint_location
FROM {{schema}}.batch_tracker WHERE pipeline_id = $1
ORDER BY batch_id DESC LIMIT 1
