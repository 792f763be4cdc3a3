-- The end of a batch whose id is already taken (state-next-batch.sql, earlier in the transaction),
-- in one round trip: the tracker row (tracker-mark.sql) and the state row (state-upsert.sql; the
-- watermark never moves back). `marked` is 0 when the tracker already holds that id.
-- $1 pipeline_id, $2 batch_id, $3 record_count, $4 checkpoint_location, $5 watermark_ms proposed
WITH mark AS (
  INSERT INTO {{schema}}.batch_tracker (pipeline_id, batch_id, record_count, checkpoint_location)
  VALUES ($1::varchar, $2::bigint, $3::bigint, $4::varchar)
  ON CONFLICT (pipeline_id, batch_id) DO NOTHING
  RETURNING batch_id
), state AS (
  INSERT INTO {{schema}}.sluice_pipeline_state AS s (pipeline_id, last_batch_id, watermark_ms)
  VALUES ($1::varchar, $2::bigint, $5::bigint)
  ON CONFLICT (pipeline_id) DO UPDATE
  SET last_batch_id = EXCLUDED.last_batch_id, watermark_ms = GREATEST(s.watermark_ms, EXCLUDED.watermark_ms), updated_at = now()
  RETURNING watermark_ms
)
SELECT $2::bigint::text AS batch_id, (SELECT watermark_ms::text FROM state) AS watermark_ms, (SELECT count(*) FROM mark)::int AS marked
