-- Gives keys of a stateful step a new expiry (a processing-time timeout renewed by new data).
-- $1 pipeline_id, $2 step, $3 keys, $4 expiry
UPDATE {{schema}}.sluice_keyed_state SET expires_ms = $4::bigint
WHERE pipeline_id = $1::varchar AND step = $2::text AND state_key = ANY($3::text[])
