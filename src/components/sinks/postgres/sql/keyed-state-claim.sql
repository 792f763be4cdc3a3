-- Claims keys of a stateful step: remembers each with its expiry and returns the keys that were new
-- (absent, or expired: expiry <= $5). A live key keeps its expiry. The row lock taken here makes a
-- concurrent claim of the same key (another worker) wait for this transaction, then see it live.
-- $1 pipeline_id, $2 step, $3 keys, $4 expiries, $5 expired-at (NULL: nothing expired)
INSERT INTO {{schema}}.sluice_keyed_state AS s (pipeline_id, step, state_key, expires_ms)
SELECT $1::varchar, $2::text, k, e FROM unnest($3::text[], $4::bigint[]) AS i(k, e)
ON CONFLICT (pipeline_id, step, state_key) DO UPDATE SET expires_ms = EXCLUDED.expires_ms
WHERE $5::bigint IS NOT NULL AND s.expires_ms <= $5::bigint
RETURNING state_key
