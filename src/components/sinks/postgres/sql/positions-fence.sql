-- Compare-and-set of a batch's end position, per partition, fenced on its start position; with
-- $9 true, first the batch's tracker row in the same round trip (one worker's pipeline, at the start
-- of its batch: nothing inserted means the batch already committed, and then no position moves; the
-- primary-key lock makes a concurrent duplicate wait for its outcome). A shared pipeline fences with
-- $9 false and writes its tracker row at the end (batch-close*.sql).
-- $1 pipeline_id, $2 batch_id, $3 partition keys, $4 expected (start; NULL = never read), $5 new (end),
-- $6 the batch's largest on-time event time per partition (NULL: none; the stored maximum is kept),
-- $7 record_count, $8 checkpoint_location, $9 whether to insert the tracker row.
-- A partition is applied when its stored position equals the expected one, or when nothing is
-- stored for it yet (its first commit: the start came from startingOffsets, not from a writer).
-- Returns `marked` (the tracker rows inserted: 0 or 1) and the partition keys applied; a missing key
-- means another writer moved it: fenced.
WITH mark AS (
  INSERT INTO {{schema}}.batch_tracker (pipeline_id, batch_id, record_count, checkpoint_location)
  SELECT $1::varchar, $2::bigint, $7::bigint, $8::varchar WHERE $9::boolean
  ON CONFLICT (pipeline_id, batch_id) DO NOTHING
  RETURNING batch_id
), input AS (
  SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[]) AS i(partition_key, expected, next, max_event)
  WHERE NOT $9::boolean OR EXISTS (SELECT 1 FROM mark)
), upd AS (
  UPDATE {{schema}}.sluice_source_positions p
  SET position = i.next, batch_id = $2::bigint, updated_at = now(), max_event_ms = GREATEST(p.max_event_ms, i.max_event)
  FROM input i
  WHERE p.pipeline_id = $1::varchar AND p.partition_key = i.partition_key
    AND i.expected IS NOT NULL AND p.position = i.expected
  RETURNING p.partition_key
), ins AS (
  INSERT INTO {{schema}}.sluice_source_positions (pipeline_id, partition_key, position, batch_id, max_event_ms)
  SELECT $1::varchar, i.partition_key, i.next, $2::bigint, i.max_event FROM input i
  WHERE NOT EXISTS (
    SELECT 1 FROM {{schema}}.sluice_source_positions p WHERE p.pipeline_id = $1::varchar AND p.partition_key = i.partition_key
  )
  ON CONFLICT (pipeline_id, partition_key) DO NOTHING
  RETURNING partition_key
)
SELECT (SELECT count(*) FROM mark)::int AS marked,
  ARRAY(SELECT partition_key FROM upd UNION ALL SELECT partition_key FROM ins) AS applied
