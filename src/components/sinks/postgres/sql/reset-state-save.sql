-- `sluice reset`: the state row after the reset, its batch id and the watermark exactly as given:
-- the one place a pipeline's watermark may move back (or be cleared, NULL), since the records
-- before the new positions are read again. $1 pipeline_id, $2 last_batch_id, $3 watermark_ms
INSERT INTO {{schema}}.sluice_pipeline_state (pipeline_id, last_batch_id, watermark_ms)
VALUES ($1, $2, $3)
ON CONFLICT (pipeline_id) DO UPDATE
SET last_batch_id = EXCLUDED.last_batch_id, watermark_ms = EXCLUDED.watermark_ms, updated_at = now()
