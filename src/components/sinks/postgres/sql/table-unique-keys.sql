-- Unique keys of a table that INSERT ... ON CONFLICT (columns) can use as its arbiter: the primary
-- key and unique indexes (constraints or plain indexes) over plain columns; partial, expression,
-- deferrable and not-yet-valid indexes cannot be inferred from a column list, so they are left out.
-- INCLUDE columns are not part of the key. The primary key comes first.
-- $1 schema, $2 table (both unquoted, exact case)
SELECT ic.relname AS name,
       i.indisprimary AS is_primary,
       array_agg(a.attname::text ORDER BY k.ord) AS columns
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class ic ON ic.oid = i.indexrelid
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
WHERE n.nspname = $1 AND c.relname = $2
  AND i.indisunique AND i.indimmediate AND i.indisvalid
  AND i.indpred IS NULL AND i.indexprs IS NULL
  AND k.ord <= i.indnkeyatts
GROUP BY ic.relname, i.indisprimary
ORDER BY i.indisprimary DESC, ic.relname
