-- `sluice reset`: the pipeline's state row, locked until COMMIT, and its newest tracker batch.
-- $1 pipeline_id
SELECT
  (SELECT last_batch_id::text FROM {{schema}}.sluice_pipeline_state WHERE pipeline_id = $1 FOR UPDATE) AS last_batch_id,
  (SELECT watermark_ms::text FROM {{schema}}.sluice_pipeline_state WHERE pipeline_id = $1) AS watermark_ms,
  (SELECT MAX(batch_id)::text FROM {{schema}}.batch_tracker WHERE pipeline_id = $1) AS tracker_batch_id
