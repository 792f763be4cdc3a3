import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { SourceRecord } from '../api/record.ts'
import { SluiceError } from '../errors.ts'
import { compileRecordSchema } from './record-schema.ts'
import { RecordPath } from './records.ts'

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

test('metadata columns fill in only where the payload has no such field', () => {
  const path = new RecordPath({ validator: null, transform: null, watermark: null, deleteKeys: null }, null)
  path.add([rec('{"topic": "mine", "x": 1}', 'k1')])
  const v = path.finish().rows[0]?.values
  assert.equal(v?.topic, 'mine')
  assert.equal(v?.key, 'k1')
  assert.equal(v?.partition, 0)
  assert.ok(v?.timestamp instanceof Date)
})

test('only the metadata fields the target table has are added', async () => {
  const { metadataFor } = await import('./decode.ts')
  const path = new RecordPath({ validator: null, transform: null, watermark: null, deleteKeys: null, metadata: metadataFor(['id', 'Topic', 'offset']) }, null)
  path.add([rec('{"id": 1}', 'k1')])
  assert.deepEqual(path.finish().rows[0]?.values, { id: 1, topic: 't', offset: String(offset - 1) })
  assert.equal(metadataFor(null).size, 7, 'unknown columns: every field')
})

test('a tombstone followed by a new record of the same key in one batch does not delete it', () => {
  const path = new RecordPath({ validator: null, transform: null, watermark: null, deleteKeys: ['id'], metadata: new Set() }, null)
  path.add([rec('{"id": 1, "v": "a"}'), rec(null, '{"id": 1}'), rec('{"id": 1, "v": "b"}'), rec('{"id": 2, "v": "a"}'), rec(null, '{"id": 2}')])
  const b = path.finish()
  assert.deepEqual(b.deletes, [{ id: 2 }], 'key 1 came back after its tombstone; key 2 ends deleted')
  assert.equal(b.rows.length, 3)
})
