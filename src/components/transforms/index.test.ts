import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isSluiceError } from '../../errors.ts'
import { applyTransforms, composeTransforms } from './index.ts'

test('steps apply in order; a filter returns null', () => {
  const t = composeTransforms([
    { type: 'rename', mapping: { amt: 'amount' } },
    { type: 'cast', columns: { amount: 'float' } },
    { type: 'filter', field: 'amount', op: 'gte', value: 10 },
    { type: 'select', columns: ['id', 'amount'] },
  ])
  assert.deepEqual(t({ id: 1, amt: '12.5', junk: true }), { id: 1, amount: 12.5 })
  assert.equal(t({ id: 2, amt: '3' }), null)
  assert.throws(() => t({ id: 3, amt: 'x' }), (err) => isSluiceError(err, 'RECORD_TRANSFORM'))
})

test('no steps is the identity; aggregate is not supported yet', () => {
  assert.deepEqual(applyTransforms([], { a: 1 }), { a: 1 })
  assert.throws(
    () => composeTransforms([{ type: 'aggregate', groupBy: [], aggregations: { n: { fn: 'count' } } }]),
    (err) => isSluiceError(err, 'UNSUPPORTED'),
  )
})
