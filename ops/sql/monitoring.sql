-- Sluice monitoring queries (from the original design note, unchanged).
-- They read the batch_tracker table that Sluice writes in the sink database:
--   psql -f ops/sql/monitoring.sql

-- Check last processed batch per pipeline
SELECT
  pipeline_id,
  MAX(batch_id) as last_batch_id,
  MAX(processed_at) as last_processed_at,
  SUM(record_count) as total_records
FROM batch_tracker
GROUP BY pipeline_id
ORDER BY last_processed_at DESC;

-- Find stale pipelines (no activity in 1 hour)
SELECT
  pipeline_id,
  MAX(processed_at) as last_activity
FROM batch_tracker
GROUP BY pipeline_id
HAVING MAX(processed_at) < NOW() - INTERVAL '1 hour'
ORDER BY last_activity DESC;

-- Get processing rate (batches per minute)
SELECT
  pipeline_id,
  DATE_TRUNC('minute', processed_at) as minute,
  COUNT(*) as batches_per_minute,
  SUM(record_count) as records_per_minute
FROM batch_tracker
WHERE processed_at > NOW() - INTERVAL '1 hour'
GROUP BY pipeline_id, DATE_TRUNC('minute', processed_at)
ORDER BY minute DESC;

-- Identify gaps in batch sequence (potential issues)
WITH batch_gaps AS (
  SELECT
    pipeline_id,
    batch_id,
    LAG(batch_id) OVER (PARTITION BY pipeline_id ORDER BY batch_id) as prev_batch_id
  FROM batch_tracker
)
SELECT
  pipeline_id,
  prev_batch_id,
  batch_id,
  batch_id - prev_batch_id - 1 as gap_size
FROM batch_gaps
WHERE batch_id - prev_batch_id > 1
ORDER BY gap_size DESC;
