-- Inserts or replaces open windows' states (the engine merged them with what load returned).
-- $1 pipeline_id, $2 step, $3 state keys, $4 window ends (epoch ms), $5 states (JSON text)
INSERT INTO {{schema}}.sluice_window_state AS s (pipeline_id, step, state_key, end_ms, state)
SELECT $1::varchar, $2::text, k, e, j::jsonb FROM unnest($3::text[], $4::bigint[], $5::text[]) AS i(k, e, j)
ON CONFLICT (pipeline_id, step, state_key) DO UPDATE SET end_ms = EXCLUDED.end_ms, state = EXCLUDED.state
