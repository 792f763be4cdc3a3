-- The pipeline's committed watermark, read and locked by a batch of an append-mode aggregate: the
-- row lock serializes the window-state work of every worker of the pipeline until COMMIT, so no
-- other batch closes or merges a window between this batch's read of its states and its commit.
-- $1 pipeline_id
SELECT watermark_ms::text AS watermark_ms FROM {{schema}}.sluice_pipeline_state WHERE pipeline_id = $1::varchar FOR UPDATE
