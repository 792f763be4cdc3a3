-- Stored positions of some partitions of a pipeline (a fenced batch: committed already, or moved by another worker?).
-- $1 pipeline_id, $2 partition keys
SELECT partition_key, position FROM {{schema}}.sluice_source_positions WHERE pipeline_id = $1 AND partition_key = ANY($2::text[])
