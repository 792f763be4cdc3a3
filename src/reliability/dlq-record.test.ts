import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { SourceRecord } from '../api/record.ts'
import {
  DLQ_FIELDS,
  MAX_REASON_LENGTH,
  decodeHeaders,
  dlqHeaders,
  dlqOutboxColumns,
  dlqRow,
  dlqTableColumns,
  encodeHeaders,
  outboxRow,
  sanitizeReason,
  type DlqInput,
} from './dlq-record.ts'

const record: SourceRecord = {
  partition: 'orders/3',
  topic: 'orders',
  partitionNumber: 3,
  offset: '9007199254740993',
  key: Buffer.from('k1'),
  value: Buffer.from('{not json'),
  timestamp: 1_700_000_000_000,
  headers: [
    ['traceparent', Buffer.from('00-abc-01')],
    ['bin', Buffer.from([0xff, 0x00, 0xfe])],
    ['sluice.error.code', Buffer.from('RECORD_SCHEMA')],
  ],
}

const input: DlqInput = {
  code: 'RECORD_DECODE',
  reason: 'Unexpected token n in JSON',
  pipelineId: 'p1',
  batchId: 42,
  record,
  failedAt: Date.UTC(2026, 10, 25, 12, 0, 0),
}

test('dlqHeaders appends the eight sluice headers to the original ones', () => {
  const headers = dlqHeaders(input)
  const text = headers.map(([n, v]) => [n, v.toString('utf8')])
  assert.deepEqual(text.slice(0, 1), [['traceparent', '00-abc-01']])
  assert.deepEqual(headers[1]?.[1], Buffer.from([0xff, 0x00, 0xfe]), 'binary header kept byte for byte')
  assert.deepEqual(text.slice(2), [
    ['sluice.error.code', 'RECORD_DECODE'],
    ['sluice.error.reason', 'Unexpected token n in JSON'],
    ['sluice.pipeline.id', 'p1'],
    ['sluice.batch.id', '42'],
    ['sluice.source.topic', 'orders'],
    ['sluice.source.partition', '3'],
    ['sluice.source.offset', '9007199254740993'],
    ['sluice.failed.at', '2026-11-25T12:00:00.000Z'],
  ])
  assert.equal(headers.filter(([n]) => n === 'sluice.error.code').length, 1, 'a stale sluice header is replaced')
})

test('reasons are truncated and scrubbed of secrets', () => {
  const long = sanitizeReason('x'.repeat(5000))
  assert.equal(long.length, MAX_REASON_LENGTH)
  assert.ok(long.endsWith('…'))
  const scrubbed = sanitizeReason('connect postgres://etl:hunter2@db:5432/x failed; password=hunter2 "password":"hunter2"')
  assert.ok(!scrubbed.includes('hunter2'), scrubbed)
  assert.ok(scrubbed.includes('postgres://etl:***@db:5432/x'))
})

test('dlqRow matches dlqTableColumns and keeps the original bytes', () => {
  const row = dlqRow(input)
  assert.deepEqual(Object.keys(row).sort(), Object.keys(dlqTableColumns).sort())
  for (const f of DLQ_FIELDS) assert.ok(f in dlqTableColumns, f)
  assert.equal(dlqTableColumns['sluice.source.offset'], 'bigint')
  assert.equal(dlqTableColumns['sluice.failed.at'], 'timestamptz')
  assert.deepEqual(row.key, Buffer.from('k1'))
  assert.deepEqual(row.value, Buffer.from('{not json'))
  assert.equal(row['sluice.source.offset'], '9007199254740993')
  assert.equal(row['sluice.batch.id'], 42)
  assert.equal(row['sluice.source.partition'], 3)
  assert.equal(row['sluice.failed.at'], '2026-11-25T12:00:00.000Z')
  assert.ok(Buffer.isBuffer(row.headers), 'jsonb text as bytes, so the COPY writer does not quote it as a JSON string')
  assert.deepEqual(JSON.parse((row.headers as Buffer).toString('utf8')), [
    { name: 'traceparent', value: '00-abc-01' },
    { name: 'bin', base64: Buffer.from([0xff, 0x00, 0xfe]).toString('base64') },
    { name: 'sluice.error.code', value: 'RECORD_SCHEMA' },
  ])
})

test('tombstones and key-less records are representable', () => {
  const row = dlqRow({ ...input, record: { ...record, key: null, value: null, headers: [] } })
  assert.equal(row.key, null)
  assert.equal(row.value, null)
  assert.deepEqual(row.headers, Buffer.from('[]'))
})

test('headers survive an encode/decode round trip', () => {
  const headers = dlqHeaders(input)
  assert.deepEqual(decodeHeaders(encodeHeaders(headers)), headers)
})

test('outboxRow carries the full Kafka header list and the (pipeline, batch, seq) id', () => {
  const row = outboxRow({ ...input, seq: 7, topic: 'orders-dlq' })
  assert.deepEqual(Object.keys(row).sort(), Object.keys(dlqOutboxColumns).sort())
  assert.equal(row.pipeline_id, 'p1')
  assert.equal(row.batch_id, 42)
  assert.equal(row.seq, 7)
  assert.equal(row.topic, 'orders-dlq')
  assert.deepEqual(decodeHeaders((row.headers as Buffer).toString('utf8')), dlqHeaders(input))
})
