-- The next batch id of a pipeline whose workers share it (several workers, one id sequence), taken
-- inside the batch transaction. The state row's lock serialises the workers from here to COMMIT, so
-- ids are gapless in commit order; a rollback gives its id back. A pipeline without a state row
-- continues after its last tracker row (seed-era tables), or starts at 0.
-- $1 pipeline_id
INSERT INTO {{schema}}.sluice_pipeline_state AS s (pipeline_id, last_batch_id)
VALUES ($1::varchar, COALESCE((SELECT MAX(batch_id) + 1 FROM {{schema}}.batch_tracker WHERE pipeline_id = $1::varchar), 0))
ON CONFLICT (pipeline_id) DO UPDATE SET last_batch_id = s.last_batch_id + 1, updated_at = now()
RETURNING last_batch_id::text AS batch_id
