-- $1 pipeline_id
SELECT partition_key, position, batch_id::text AS batch_id, updated_at
FROM {{schema}}.sluice_source_positions WHERE pipeline_id = $1 ORDER BY partition_key
