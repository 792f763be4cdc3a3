-- The stored states of a step whose key starts with one of the prefixes (all sessions of a group).
-- $1 pipeline_id, $2 step, $3 key prefixes
SELECT s.state_key, s.end_ms::text AS end_ms, s.state::text AS state, s.expires_ms::text AS expires_ms
FROM {{schema}}.sluice_window_state s
WHERE s.pipeline_id = $1::varchar AND s.step = $2::text
  AND EXISTS (SELECT 1 FROM unnest($3::text[]) AS g(prefix) WHERE left(s.state_key, length(g.prefix)) = g.prefix)
FOR UPDATE
