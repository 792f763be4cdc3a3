import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { SourceRecord } from '../api/record.ts'
import { FlatRow, FlatUse } from './flat-row.ts'
import { type RecordPathOptions, RecordPath } from './records.ts'

const record = (value: string | null, offset = 0): SourceRecord => ({ partition: 't/0', topic: 't', partitionNumber: 0, offset: String(offset), key: null, value: value === null ? null : Buffer.from(value), timestamp: 0, headers: [] })

const plain: RecordPathOptions = { validator: null, transform: null, watermark: null, deleteKeys: null, metadata: null }

test('a plain path keeps rows unparsed, with the values and verdicts of the decode path', () => {
  const path = new RecordPath({ ...plain, lazyValues: new FlatUse() }, null)
  path.add([record('{"id": 1, "s": "a"}', 0), record('{"id": 2, "s": "b\\n"}', 1), record('{"id": 3,}', 2), record('[1]', 3), record(null, 4), record('{"id": 4, "id": 5}', 5)])
  const b = path.finish()
  assert.deepEqual(b.rows.map((r) => r.flat !== undefined), [true, true, false])
  assert.deepEqual(b.rows.map((r) => r.values), [{ id: 1, s: 'a' }, { id: 2, s: 'b\n' }, { id: 5 }])
  assert.ok(b.rows[0] instanceof FlatRow)
  assert.deepEqual(b.dead.map((d) => [d.record.offset, d.code]), [['2', 'RECORD_DECODE'], ['3', 'RECORD_DECODE']])
  assert.equal(b.tombstonesSkipped, 1)
  assert.equal(b.recordsRead, 6)
})

test('anything on the path that reads values (or no lazyValues) parses every record', () => {
  const variants: RecordPathOptions[] = [
    plain,
    { ...plain, lazyValues: new FlatUse(), validator: () => null },
    { ...plain, lazyValues: new FlatUse(), transform: (v) => v },
    { ...plain, lazyValues: new FlatUse(), watermark: { column: 'at', delayMs: 0 } },
    { ...plain, lazyValues: new FlatUse(), deleteKeys: ['id'] },
    { ...plain, lazyValues: new FlatUse(), metadata: undefined },
    { ...plain, lazyValues: new FlatUse(), envelope: 'connect' },
  ]
  for (const options of variants) {
    const path = new RecordPath(options, null)
    path.add([record('{"id": 1, "at": "2026-01-01T00:00:00Z", "schema": null, "payload": {"id": 1}}')])
    const rows = path.finish().rows
    assert.equal(rows.length, 1)
    assert.equal(rows[0]?.flat, undefined)
  }
})

test('when the sink parses most rows left unparsed, the next 16 batches skip the scan, then one tries again', () => {
  const use = new FlatUse()
  const batch = (parse: boolean): boolean => {
    const path = new RecordPath({ ...plain, lazyValues: use }, null)
    path.add(Array.from({ length: 1000 }, (_, i) => record(`{"id": ${i}}`, i)))
    const rows = path.finish().rows
    if (parse) for (const r of rows) void r.values
    return rows.every((r) => r.flat !== undefined)
  }
  assert.equal(batch(true), true)
  for (let i = 0; i < 16; i++) assert.equal(batch(true), false, `batch ${i + 2} skips`)
  assert.equal(batch(false), true, 'then one batch scans again')
  assert.equal(batch(false), true, 'and the next ones too, as its rows stayed unparsed')
  assert.equal(batch(false), true)
})

test('a row left unparsed whose value the decode refuses is a bug, not a dropped record', () => {
  const row = new FlatRow(record('{"a": 1}'), { spans: new Int32Array(6), base: 0, count: 1, asciiKeys: true })
  ;(row.source as { value: Buffer }).value = Buffer.from('{')
  assert.throws(() => row.values, { code: 'INTERNAL' })
})
