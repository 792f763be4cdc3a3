-- Deletes rows found already published in Kafka (recovery after a crash between commit and delete).
-- $1 pipeline_id, $2 batch ids, $3 seqs (same length)
DELETE FROM {{table}}
WHERE pipeline_id = $1
  AND (batch_id, seq) IN (SELECT b, s FROM unnest($2::bigint[], $3::integer[]) AS u(b, s))
