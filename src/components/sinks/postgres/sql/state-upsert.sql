-- $1 pipeline_id, $2 last_batch_id, $3 watermark_ms
INSERT INTO {{schema}}.sluice_pipeline_state (pipeline_id, last_batch_id, watermark_ms)
VALUES ($1, $2, $3)
ON CONFLICT (pipeline_id) DO UPDATE
SET last_batch_id = EXCLUDED.last_batch_id, watermark_ms = EXCLUDED.watermark_ms, updated_at = now()
