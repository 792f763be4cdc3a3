-- The pipeline state after a batch: its id and the watermark for the next batch, which never moves
-- back (several workers commit in turn; each proposes what it saw). Returns the stored watermark.
-- $1 pipeline_id, $2 last_batch_id, $3 watermark_ms proposed by the batch
INSERT INTO {{schema}}.sluice_pipeline_state AS s (pipeline_id, last_batch_id, watermark_ms)
VALUES ($1, $2, $3)
ON CONFLICT (pipeline_id) DO UPDATE
SET last_batch_id = EXCLUDED.last_batch_id, watermark_ms = GREATEST(s.watermark_ms, EXCLUDED.watermark_ms), updated_at = now()
RETURNING watermark_ms::text AS watermark_ms
