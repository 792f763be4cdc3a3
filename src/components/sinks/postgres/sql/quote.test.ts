import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkSqlType, quoteIdent, quoteQualified, splitQualified, suffixedTable } from './quote.ts'

test('quoteIdent doubles quotes and keeps case', () => {
  assert.equal(quoteIdent('Events'), '"Events"')
  assert.equal(quoteIdent('a"b'), '"a""b"')
  assert.equal(quoteIdent('sluice.error.code'), '"sluice.error.code"')
  assert.throws(() => quoteIdent(''))
  assert.throws(() => quoteIdent('a\u0000b'))
})

test('quoteQualified splits at the first unquoted dot and applies a default schema', () => {
  assert.equal(quoteQualified('orders'), '"orders"')
  assert.equal(quoteQualified('orders', 'app'), '"app"."orders"')
  assert.equal(quoteQualified('sales.orders', 'app'), '"sales"."orders"')
  assert.equal(quoteQualified('"my.schema"."T""x"'), '"my.schema"."T""x"')
  assert.deepEqual(splitQualified('a."b.c"'), { schema: 'a', name: 'b.c' })
  for (const bad of ['.x', 'public.', 'a.b.c', '"abc', 'ab"c"', '"a"b', '"a".', '', ' . ']) assert.throws(() => splitQualified(bad), /CONFIG_INVALID|table name/, bad)
})

test('checkSqlType accepts type names and refuses anything else', () => {
  for (const t of ['bigint', 'varchar(20)', 'numeric(12, 2)', 'timestamp with time zone', 'text[]', 'int[][]', 'varchar(10) NOT NULL', 'text null']) {
    assert.equal(checkSqlType(t), t)
  }
  for (const t of ['text; DROP TABLE x', 'text DEFAULT now()', "text check (x > '1')", '', 'int)']) {
    assert.throws(() => checkSqlType(t), /invalid column type/)
  }
})

test('suffixedTable names the table beside another, whatever its quoting', () => {
  assert.equal(suffixedTable('orders', '_dlq'), 'orders_dlq')
  assert.equal(suffixedTable('sales.orders', '_dlq'), 'sales.orders_dlq')
  assert.equal(suffixedTable('"Sales"."Orders"', '_dlq'), 'Sales.Orders_dlq')
  assert.deepEqual(splitQualified(suffixedTable('"my.schema"."a""b.c"', '_dlq')), { schema: 'my.schema', name: 'a"b.c_dlq' })
})
