-- Whether the bookkeeping tables exist. $1 schema name (unquoted)
SELECT to_regclass(format('%I.batch_tracker', $1::text)) IS NOT NULL
   AND to_regclass(format('%I.sluice_source_positions', $1::text)) IS NOT NULL
   AND to_regclass(format('%I.sluice_pipeline_state', $1::text)) IS NOT NULL AS present
