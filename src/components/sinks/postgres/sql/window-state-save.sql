-- Inserts or replaces open windows' states (the engine merged them with what load returned).
-- $1 pipeline_id, $2 step, $3 state keys, $4 window ends (epoch ms), $5 states (JSON text),
-- $6 expiries (epoch ms; NULL: none)
INSERT INTO {{schema}}.sluice_window_state AS s (pipeline_id, step, state_key, end_ms, state, expires_ms)
SELECT $1::varchar, $2::text, k, e, j::jsonb, x FROM unnest($3::text[], $4::bigint[], $5::text[], $6::bigint[]) AS i(k, e, j, x)
ON CONFLICT (pipeline_id, step, state_key) DO UPDATE SET end_ms = EXCLUDED.end_ms, state = EXCLUDED.state, expires_ms = EXCLUDED.expires_ms
