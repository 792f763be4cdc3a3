-- Sluice's bookkeeping tables, created when absent (autoCreateTable) in the load's currentSchema.
-- {{schema}} is replaced by the quoted schema name; statements are separated by a line ending in ';'.
--
-- batch_tracker: exactly the seed's table, so the seed's monitoring queries run unchanged. The
--   pipeline is named by the pipeline file's `pipelineId` everywhere (pipeline_id column).
--   One row per committed exactly-once batch; the primary key row is the duplicate check and its
--   lock serialises two writers of the same batch.
-- sluice_source_positions: the source position each pipeline's committed batches end at, one row
--   per partition key (Kafka `topic/partition`, a file). `position` is the next record to read.
--   Writers compare-and-set it against the batch's start position: that is the partition fence.
--   `max_event_ms` is the largest on-time event time committed from the partition (epoch ms, NULL
--   without a watermark or before any): the per-partition watermark rule reads it, with
--   `updated_at` telling an idle partition (docs/design/scale-out.md, "Event time").
-- sluice_keyed_state: the keys a stateful step remembers (the deduplicate step), one row per pipeline,
--   step and key, with the expiry (epoch ms) after which the key is forgotten; written in the batch
--   transaction (src/api/keyed-state.ts).
-- sluice_window_state: the open windows of an append-mode aggregate step, one row per pipeline,
--   step and (group, window) key, with the window's end (epoch ms), its partial aggregate (JSON) and,
--   for a session with a stateTimeout, its expiry (epoch ms); deleted in the transaction that writes
--   the window's row (src/api/window-state.ts).
-- sluice_pipeline_state: one row per pipeline with the last committed batch id and the watermark
--   to apply from the next batch on (epoch ms, NULL without a watermark).
CREATE TABLE IF NOT EXISTS {{schema}}.batch_tracker (
  pipeline_id VARCHAR(255) NOT NULL,
  batch_id BIGINT NOT NULL,
  processed_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  record_count BIGINT,
  checkpoint_location VARCHAR(500),
  PRIMARY KEY (pipeline_id, batch_id)
);
CREATE INDEX IF NOT EXISTS idx_batch_tracker_processed_at ON {{schema}}.batch_tracker(processed_at);
CREATE TABLE IF NOT EXISTS {{schema}}.sluice_source_positions (
  pipeline_id VARCHAR(255) NOT NULL,
  partition_key TEXT NOT NULL,
  position TEXT NOT NULL,
  batch_id BIGINT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  max_event_ms BIGINT,
  PRIMARY KEY (pipeline_id, partition_key)
);
ALTER TABLE {{schema}}.sluice_source_positions ADD COLUMN IF NOT EXISTS max_event_ms BIGINT;
CREATE TABLE IF NOT EXISTS {{schema}}.sluice_pipeline_state (
  pipeline_id VARCHAR(255) PRIMARY KEY,
  last_batch_id BIGINT NOT NULL,
  watermark_ms BIGINT,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS {{schema}}.sluice_keyed_state (
  pipeline_id VARCHAR(255) NOT NULL,
  step TEXT NOT NULL,
  state_key TEXT NOT NULL,
  expires_ms BIGINT NOT NULL,
  PRIMARY KEY (pipeline_id, step, state_key)
);
CREATE INDEX IF NOT EXISTS idx_sluice_keyed_state_expiry ON {{schema}}.sluice_keyed_state(pipeline_id, step, expires_ms);
CREATE TABLE IF NOT EXISTS {{schema}}.sluice_window_state (
  pipeline_id VARCHAR(255) NOT NULL,
  step TEXT NOT NULL,
  state_key TEXT NOT NULL,
  end_ms BIGINT NOT NULL,
  state JSONB NOT NULL,
  expires_ms BIGINT,
  PRIMARY KEY (pipeline_id, step, state_key)
);
CREATE INDEX IF NOT EXISTS idx_sluice_window_state_end ON {{schema}}.sluice_window_state(pipeline_id, step, end_ms);
