import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { SourceRecord } from '../api/record.ts'
import { decodeChange } from './debezium.ts'
import { metadataFor } from './metadata.ts'
import { RecordPath, type RecordPathOptions, deletedKey } from './records.ts'

let offset = 0
function rec(value: string | null, key: string | null = null): SourceRecord {
  return { partition: 't/0', topic: 't', partitionNumber: 0, offset: String(offset++), key: key === null ? null : Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp: 5, headers: [] }
}

const SOURCE = { version: '3.1.0.Final', connector: 'postgresql', name: 'shop', ts_ms: 1767225600000, snapshot: 'false', db: 'shop', schema: 'public', table: 'customers', txId: 771, lsn: 24023128 }

/** A change event as Debezium's JsonConverter writes it without schemas. */
function event(op: string, before: unknown, after: unknown): string {
  return JSON.stringify({ before, after, source: SOURCE, transaction: null, op, ts_ms: 1767225600123 })
}

/** The same event with schemas.enable=true: the Connect wrapper (the schema is shortened, it is not read). */
function wrapped(op: string, before: unknown, after: unknown): string {
  return `{"schema": {"type": "struct", "name": "shop.public.customers.Envelope", "optional": false, "fields": []}, "payload": ${event(op, before, after)}}`
}

const KEY_SCHEMA = '{"type": "struct", "name": "shop.public.customers.Key", "optional": false, "fields": [{"type": "int64", "optional": false, "field": "id"}]}'

for (const [name, form] of [['without', event], ['with', wrapped]] as const) {
  test(`change events ${name} the Connect wrapper: c, r, u give "after"; d gives the key from "before"`, () => {
    for (const op of ['c', 'r', 'u']) {
      const out = decodeChange(rec(form(op, op === 'u' ? { id: 1, name: 'old' } : null, { id: 1, name: 'Ann' })), ['id'])
      assert.ok(typeof out === 'object' && out.kind === 'row', op)
      assert.deepEqual(out.values, { id: 1, name: 'Ann' })
      assert.deepEqual(out.event, { op, tsMs: 1767225600123, source: SOURCE })
    }
    assert.deepEqual(decodeChange(rec(form('d', { id: 1, name: 'Ann' }, null)), ['id']), { kind: 'delete', key: { id: 1 } })
  })
}

test('a delete without the key in "before" takes it from the record key, plain or Connect-wrapped', () => {
  // REPLICA IDENTITY NOTHING-like: before is null, or lacks the key columns.
  assert.deepEqual(decodeChange(rec(event('d', null, null), '{"id": 4}'), ['id']), { kind: 'delete', key: { id: 4 } })
  assert.deepEqual(decodeChange(rec(event('d', { name: 'x' }, null), `{"schema": ${KEY_SCHEMA}, "payload": {"id": 5}}`), ['id']), { kind: 'delete', key: { id: 5 } })
  assert.deepEqual(decodeChange(rec(event('d', null, null), '6'), ['id']), { kind: 'delete', key: { id: 6 } }, 'a bare key value for one key column')
  assert.match(String(decodeChange(rec(event('d', null, null)), ['id'])), /^Debezium delete \(op "d"\) without its key: neither "before" nor the record key gives the upsert key columns id$/)
  assert.match(String(decodeChange(rec(event('d', { id: null }, null), '{"other": 1}'), ['id'])), /without its key/)
})

test('truncate, unknown ops and values that are no change event are reasons', () => {
  assert.match(String(decodeChange(rec(event('t', null, null)), ['id'])), /^Debezium op "t" \(truncate\) is not applied/)
  assert.match(String(decodeChange(rec(event('m', null, null)), ['id'])), /^Debezium op "m" is not a change Sluice applies \(c, r, u and d are\)$/)
  assert.match(String(decodeChange(rec('{"id": 1, "name": "plain"}'), ['id'])), /no "op" text field \(its fields: "id", "name"\)/)
  assert.match(String(decodeChange(rec(event('u', null, null)), ['id'])), /op "u" \(update\) has "after" null, not the row/)
  assert.match(String(decodeChange(rec('[1]'), ['id'])), /value is an array, not a Debezium change event/)
  assert.match(String(decodeChange(rec('{"op": '), ['id'])), /^value is not valid JSON/)
  assert.match(String(decodeChange(rec('{"schema": {}, "payload": null}'), ['id'])), /value is null, not a Debezium change event/)
})

test('numbers past 2^53 stay exact in the row and in the delete key', () => {
  const big = '{"before": null, "after": {"id": 9007199254740993, "amount": 12345678901234567890.5}, "source": {}, "op": "c", "ts_ms": 1}'
  const out = decodeChange(rec(big), ['id'])
  assert.ok(typeof out === 'object' && out.kind === 'row')
  assert.equal(JSON.stringify(out.values), '{"id":9007199254740993,"amount":12345678901234567890.5}')
  const del = decodeChange(rec('{"payload": {"before": {"id": 9007199254740995}, "after": null, "op": "d"}}'), ['id'])
  assert.equal(JSON.stringify(del), '{"kind":"delete","key":{"id":9007199254740995}}')
})

function debeziumPath(metadata: RecordPathOptions['metadata'] = null): RecordPath {
  return new RecordPath({ validator: null, transform: null, watermark: null, deleteKeys: ['id'], metadata, envelope: 'debezium' }, null)
}

test('the record path: rows, deletes, tombstones skipped, dead letters; a later event of a key voids its earlier delete', () => {
  const path = debeziumPath()
  path.add([
    rec(event('r', null, { id: 1, name: 'a' }), '{"id": 1}'),
    rec(event('c', null, { id: 2, name: 'b' }), '{"id": 2}'),
    rec(event('d', { id: 1, name: 'a' }, null), '{"id": 1}'),
    rec(null, '{"id": 1}'), // the tombstone after the delete
    rec(wrapped('u', { id: 2, name: 'b' }, { id: 2, name: 'b2' }), '{"id": 2}'),
    rec(event('d', { id: 2, name: 'b2' }, null), '{"id": 2}'),
    rec(null, '{"id": 2}'),
    rec(event('c', null, { id: 2, name: 'again' }), '{"id": 2}'), // key 2 comes back after its delete
    rec(event('t', null, null)),
    rec(event('x', null, null)),
    rec(null), // a tombstone without a key: skipped too, never a delete
  ])
  const b = path.finish()
  assert.deepEqual(b.rows.map((r) => r.values), [{ id: 1, name: 'a' }, { id: 2, name: 'b' }, { id: 2, name: 'b2' }, { id: 2, name: 'again' }])
  assert.deepEqual(b.deletes, [{ id: 1 }], 'key 2 was created again after its delete in the same batch')
  assert.equal(b.tombstonesSkipped, 3)
  assert.deepEqual(b.dead.map((d) => d.code), ['RECORD_DECODE', 'RECORD_DECODE'])
  assert.match(b.dead[0]?.reason ?? '', /truncate/)
  assert.equal(b.rows.length + b.dead.length + b.tombstonesSkipped + 2 /* deletes */, b.recordsRead)
})

test('__op, __ts_ms and __source are added when wanted; a field path reads __source.table; the row\'s own field wins', () => {
  const all = debeziumPath(metadataFor('kafka', [], null, 'debezium'))
  all.add([rec(event('u', null, { id: 1 }))])
  const row = all.finish().rows[0]?.values
  assert.equal(row?.['__op'], 'u')
  assert.equal(row?.['__ts_ms'], 1767225600123)
  assert.deepEqual(row?.['__source'], SOURCE)

  const some = debeziumPath(metadataFor('kafka', ['__source.table', '__source'], ['id', '__OP'], 'debezium'))
  some.add([rec(event('c', null, { id: 1 })), rec(event('c', null, { id: 2, __op: 'mine' }))])
  assert.deepEqual(some.finish().rows.map((r) => r.values), [{ id: 1, __op: 'c', __source: SOURCE }, { id: 2, __op: 'mine', __source: SOURCE }])

  assert.equal(metadataFor('kafka', [], ['id', 'name'], 'debezium'), null, 'nothing wanted: no per-record work')
  const plain = new RecordPath({ validator: null, transform: null, watermark: null, deleteKeys: null, metadata: metadataFor('kafka', ['__op'], null) }, null)
  plain.add([rec('{"id": 1}')])
  assert.equal(plain.finish().rows[0]?.values['__op'], undefined, 'without the debezium envelope there are no change fields')
})

test('deletedKey shows what a d event deletes; the debezium envelope needs delete keys', () => {
  const options: RecordPathOptions = { validator: null, transform: null, watermark: null, deleteKeys: ['id'], envelope: 'debezium' }
  assert.deepEqual(deletedKey(rec(event('d', { id: 3, name: 'z' }, null), '{"id": 99}'), options), { id: 3 })
  assert.throws(() => new RecordPath({ ...options, deleteKeys: null }, null), /needs the upsert key columns/)
})
