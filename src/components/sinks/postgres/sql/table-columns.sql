-- Columns of a table, in order, with their SQL type and whether they can be left to a default.
-- $1 schema, $2 table (both unquoted, exact case)
SELECT a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS type,
       t.typname AS udt,
       t.typcategory AS category,
       (a.atthasdef OR a.attidentity <> '') AS has_default,
       a.attnotnull AS not_null,
       (a.attgenerated <> '') AS generated
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
