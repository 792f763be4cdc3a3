-- The history of `sluice reset`, created by the first reset in the load's currentSchema.
-- One row per reset: the batch id it took (its batch_tracker row has record_count 0), the target
-- as given, the positions of the partitions it moved before and after (null: no stored position),
-- the watermark before and after, who ran it (OS user, host, pid) and as which database user.
CREATE TABLE IF NOT EXISTS {{schema}}.sluice_position_resets (
  pipeline_id VARCHAR(255) NOT NULL,
  batch_id BIGINT NOT NULL,
  reset_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  target TEXT NOT NULL,
  before_positions JSONB NOT NULL,
  after_positions JSONB NOT NULL,
  watermark_before_ms BIGINT,
  watermark_after_ms BIGINT,
  reset_by TEXT NOT NULL,
  db_user TEXT NOT NULL DEFAULT current_user,
  PRIMARY KEY (pipeline_id, batch_id)
);
