-- The run lock in shared mode, waiting for a `sluice reset` that holds it exclusively (its one
-- short transaction). $1 "<schema>.<pipelineId>"
SELECT pg_advisory_lock_shared(1397511491, hashtext($1::text))
