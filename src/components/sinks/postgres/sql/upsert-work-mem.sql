-- Raises work_mem for this transaction only (never lowers it) so that the upsert's
-- DISTINCT ON sort of a large batch stays in memory instead of spilling to disk.
SELECT set_config('work_mem', '65536kB', true)
WHERE pg_size_bytes(current_setting('work_mem')) < 67108864
