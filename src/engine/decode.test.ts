import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { SourceRecord } from '../api/record.ts'
import { decodeKey, decodeRecord, decodeValues } from './decode.ts'
import { isExactNumber } from './exact-number.ts'

const record = (value: Buffer | null, extra: Partial<SourceRecord> = {}): SourceRecord => ({
  partition: 't/0',
  topic: 't',
  partitionNumber: 0,
  offset: '0',
  key: null,
  value,
  timestamp: 0,
  headers: [],
  ...extra,
})

test('decodeValues: the JSON object of a value, exact numbers kept', () => {
  const values = decodeValues(record(Buffer.from('{"a": 1, "s": "é", "big": 9007199254740993}')))
  assert.ok(typeof values === 'object')
  assert.equal(values.a, 1)
  assert.equal(values.s, 'é')
  assert.ok(isExactNumber(values.big))
  assert.equal(JSON.stringify(values.big), '9007199254740993')
})

test('decodeValues: why a value cannot be decoded, as decodeRecord reports it', () => {
  const cases: Array<[SourceRecord, RegExp]> = [
    [record(Buffer.from([0x7b, 0xff, 0x7d])), /^value is not valid UTF-8$/],
    [record(Buffer.from('{"a":')), /^value is not valid JSON: /],
    [record(Buffer.from('[1]')), /^value is JSON but not an object \(got array\)$/],
    [record(Buffer.from('null')), /^value is JSON but not an object \(got null\)$/],
    [record(Buffer.from('7')), /^value is JSON but not an object \(got number\)$/],
    [record(null), /^value is null \(tombstone\)$/],
    [record(Buffer.from('{}'), { decodeError: 'bad CSV line 3' }), /^bad CSV line 3$/],
  ]
  for (const [r, reason] of cases) {
    const decoded = decodeValues(r)
    assert.ok(typeof decoded === 'string', `${String(r.value)} is refused`)
    assert.match(decoded, reason)
    assert.deepEqual(decodeRecord(r), { ok: false, reason: decoded })
  }
})

test('decodeValues: fields a source named are copied, never shared', () => {
  const fields = { a: 1 }
  const values = decodeValues(record(null, { fields }))
  assert.deepEqual(values, { a: 1 })
  assert.notEqual(values, fields)
  assert.deepEqual(decodeRecord(record(Buffer.from('{"b":2}'))), { ok: true, values: { b: 2 } })
})

test('the Kafka Connect envelope: the payload is the record, exact numbers kept; without payload a reason', () => {
  const connect = (text: string): ReturnType<typeof decodeValues> => decodeValues(record(Buffer.from(text)), 'connect')
  const values = connect('{"schema": {"type": "struct", "fields": []}, "payload": {"id": 9007199254740993, "schema": "mine"}}')
  assert.ok(typeof values === 'object')
  assert.ok(isExactNumber(values.id))
  assert.equal(values.schema, 'mine', "a payload's own field named schema is data")
  assert.deepEqual(connect('{"schema": null, "payload": {"a": 1}}'), { a: 1 })
  assert.deepEqual(connect('{"payload": {"a": 1}}'), { a: 1 })
  assert.match(String(connect('{"schema": {"type": "string"}, "id": 1}')), /not a Kafka Connect envelope \(extract.envelope "connect"\): it has no "payload" field \(its fields: "schema", "id"\)/)
  assert.match(String(connect('[1]')), /not a Kafka Connect envelope.*JSON array/)
  assert.match(String(connect('{"schema": {"type": "string"}, "payload": "text"}')), /payload is a string, not an object/)
  assert.match(String(connect('{"schema": {"type": "int64"}, "payload": 12345678901234567890}')), /payload is a number, not an object/)
  assert.match(String(connect('{"schema": null, "payload": null}')), /payload is null, not an object/)
  // Without the option a value is the record itself, envelope or not.
  assert.deepEqual(decodeValues(record(Buffer.from('{"payload": {"a": 1}}'))), { payload: { a: 1 } })
  // Records a source named itself have no envelope.
  assert.deepEqual(decodeValues(record(null, { fields: { a: 1 } }), 'connect'), { a: 1 })
})

test("decodeKey with the Connect envelope: a key in Connect's envelope is its payload; a plain key stays as it is", () => {
  const key = (text: string, columns: string[] = ['id']): ReturnType<typeof decodeKey> => decodeKey(record(null, { key: Buffer.from(text) }), columns, 'connect')
  assert.deepEqual(key('{"schema": {"type": "struct", "fields": [{"type": "int64", "field": "id"}]}, "payload": {"id": 5}}'), { id: 5 })
  assert.deepEqual(key('{"schema": {"type": "int64"}, "payload": 7}'), { id: 7 })
  assert.deepEqual(key('{"payload": {"id": 8}}'), { id: 8 })
  assert.deepEqual(key('{"id": 9, "payload": "x"}', ['id', 'payload']), { id: 9, payload: 'x' }, 'other fields: not an envelope')
  assert.deepEqual(key('{"id": 9}'), { id: 9 })
  assert.deepEqual(decodeKey(record(null, { key: Buffer.from('{"payload": {"id": 8}}') }), ['id']), { payload: { id: 8 } }, 'without the option a key is as it is')
})
