-- Deletes states of a step by key (sessions merged into a longer one).
-- $1 pipeline_id, $2 step, $3 state keys
DELETE FROM {{schema}}.sluice_window_state WHERE pipeline_id = $1::varchar AND step = $2::text AND state_key = ANY($3::text[])
