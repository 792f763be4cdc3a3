-- The end of a batch of a pipeline whose workers share it, in one round trip: the next batch id
-- (state-next-batch.sql), the state row's watermark (state-upsert.sql) and the tracker row
-- (tracker-mark.sql). The state row's lock serialises the workers from here to COMMIT, so ids are
-- gapless in commit order; a rollback gives its id back. Without a state row the id continues after
-- the last tracker row (seed-era tables), or starts at 0. The watermark never moves back.
-- `marked` is 0 when the tracker already holds that id (an inconsistency the caller reports).
-- $1 pipeline_id, $2 record_count, $3 checkpoint_location, $4 watermark_ms proposed by the batch
WITH next AS (
  INSERT INTO {{schema}}.sluice_pipeline_state AS s (pipeline_id, last_batch_id, watermark_ms)
  VALUES ($1::varchar, COALESCE((SELECT MAX(batch_id) + 1 FROM {{schema}}.batch_tracker WHERE pipeline_id = $1::varchar), 0), $4::bigint)
  ON CONFLICT (pipeline_id) DO UPDATE
  SET last_batch_id = s.last_batch_id + 1, watermark_ms = GREATEST(s.watermark_ms, EXCLUDED.watermark_ms), updated_at = now()
  RETURNING last_batch_id, watermark_ms
), mark AS (
  INSERT INTO {{schema}}.batch_tracker (pipeline_id, batch_id, record_count, checkpoint_location)
  SELECT $1::varchar, next.last_batch_id, $2::bigint, $3::varchar FROM next
  ON CONFLICT (pipeline_id, batch_id) DO NOTHING
  RETURNING batch_id
)
SELECT next.last_batch_id::text AS batch_id, next.watermark_ms::text AS watermark_ms, (SELECT count(*) FROM mark)::int AS marked
FROM next
