-- The run lock of a pipeline, shared mode, without waiting (`sluice run`, on its own connection for
-- the query's lifetime: several workers of one pipeline each hold it; `sluice reset` needs it
-- exclusively). Key: 0x534C5543 ("SLUC") and a hash of "<schema>.<pipelineId>".
-- $1 "<schema>.<pipelineId>"
SELECT pg_try_advisory_lock_shared(1397511491, hashtext($1::text)) AS locked
