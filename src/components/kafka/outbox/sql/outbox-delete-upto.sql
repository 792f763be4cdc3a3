-- Deletes the rows a committed relay round published: the pipeline's rows up to the last one sent.
-- $1 pipeline_id, $2 batch_id, $3 seq (of the last row published)
DELETE FROM {{table}}
WHERE pipeline_id = $1 AND (batch_id, seq) <= ($2::bigint, $3::integer)
