import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isSluiceError } from '../../errors.ts'
import type { TransformStep } from './config.ts'
import { applyTransforms, composeTransforms, fieldsRead, splitSteps } from './index.ts'

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

test('no steps is the identity; aggregate and deduplicate are batch steps, split off the row steps', () => {
  assert.deepEqual(applyTransforms([], { a: 1 }), { a: 1 })
  const aggregate = { type: 'aggregate' as const, groupBy: ['k'], aggregations: { n: { fn: 'count' as const } } }
  assert.throws(() => composeTransforms([aggregate]), (err) => isSluiceError(err, 'INTERNAL'))
  const select = { type: 'select' as const, columns: ['k'] }
  assert.deepEqual(splitSteps([select, aggregate]), { rowSteps: [select], aggregate, deduplicate: null })
  assert.deepEqual(splitSteps([select]), { rowSteps: [select], aggregate: null, deduplicate: null })
  assert.deepEqual(splitSteps([]), { rowSteps: [], aggregate: null, deduplicate: null })
  const dedup = { type: 'deduplicate' as const, keys: ['k'], stateTimeout: 60_000 }
  assert.throws(() => composeTransforms([dedup]), (err) => isSluiceError(err, 'INTERNAL'))
  assert.deepEqual(splitSteps([select, dedup]), { rowSteps: [select], aggregate: null, deduplicate: { step: dedup, at: 1 } })
})

test('fieldsRead: the names every step reads (so the engine adds the metadata fields they name)', () => {
  const steps: TransformStep[] = [
    { type: 'rename', mapping: { key: 'kafka_key', _: 'x' } },
    { type: 'filter', field: 'partition', op: 'gte', value: 0 },
    { type: 'cast', columns: { offset: 'int' } },
    { type: 'select', columns: ['kafka_key', 'topic'] },
    { type: 'aggregate', groupBy: ['topic'], aggregations: { n: { fn: 'count' }, s: { fn: 'sum', field: 'offset' } }, window: { column: 'timestamp', duration: 60_000 } },
  ]
  assert.deepEqual(fieldsRead(steps), ['key', '_', 'partition', 'offset', 'kafka_key', 'topic', 'topic', 'offset', 'timestamp'])
})

test('fields named __proto__ and constructor are data: kept by every step, absent means absent', () => {
  const t = composeTransforms([
    { type: 'select', columns: ['id', '__proto__', 'constructor', 'p'] },
    { type: 'rename', mapping: { p: '__proto__' } },
    // JSON.parse: an object literal's __proto__ would set the prototype, not a key.
    { type: 'cast', columns: JSON.parse('{"__proto__":"int"}') as Record<string, 'int'> },
  ])
  const own = (v: Record<string, unknown> | null, k: string) => (v !== null && Object.hasOwn(v, k) ? v[k] : 'absent')
  const a = t(JSON.parse('{"id":1,"__proto__":"7","constructor":"c"}') as Record<string, unknown>)
  assert.equal(own(a, '__proto__'), 7)
  assert.equal(own(a, 'constructor'), 'c')
  assert.equal(Object.getPrototypeOf(a), Object.prototype)
  const b = t({ id: 2 })
  assert.equal(own(b, '__proto__'), 'absent')
  assert.equal(own(b, 'constructor'), 'absent')
  const moveOnly = composeTransforms([
    { type: 'select', columns: ['id', 'p'] },
    { type: 'rename', mapping: { p: '__proto__' } },
  ])
  const c = moveOnly(JSON.parse('{"id":3,"p":{"polluted":true}}') as Record<string, unknown>)
  assert.deepEqual(own(c, '__proto__'), { polluted: true })
  assert.equal((c as Record<string, unknown>)['polluted'], undefined, 'a value never becomes a prototype')
})
