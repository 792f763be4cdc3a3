-- The stored states of some open windows of a step (JSON text, parsed by the engine with exact numbers).
-- $1 pipeline_id, $2 step, $3 state keys
SELECT state_key, state::text AS state FROM {{schema}}.sluice_window_state
WHERE pipeline_id = $1::varchar AND step = $2::text AND state_key = ANY($3::text[])
FOR UPDATE
