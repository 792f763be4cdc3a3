-- `sluice reset`: stores the new position of each moved partition, under the reset's batch id.
-- $1 pipeline_id, $2 batch_id, $3 partition keys, $4 positions
INSERT INTO {{schema}}.sluice_source_positions AS p (pipeline_id, partition_key, position, batch_id)
SELECT $1, i.partition_key, i.position, $2 FROM unnest($3::text[], $4::text[]) AS i(partition_key, position)
ON CONFLICT (pipeline_id, partition_key) DO UPDATE SET position = EXCLUDED.position, batch_id = EXCLUDED.batch_id, updated_at = now()
