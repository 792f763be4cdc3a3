-- Compare-and-set of a batch's end position, per partition, fenced on its start position.
-- $1 pipeline_id, $2 batch_id, $3 partition keys, $4 expected (start; NULL = never read), $5 new (end),
-- $6 the batch's largest on-time event time per partition (NULL: none); the stored maximum is kept.
-- A partition is applied when its stored position equals the expected one, or when nothing is
-- stored for it yet (its first commit: the start came from startingOffsets, not from a writer).
-- Returns the partition keys applied; a missing key means another writer moved it: fenced.
WITH input AS (
  SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[]) AS i(partition_key, expected, next, max_event)
), upd AS (
  UPDATE {{schema}}.sluice_source_positions p
  SET position = i.next, batch_id = $2, updated_at = now(), max_event_ms = GREATEST(p.max_event_ms, i.max_event)
  FROM input i
  WHERE p.pipeline_id = $1 AND p.partition_key = i.partition_key
    AND i.expected IS NOT NULL AND p.position = i.expected
  RETURNING p.partition_key
), ins AS (
  INSERT INTO {{schema}}.sluice_source_positions (pipeline_id, partition_key, position, batch_id, max_event_ms)
  SELECT $1, i.partition_key, i.next, $2, i.max_event FROM input i
  WHERE NOT EXISTS (
    SELECT 1 FROM {{schema}}.sluice_source_positions p WHERE p.pipeline_id = $1 AND p.partition_key = i.partition_key
  )
  ON CONFLICT (pipeline_id, partition_key) DO NOTHING
  RETURNING partition_key
)
SELECT partition_key FROM upd UNION ALL SELECT partition_key FROM ins
