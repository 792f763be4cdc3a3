-- `sluice reset`: forgets the stored position of partitions that are to be read as new.
-- $1 pipeline_id, $2 partition keys
DELETE FROM {{schema}}.sluice_source_positions WHERE pipeline_id = $1 AND partition_key = ANY($2::text[])
