import { test } from 'node:test'
import assert from 'node:assert/strict'
import { columnMappingTransform } from './column-mapping.ts'
import { composeTransforms } from './index.ts'

test('columns are filled from their paths; other fields stay; the input is untouched', () => {
  const map = columnMappingTransform({ city: 'customer.address.city', first_sku: 'items[0].sku', ab: 'a.b' })
  const row = { id: 1, customer: { address: { city: 'Oslo' } }, items: [{ sku: 'S1' }], 'a.b': 'literal', a: { b: 'nested' } }
  assert.deepEqual(map(row), { ...row, city: 'Oslo', first_sku: 'S1', ab: 'literal' })
  assert.ok(!('city' in row))
})

test('a path that does not resolve leaves the column without a value, even over a field of its name', () => {
  const map = columnMappingTransform({ city: 'customer.address.city' })
  assert.deepEqual(map({ id: 1, city: 'not this one', customer: {} }), { id: 1, customer: {} })
})

test('the mapping runs after the steps', () => {
  const t = composeTransforms([{ type: 'cast', columns: { 'o.total': 'float' } }], { total: 'o.total' })
  assert.deepEqual(t({ o: { total: '2.5' } }), { o: { total: 2.5 }, total: 2.5 })
})
