-- Forgets keys of a stateful step (claimed by rows the table then refused).
-- $1 pipeline_id, $2 step, $3 keys
DELETE FROM {{schema}}.sluice_keyed_state WHERE pipeline_id = $1::varchar AND step = $2::text AND state_key = ANY($3::text[])
