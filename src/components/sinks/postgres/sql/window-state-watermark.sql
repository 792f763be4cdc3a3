-- The pipeline's committed watermark (after window-state-lock.sql: every commit before the lock is seen).
-- $1 pipeline_id
SELECT watermark_ms::text AS watermark_ms FROM {{schema}}.sluice_pipeline_state WHERE pipeline_id = $1::varchar
