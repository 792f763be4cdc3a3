-- Marks a batch processed; inserts nothing (rowCount 0) when it already was: the duplicate check.
-- $1 pipeline_id, $2 batch_id, $3 record_count, $4 checkpoint_location
INSERT INTO {{schema}}.batch_tracker (pipeline_id, batch_id, record_count, checkpoint_location)
VALUES ($1, $2, $3, $4)
ON CONFLICT (pipeline_id, batch_id) DO NOTHING
