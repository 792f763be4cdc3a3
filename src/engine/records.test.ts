import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { SourceRecord } from '../api/record.ts'
import { SluiceError } from '../errors.ts'
import { compileRecordSchema } from './record-schema.ts'
import { RecordPath } from './records.ts'
import { metadataFor, metadataNames } from './metadata.ts'

let offset = 0
function rec(value: string | Buffer | null, key: string | null = null): SourceRecord {
  return { partition: 't/0', topic: 't', partitionNumber: 0, offset: String(offset++), key: key === null ? null : Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp: 5, headers: [] }
}

test('every record ends in exactly one place, with the reason', () => {
  const validator = compileRecordSchema({ type: 'object', required: ['id'], properties: { id: { type: 'integer' }, at: { type: 'string', format: 'date-time' } } }, 's')
  const path = new RecordPath(
    {
      validator,
      transform: (v) => {
        if (v.id === 13) throw new SluiceError('RECORD_TRANSFORM', 'cannot cast')
        return v.id === 7 ? null : v
      },
      watermark: { column: 'at', delayMs: 0 },
      deleteKeys: null,
    },
    Date.parse('2026-01-01T00:00:00Z'),
  )
  path.add([
    rec('{"id": 1, "at": "2026-02-01T00:00:00Z"}'),
    rec('{"id": "2", "at": 1800000000}'), // coerced: numeric string, epoch seconds
    rec('{"id": 3'), // bad JSON
    rec(Buffer.from([0xff, 0xfe, 0x00])), // not UTF-8
    rec('[1,2]'), // JSON, not an object
    rec('{"name": "no id", "at": "2026-02-01T00:00:00Z"}'), // schema
    rec('{"id": 7, "at": "2026-02-01T00:00:00Z"}'), // filtered
    rec('{"id": 13, "at": "2026-02-01T00:00:00Z"}'), // transform error
    rec('{"id": 8}'), // missing event time
    rec('{"id": 9, "at": "2025-12-31T00:00:00Z"}'), // late
    rec(null, '{"id": 10}'), // tombstone, skipped
  ])
  const b = path.finish()
  assert.deepEqual(b.rows.map((r) => r.values.id), [1, 2])
  assert.equal(b.rows[1]?.values.at, new Date(1_800_000_000_000).toISOString())
  assert.deepEqual(b.dead.map((d) => d.code), ['RECORD_DECODE', 'RECORD_DECODE', 'RECORD_DECODE', 'RECORD_SCHEMA', 'RECORD_TRANSFORM', 'RECORD_EVENT_TIME'])
  assert.match(b.dead[3]?.reason ?? '', /id/)
  assert.deepEqual(b.late.map((l) => l.code), ['LATE_DATA'])
  assert.equal(b.filtered, 1)
  assert.equal(b.tombstonesSkipped, 1)
  assert.equal(b.recordsRead, 11)
  assert.equal(b.rows.length + b.dead.length + b.late.length + b.filtered + b.tombstonesSkipped, b.recordsRead)
  assert.equal(b.nextWatermarkMs, 1_800_000_000_000)
})

test('tombstones become deletes by key in upsert mode', () => {
  const path = new RecordPath({ validator: null, transform: null, watermark: null, deleteKeys: ['id'] }, null)
  path.add([rec(null, '{"id": 4}'), rec(null, '12'), rec(null, null)])
  const b = path.finish()
  assert.deepEqual(b.deletes, [{ id: 4 }, { id: 12 }])
  assert.equal(b.dead.length, 1, 'a tombstone without a key cannot delete anything: dead letter')
})

test('metadata fields fill in only where the payload has no such field; _metadata.* always holds them', () => {
  const path = new RecordPath({ validator: null, transform: null, watermark: null, deleteKeys: null }, null)
  path.add([{ ...rec('{"topic": "mine", "x": 1}', 'k1'), headers: [['h', Buffer.from('v')]], timestampType: 1 }])
  const v = path.finish().rows[0]?.values
  assert.equal(v?.topic, 'mine', "the payload's own field is never overwritten")
  assert.equal(v?.['_metadata.topic'], 't')
  assert.equal(v?.key, 'k1')
  assert.equal(v?.partition, 0)
  assert.equal(v?.value, '{"topic": "mine", "x": 1}')
  assert.deepEqual(v?.headers, { h: 'v' })
  assert.equal(v?.timestampType, 1)
  assert.ok(v?.timestamp instanceof Date)
})

test('metadata is added after the extract schema (which sees the payload only) and before the steps', () => {
  const validator = compileRecordSchema({ type: 'object', additionalProperties: false, properties: { id: { type: 'integer' } } }, 's')
  const path = new RecordPath(
    { validator, transform: ({ key, ...rest }) => ({ ...rest, kafka_key: key }) /* rename {key: kafka_key} */, watermark: null, deleteKeys: null, metadata: metadataFor('kafka', ['key'], ['id', 'kafka_key']) },
    null,
  )
  path.add([rec('{"id": 1}', 'k1'), rec('{"id": 2}')])
  const b = path.finish()
  assert.equal(b.dead.length, 0, b.dead[0]?.reason)
  assert.deepEqual(b.rows.map((r) => r.values), [{ id: 1, kafka_key: 'k1' }, { id: 2, kafka_key: null }])
})

test('only the metadata fields a step reads or the target table has are added (decided once per query)', () => {
  const path = new RecordPath({ validator: null, transform: null, watermark: null, deleteKeys: null, metadata: metadataFor('kafka', ['_metadata.partition'], ['id', 'Topic', 'offset']) }, null)
  path.add([rec('{"id": 1}', 'k1')])
  assert.deepEqual(path.finish().rows[0]?.values, { id: 1, topic: 't', offset: String(offset - 1), '_metadata.partition': 0 })
  assert.equal(metadataFor('kafka', [], ['id']), null, 'nothing wanted: no per-record work at all')
  assert.deepEqual(metadataNames('file').filter((n) => n.startsWith('_metadata.file') || n === '_metadata.line'), ['_metadata.file_name', '_metadata.file_modification_time', '_metadata.line'])
  assert.ok(!metadataNames('kafka').includes('_metadata.line'))
})

test('file records: _metadata.file_name and _metadata.line', () => {
  const path = new RecordPath({ validator: null, transform: null, watermark: null, deleteKeys: null, metadata: metadataFor('file', ['_metadata.file_name', '_metadata.line'], []) }, null)
  path.add([{ ...rec('{"id": 1}'), topic: 'day/2026-01-01.ndjson', line: 7 }])
  assert.deepEqual(path.finish().rows[0]?.values, { id: 1, '_metadata.file_name': 'day/2026-01-01.ndjson', '_metadata.line': 7 })
})

test('a tombstone followed by a new record of the same key in one batch does not delete it', () => {
  const path = new RecordPath({ validator: null, transform: null, watermark: null, deleteKeys: ['id'], metadata: null }, null)
  path.add([rec('{"id": 1, "v": "a"}'), rec(null, '{"id": 1}'), rec('{"id": 1, "v": "b"}'), rec('{"id": 2, "v": "a"}'), rec(null, '{"id": 2}')])
  const b = path.finish()
  assert.deepEqual(b.deletes, [{ id: 2 }], 'key 1 came back after its tombstone; key 2 ends deleted')
  assert.equal(b.rows.length, 3)
})

test('numbers too long for a double reach the row exact, Kafka value and tombstone key alike', () => {
  const path = new RecordPath({ validator: null, transform: null, watermark: null, deleteKeys: ['id'], metadata: null }, null)
  path.add([rec('{"id": 9007199254740993, "amount": 12345678901234567890.12345678901234567890}'), rec(null, '9007199254740995')])
  const b = path.finish()
  assert.equal(JSON.stringify(b.rows[0]?.values), '{"id":9007199254740993,"amount":12345678901234567890.12345678901234567890}')
  assert.equal(JSON.stringify(b.deletes), '[{"id":9007199254740995}]')
})

test('the watermark reads its column through a field path; the Connect envelope is unwrapped before anything reads', () => {
  const path = new RecordPath({ validator: null, transform: null, watermark: { column: 'meta.at', delayMs: 0 }, deleteKeys: null, metadata: null, envelope: 'connect' }, null)
  path.add([
    rec('{"schema": {"type": "struct", "fields": []}, "payload": {"id": 1, "meta": {"at": "2026-01-01T00:00:00Z"}}}'),
    rec('{"schema": {"type": "struct", "fields": []}, "payload": {"id": 2, "meta": {}}}'),
    rec('{"schema": {"type": "struct", "fields": []}, "id": 3}'),
  ])
  const b = path.finish()
  assert.deepEqual(b.rows.map((r) => r.values['id']), [1])
  assert.equal(b.rows[0]?.eventTimeMs, Date.UTC(2026, 0, 1))
  assert.deepEqual(b.dead.map((d) => [d.code, d.reason]), [
    ['RECORD_EVENT_TIME', 'event time column "meta.at" is missing'],
    ['RECORD_DECODE', 'value is not a Kafka Connect envelope (extract.envelope "connect"): it has no "payload" field (its fields: "schema", "id")'],
  ])
})

test('routing by topic: deletes are kept per topic, and a topic without a table goes to the DLQ whole', () => {
  const from = (topic: string, value: string | null, key: string): SourceRecord => ({ ...rec(value, key), topic, partition: `${topic}/0` })
  const long = 'x'.repeat(70)
  const path = new RecordPath(
    { validator: null, transform: null, watermark: null, deleteKeys: ['id'], metadata: null, routing: { unroutable: (topic) => (topic === long ? 'table name too long' : null) } },
    null,
  )
  path.add([
    from('a', null, '{"id": 1}'), // deletes 1 in a
    from('b', '{"id": 1}', '{"id": 1}'), // a row of key 1 in b: does not bring back a's key 1
    from('b', null, '{"id": 2}'),
    from('a', null, '{"id": 3}'),
    from('a', '{"id": 3}', '{"id": 3}'), // brings back a's key 3
    from(long, '{"id": 4}', '{"id": 4}'),
    from(long, null, '{"id": 5}'), // even its tombstones: nothing of that topic has a table
  ])
  const b = path.finish()
  assert.deepEqual(b.deletes, [{ id: 1 }, { id: 2 }])
  assert.deepEqual(b.deleteTopics, ['a', 'b'])
  assert.deepEqual(b.rows.map((r) => [r.source.topic, r.values.id]), [['b', 1], ['a', 3]])
  assert.deepEqual(b.dead.map((d) => [d.code, d.reason]), [['RECORD_ROUTE', 'table name too long'], ['RECORD_ROUTE', 'table name too long']])

  // Without routing one table holds every topic: a key is one row whatever its topic.
  const plain = new RecordPath({ validator: null, transform: null, watermark: null, deleteKeys: ['id'], metadata: null }, null)
  plain.add([from('a', null, '{"id": 1}'), from('b', '{"id": 1}', '{"id": 1}')])
  assert.deepEqual(plain.finish().deletes, [])
})
