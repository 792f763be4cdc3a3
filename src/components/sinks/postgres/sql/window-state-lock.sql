-- Serializes the window-state work of every worker of a pipeline until this transaction ends. A
-- transaction-level advisory lock, not a row lock: the pipeline-state row does not exist before the
-- first commit, and two workers' first batches must not both merge a new window. Key: 0x534C5557
-- ("SLUW") and a hash of "<schema>.<pipelineId>" (the run lock uses "SLUC"). The watermark is read
-- by the next statement (window-state-watermark.sql), whose snapshot is taken after the lock.
-- $1 "<schema>.<pipelineId>"
SELECT pg_advisory_xact_lock(1397511511, hashtext($1::text))
