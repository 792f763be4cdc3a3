/** Kafka headers as a field: every value kept, repeated names included. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { headersObject } from './metadata.ts'

test('headers: one value is text; a repeated name keeps all its values in order; __proto__ is a name like any other', () => {
  const h = (pairs: Array<[string, string]>) => pairs.map(([k, v]) => [k, Buffer.from(v)] as [string, Buffer])
  assert.deepEqual(headersObject(h([])), {})
  assert.deepEqual(headersObject(h([['origin', 'app'], ['trace', 'a'], ['trace', 'b'], ['trace', 'c']])), { origin: 'app', trace: ['a', 'b', 'c'] })
  const proto = headersObject(h([['__proto__', 'x'], ['__proto__', 'y']]))
  assert.deepEqual(Object.getOwnPropertyDescriptor(proto, '__proto__')?.value, ['x', 'y'])
  assert.equal(Object.getPrototypeOf(proto), Object.prototype)
})
