import { test } from 'node:test'
import assert from 'node:assert/strict'
import { batchProgress } from '../engine/batch-report.ts'
import { EngineEvents } from '../engine/events.ts'
import { QueryStatusBoard, THROUGHPUT_BUCKETS, THROUGHPUT_BUCKET_SECONDS } from './status.ts'

function progressOf(batchId: number, rows: number) {
  const plannedAt = new Date(Date.UTC(2026, 10, 25, 12, 0, 0)).toISOString()
  return batchProgress({ batchId, start: { 'orders/0': '100' }, end: { 'orders/0': '150' }, watermarkMs: null, plannedAt }, rows, 2500, null, { 'orders/0': '170' })
}

function committed(events: EngineEvents, batchId: number, records: number, committedAt: number, dlqByCode: Record<string, number> = {}) {
  const dlq = Object.values(dlqByCode).reduce((a, n) => a + n, 0)
  events.emit('batch.committed', {
    pipelineId: 'orders',
    batchId,
    recordsRead: records,
    destinations: { table: records - dlq - 1, dlq, late: 1 },
    dlqByCode,
    durationMs: 100,
    committedAt,
    maxRecordTimestampMs: null,
    position: { 'orders/0': String(batchId * 100) },
    watermarkMs: null,
    progress: progressOf(batchId, records),
  })
}

test('totals add up over batches; the throughput window has every bucket, old batches fall out', () => {
  const events = new EngineEvents()
  const size = THROUGHPUT_BUCKET_SECONDS * 1000
  const t0 = Date.UTC(2026, 10, 25, 12, 0, 0)
  let now = t0
  const board = new QueryStatusBoard(events, () => now)
  committed(events, 0, 100, t0, { RECORD_DECODE: 2 })
  committed(events, 1, 50, t0 + 1000, { RECORD_DECODE: 1, RECORD_COLUMN: 4 })
  now = t0 + 3 * size
  committed(events, 2, 30, now)
  let q = board.snapshot().queries[0]
  assert.deepEqual(q?.totals, { records: 180, destinations: { table: 170, dlq: 7, late: 3 }, dlqByCode: { RECORD_DECODE: 3, RECORD_COLUMN: 4 } })
  assert.equal(q?.lastProgress?.batchId, 2)
  let buckets = q?.throughput.buckets ?? []
  assert.equal(buckets.length, THROUGHPUT_BUCKETS)
  assert.equal(q?.throughput.bucketSeconds, THROUGHPUT_BUCKET_SECONDS)
  assert.deepEqual(buckets.slice(-4), [
    { start: new Date(t0).toISOString(), records: 150 },
    { start: new Date(t0 + size).toISOString(), records: 0 },
    { start: new Date(t0 + 2 * size).toISOString(), records: 0 },
    { start: new Date(t0 + 3 * size).toISOString(), records: 30 },
  ])
  // Past the window, the first two batches are gone from the chart but not from the totals.
  now = t0 + THROUGHPUT_BUCKETS * size
  q = board.snapshot().queries[0]
  buckets = q?.throughput.buckets ?? []
  assert.equal(buckets.reduce((a, b) => a + b.records, 0), 30)
  assert.equal(q?.totals.records, 180)
})

test('the board follows a query through its events', () => {
  const events = new EngineEvents()
  let now = Date.UTC(2026, 10, 25, 12, 0, 0)
  const board = new QueryStatusBoard(events, () => now)
  board.register('orders', 'orders-to-db')
  events.emit('query.state', { pipelineId: 'orders', state: 'running' })
  events.emit('batch.planned', { pipelineId: 'orders', batchId: 5, replay: false, start: { 'orders/0': '100' }, end: { 'orders/0': '150' } })

  let q = board.snapshot().queries[0]
  assert.equal(q?.name, 'orders-to-db')
  assert.equal(q?.state, 'running')
  assert.deepEqual(q?.currentBatch, { id: 5, replay: false, startedAt: '2026-11-25T12:00:00.000Z', attempt: 1, start: { 'orders/0': '100' }, end: { 'orders/0': '150' } })

  now += 2000
  events.emit('batch.failed', { pipelineId: 'orders', batchId: 5, attempt: 1, code: 'SINK_UNAVAILABLE', retryable: true, message: 'lost postgres://u:pw@db/x' })
  events.emit('batch.retry', { pipelineId: 'orders', batchId: 5, attempt: 1, delayMs: 1000, code: 'SINK_UNAVAILABLE' })
  events.emit('circuit.state', { pipelineId: 'orders', state: 'half-open' })
  q = board.snapshot().queries[0]
  assert.equal(q?.currentBatch?.attempt, 2)
  assert.equal(q?.circuit, 'half-open')
  assert.deepEqual(q?.lastError, { code: 'SINK_UNAVAILABLE', message: 'lost postgres://u:***@db/x', at: '2026-11-25T12:00:02.000Z', batchId: 5 })

  events.emit('batch.committed', {
    pipelineId: 'orders',
    batchId: 5,
    recordsRead: 50,
    destinations: { table: 49, dlq: 1 },
    dlqByCode: { RECORD_DECODE: 1 },
    durationMs: 2500,
    committedAt: now,
    maxRecordTimestampMs: now - 10,
    position: { 'orders/0': '150', 'orders/1': '7' },
    watermarkMs: Date.UTC(2026, 10, 25, 11, 0, 0),
    progress: progressOf(5, 50),
  })
  events.emit('source.lag', { pipelineId: 'orders', lag: { 'orders/0': 12, 'orders/2': 3 }, latest: { 'orders/0': '162', 'orders/2': '3' } })
  events.emit('circuit.state', { pipelineId: 'orders', state: 'closed' })
  const snap = board.snapshot()
  q = snap.queries[0]
  assert.equal(q?.currentBatch, null)
  assert.deepEqual(q?.lastBatch, { id: 5, records: 50, destinations: { table: 49, dlq: 1 }, committedAt: '2026-11-25T12:00:02.000Z', durationMs: 2500 })
  assert.equal(q?.batchesCommitted, 1)
  assert.equal(q?.watermark, '2026-11-25T11:00:00.000Z')
  assert.deepEqual(q?.partitions, {
    'orders/0': { position: '150', lag: 12, latest: '162' },
    'orders/1': { position: '7', lag: null, latest: null },
    'orders/2': { position: null, lag: 3, latest: '3' },
  })
  assert.deepEqual(q?.lastProgress, progressOf(5, 50))
  assert.deepEqual(q?.totals, { records: 50, destinations: { table: 49, dlq: 1 }, dlqByCode: { RECORD_DECODE: 1 } })
  assert.deepEqual(JSON.parse(JSON.stringify(snap)), snap, 'snapshot is plain JSON')
})

test('duplicates, several queries, and terminal states', () => {
  const events = new EngineEvents()
  const board = new QueryStatusBoard()
  const off = board.attach(events)
  events.emit('batch.planned', { pipelineId: 'a', batchId: 1, replay: true, start: {}, end: {} })
  events.emit('batch.duplicate', { pipelineId: 'a', batchId: 1 })
  events.emit('query.state', { pipelineId: 'b', state: 'failed', error: { code: 'SINK_SCHEMA', message: 'table missing' } })
  const [a, b] = board.snapshot().queries
  assert.equal(a?.duplicatesSkipped, 1)
  assert.equal(a?.currentBatch, null)
  assert.equal(b?.state, 'failed')
  assert.equal(b?.lastError?.code, 'SINK_SCHEMA')
  off()
  events.emit('query.state', { pipelineId: 'a', state: 'stopped' })
  assert.equal(board.get('a')?.state, 'starting', 'detached boards stop listening')
})

test('snapshots are copies', () => {
  const events = new EngineEvents()
  const board = new QueryStatusBoard(events)
  events.emit('source.lag', { pipelineId: 'a', lag: { p: 1 }, latest: { p: '1' } })
  const snap = board.snapshot()
  const first = snap.queries[0]
  if (first) first.partitions.p = { position: 'x', lag: 9, latest: null }
  assert.deepEqual(board.get('a')?.partitions, { p: { position: null, lag: 1, latest: '1' } })
})

test('the board shows the Kafka outbox: pending rows per topic, since when failing, why (secrets scrubbed)', () => {
  const events = new EngineEvents()
  const board = new QueryStatusBoard(events, () => 0)
  board.register('orders', 'orders')
  assert.equal(board.snapshot().queries[0]?.outbox, null, 'unknown before the relay reports')
  events.emit('outbox.pending', { pipelineId: 'orders', rows: 3, topics: { dlq: 2, late: 1 }, failingSinceMs: Date.UTC(2026, 0, 1), lastError: 'connect postgres://u:pw@h/x refused' })
  assert.deepEqual(board.snapshot().queries[0]?.outbox, { pending: 3, topics: { dlq: 2, late: 1 }, failingSince: '2026-01-01T00:00:00.000Z', lastError: 'connect postgres://u:***@h/x refused' })
})
