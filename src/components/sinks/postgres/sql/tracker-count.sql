-- Number of batch_tracker rows of a pipeline (etl_batch_tracker_records_total). $1 pipeline_id
SELECT count(*)::text AS n FROM {{schema}}.batch_tracker WHERE pipeline_id = $1
