-- The committed state of a pipeline: its state row, else (seed-era tracker) the tracker's last batch.
-- $1 pipeline_id
SELECT
  (SELECT last_batch_id::text FROM {{schema}}.sluice_pipeline_state WHERE pipeline_id = $1) AS last_batch_id,
  (SELECT watermark_ms::text FROM {{schema}}.sluice_pipeline_state WHERE pipeline_id = $1) AS watermark_ms,
  (SELECT MAX(batch_id)::text FROM {{schema}}.batch_tracker WHERE pipeline_id = $1) AS tracker_batch_id
