import { test } from 'node:test'
import assert from 'node:assert/strict'
import { selectTransform } from './transform.ts'

test('keeps the listed columns in order; absent ones stay absent; input untouched', () => {
  const select = selectTransform({ type: 'select', columns: ['b', 'a', 'missing'] })
  const row = { a: 1, b: null, c: 3 }
  assert.deepEqual(Object.entries(select(row)), [
    ['b', null],
    ['a', 1],
  ])
  assert.deepEqual(row, { a: 1, b: null, c: 3 })
})

test('does not pick up inherited properties', () => {
  const select = selectTransform({ type: 'select', columns: ['constructor', 'toString'] })
  assert.deepEqual(select({}), {})
})

test('a field path keeps the nested value under the path as written; a literal dotted key wins', () => {
  const select = selectTransform({ type: 'select', columns: ['id', 'customer.name', 'items[0].sku', 'missing.x'] })
  assert.deepEqual(select({ id: 1, customer: { name: 'Ada', age: 3 }, items: [{ sku: 'S1' }] }), { id: 1, 'customer.name': 'Ada', 'items[0].sku': 'S1' })
  assert.deepEqual(select({ id: 2, 'customer.name': 'literal', customer: { name: 'nested' } }), { id: 2, 'customer.name': 'literal' })
})
