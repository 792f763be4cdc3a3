-- `sluice reset`: its history row (reset-ddl.sql).
-- $1 pipeline_id, $2 batch_id, $3 target, $4 before, $5 after, $6 watermark before, $7 watermark after, $8 reset_by
INSERT INTO {{schema}}.sluice_position_resets (pipeline_id, batch_id, target, before_positions, after_positions, watermark_before_ms, watermark_after_ms, reset_by)
VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8)
