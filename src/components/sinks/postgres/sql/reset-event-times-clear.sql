-- `sluice reset` without --keep-watermark: forgets each partition's largest event time, from which
-- the per-partition watermark rule (state-upsert-partitions.sql) would bring the old watermark back.
-- $1 pipeline_id
UPDATE {{schema}}.sluice_source_positions SET max_event_ms = NULL WHERE pipeline_id = $1 AND max_event_ms IS NOT NULL
