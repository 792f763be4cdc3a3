-- Closes the windows of a step whose end is at or before the watermark $3, or whose expiry is
-- before the batch time $4 (a session's stateTimeout): deleted and returned, so the transaction that
-- deletes a window is the one that writes its row (once).
-- $1 pipeline_id, $2 step, $3 watermark ms (NULL: none), $4 batch time ms (NULL: no expiry test)
DELETE FROM {{schema}}.sluice_window_state
WHERE pipeline_id = $1::varchar AND step = $2::text
  AND (end_ms <= $3::bigint OR expires_ms < $4::bigint)
RETURNING state_key, end_ms::text AS end_ms, state::text AS state, expires_ms::text AS expires_ms
