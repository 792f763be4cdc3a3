-- `sluice reset`: the run lock exclusively, for its transaction only (released at COMMIT or
-- ROLLBACK, or when its connection dies); false while any `sluice run` of the pipeline holds it.
-- $1 "<schema>.<pipelineId>"
SELECT pg_try_advisory_xact_lock(1397511491, hashtext($1::text)) AS locked
