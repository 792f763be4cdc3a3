import { test } from 'node:test'
import assert from 'node:assert/strict'
import { renameTransform } from './transform.ts'

test('renames mapped columns and keeps the others', () => {
  const rename = renameTransform({ type: 'rename', mapping: { ts: 'event_time', uid: 'user_id' } })
  const row = { ts: 't', uid: 7, amount: 3 }
  assert.deepEqual(rename(row), { amount: 3, event_time: 't', user_id: 7 })
  assert.deepEqual(row, { ts: 't', uid: 7, amount: 3 })
  assert.deepEqual(rename({ amount: 1 }), { amount: 1 })
})

test('a renamed column replaces one with the new name; swaps work; "constructor" is a plain name', () => {
  assert.deepEqual(renameTransform({ type: 'rename', mapping: { a: 'b' } })({ a: 1, b: 2 }), { b: 1 })
  assert.deepEqual(renameTransform({ type: 'rename', mapping: { a: 'b', b: 'a' } })({ a: 1, b: 2 }), { a: 2, b: 1 })
  assert.deepEqual(renameTransform({ type: 'rename', mapping: { x: 'y' } })({ constructor: 1 }), { constructor: 1 })
})

test('a path copies the nested value out and leaves its object; a literal dotted key is renamed as any field', () => {
  const rename = renameTransform({ type: 'rename', mapping: { 'customer.address.city': 'city', 'items[1].sku': 'second_sku', 'a.b': 'ab' } })
  const row = { customer: { address: { city: 'Oslo' } }, items: [{ sku: 'S1' }, { sku: 'S2' }], 'a.b': 'literal', a: { b: 'nested' } }
  assert.deepEqual(rename(row), { customer: { address: { city: 'Oslo' } }, items: [{ sku: 'S1' }, { sku: 'S2' }], a: { b: 'nested' }, city: 'Oslo', second_sku: 'S2', ab: 'literal' })
  assert.deepEqual(rename({ customer: {} }), { customer: {} }, 'a path that does not resolve adds nothing')
})
