-- Number of open windows of a step.
-- $1 pipeline_id, $2 step
SELECT count(*)::text AS n FROM {{schema}}.sluice_window_state WHERE pipeline_id = $1::varchar AND step = $2::text
