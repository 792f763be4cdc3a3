/** Values PostgreSQL would round or store as Infinity are refused before the COPY. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Row } from '../../../api/record.ts'
import { exactNumber } from '../../../engine/exact-number.ts'
import { fitRules, refuseMisfits } from './column-fit.ts'
import type { TableColumn, TableInfo } from './columns.ts'

const col = (name: string, type: string, udt: string, category = 'N'): TableColumn => ({ name, type, udt, category, hasDefault: false, notNull: false, generated: false })
const table: TableInfo = {
  schema: 's',
  name: 't',
  quoted: '"s"."t"',
  columns: [col('id', 'bigint', 'int8'), col('amount', 'numeric(10,2)', 'numeric'), col('free', 'numeric', 'numeric'), col('f', 'double precision', 'float8'), col('note', 'text', 'text', 'S')],
}
const row = (values: Record<string, unknown>, offset = 0): Row => ({ values, source: { partition: 'p', offset: String(offset) } }) as unknown as Row

test('only number columns get rules; the scale comes from numeric(p,s)', () => {
  const rules = fitRules(table.columns)
  assert.deepEqual(rules.map((r) => [r.name, r.scale]), [['id', undefined], ['amount', 2], ['free', undefined], ['f', undefined]])
})

test('fractions within the scale fit (trailing zeros too); beyond it they are refused, never rounded', () => {
  const rules = fitRules(table.columns)
  const fits = [{ amount: 1.25 }, { amount: '1.50' }, { amount: exactNumber('12345678.120000000000000') }, { amount: 7 }, { amount: null }, { note: 'x' }]
  const misfits = [{ amount: 1.005 }, { amount: '0.001' }, { amount: exactNumber('1.0000000000000000001') }]
  const { fit, refused } = refuseMisfits(table, [...fits, ...misfits].map((v, i) => row(v, i)), rules)
  assert.equal(fit.length, fits.length)
  assert.equal(refused.length, misfits.length)
  for (const r of refused) {
    assert.equal(r.error.code, 'RECORD_COLUMN')
    assert.match(r.error.message, /more decimal places than numeric\(10,2\) keeps \(scale 2\)/)
    assert.equal((r.error.details as { column: string }).column, 'amount')
  }
})

test('Infinity (a JSON literal beyond a double) is refused in every number column, text columns are not checked, NaN is kept', () => {
  const rules = fitRules(table.columns)
  const { fit, refused } = refuseMisfits(table, [row({ free: Infinity }), row({ f: -Infinity }), row({ id: Infinity }), row({ note: 'Infinity' }), row({ f: NaN })], rules)
  assert.equal(fit.length, 2)
  assert.deepEqual(refused.map((r) => (r.error.details as { column: string }).column), ['free', 'f', 'id'])
  assert.match((refused[0] as { error: Error }).error.message, /out of range for numeric .*stored as Infinity/)
})

test('the rows that fit keep their order around a refused one; with none refused they are the batch itself', () => {
  const rules = fitRules(table.columns)
  const rows = [row({ amount: 1 }, 0), row({ amount: 2.5 }, 1), row({ AMOUNT: 1.005 }, 2), row({ Amount: 3 }, 3), row({ amount: 0.001 }, 4), row({ amount: 4 }, 5)]
  const { fit, refused } = refuseMisfits(table, rows, rules)
  assert.deepEqual(fit.map((r) => r.source.offset), ['0', '1', '3', '5'])
  assert.deepEqual(refused.map((r) => r.row.source.offset), ['2', '4'], 'a field matched in any case is checked too')
  const good = rows.filter((_, i) => i !== 2 && i !== 4)
  const clean = refuseMisfits(table, good, rules)
  assert.equal(clean.fit, good, 'no copy of a batch without misfits')
  assert.deepEqual(clean.refused, [])
})
