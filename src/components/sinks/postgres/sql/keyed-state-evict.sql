-- Forgets the keys of a stateful step whose expiry is at or before $3.
-- $1 pipeline_id, $2 step, $3 expired-at
DELETE FROM {{schema}}.sluice_keyed_state WHERE pipeline_id = $1::varchar AND step = $2::text AND expires_ms <= $3::bigint
