-- The pipeline state after a batch under the per-partition watermark rule (Flink's): the watermark
-- is the smallest of the partitions' largest event times, over the partitions that have one and are
-- not idle (position unmoved for $4 ms; NULL: never idle), minus the delay $3; it never moves back,
-- and without such a partition it stays. Read inside the batch transaction, after its positions
-- moved, so it sees this batch and every batch committed before it, whichever worker wrote them.
-- $1 pipeline_id, $2 last_batch_id, $3 delay ms, $4 idle ms
INSERT INTO {{schema}}.sluice_pipeline_state AS s (pipeline_id, last_batch_id, watermark_ms)
SELECT $1::varchar, $2::bigint, MIN(p.max_event_ms) - $3::bigint
FROM {{schema}}.sluice_source_positions p
WHERE p.pipeline_id = $1::varchar AND p.max_event_ms IS NOT NULL
  AND ($4::bigint IS NULL OR p.updated_at > now() - make_interval(secs => $4::bigint / 1000.0))
ON CONFLICT (pipeline_id) DO UPDATE
SET last_batch_id = EXCLUDED.last_batch_id, watermark_ms = GREATEST(s.watermark_ms, EXCLUDED.watermark_ms), updated_at = now()
RETURNING watermark_ms::text AS watermark_ms
