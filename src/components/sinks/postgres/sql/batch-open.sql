-- The start of a batch of one worker's pipeline, in one round trip: the tracker row (tracker-mark.sql:
-- nothing inserted means the batch already committed; the primary-key lock makes a concurrent
-- duplicate wait for its outcome) and, only when it was inserted, the compare-and-set of each
-- partition's position from the batch's start to its end (positions-fence.sql).
-- $1 pipeline_id, $2 batch_id, $3 record_count, $4 checkpoint_location, $5 partition keys,
-- $6 expected (start; NULL = never read), $7 new (end), $8 largest on-time event time per partition.
-- Returns `marked` (0: a duplicate) and the partition keys applied; a missing key means another
-- writer moved it: fenced.
WITH mark AS (
  INSERT INTO {{schema}}.batch_tracker (pipeline_id, batch_id, record_count, checkpoint_location)
  VALUES ($1::varchar, $2::bigint, $3::bigint, $4::varchar)
  ON CONFLICT (pipeline_id, batch_id) DO NOTHING
  RETURNING batch_id
), input AS (
  SELECT * FROM unnest($5::text[], $6::text[], $7::text[], $8::bigint[]) AS i(partition_key, expected, next, max_event)
  WHERE EXISTS (SELECT 1 FROM mark)
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
