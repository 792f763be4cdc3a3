/** Kafka headers as a field: every value kept, repeated names included. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { SourceRecord } from '../api/record.ts'
import { headersObject, isMetadataName, keyJson } from './metadata.ts'

test('headers: one value is text; a repeated name keeps all its values in order; __proto__ is a name like any other', () => {
  const h = (pairs: Array<[string, string]>) => pairs.map(([k, v]) => [k, Buffer.from(v)] as [string, Buffer])
  assert.deepEqual(headersObject(h([])), {})
  assert.deepEqual(headersObject(h([['origin', 'app'], ['trace', 'a'], ['trace', 'b'], ['trace', 'c']])), { origin: 'app', trace: ['a', 'b', 'c'] })
  const proto = headersObject(h([['__proto__', 'x'], ['__proto__', 'y']]))
  assert.deepEqual(Object.getOwnPropertyDescriptor(proto, '__proto__')?.value, ['x', 'y'])
  assert.equal(Object.getPrototypeOf(proto), Object.prototype)
})

test('keyJson: the key parsed (exact numbers), a Connect envelope key read as its payload with logical types converted, text when not JSON', () => {
  const rec = (key: string | null): SourceRecord => ({ partition: 't/0', topic: 't', partitionNumber: 0, offset: '0', key: key === null ? null : Buffer.from(key), value: null, timestamp: 0, headers: [] })
  assert.equal(keyJson(rec(null)), null)
  assert.equal(keyJson(rec('order-7')), 'order-7')
  const big = keyJson(rec('{"id":9007199254740993}')) as Record<string, unknown>
  assert.equal(JSON.stringify(big), '{"id":9007199254740993}', 'no rounding past 2^53')
  const decimal = { type: 'bytes', name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '2' } }
  const envelope = { schema: { type: 'struct', fields: [{ field: 'id', type: 'int32' }, { field: 'price', ...decimal }] }, payload: { id: 1, price: 'AfE=' } }
  assert.deepEqual(keyJson(rec(JSON.stringify(envelope))), { id: 1, price: '4.97' })
  // Not exactly {schema, payload}: a plain JSON key that happens to have a payload field stays as it is.
  assert.deepEqual(keyJson(rec('{"payload":1,"other":2}')), { payload: 1, other: 2 })
  assert.equal(isMetadataName('keyJson'), true)
  assert.equal(isMetadataName('_metadata.keyjson'), true)
})
