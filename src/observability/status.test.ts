import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EngineEvents } from '../engine/events.ts'
import { QueryStatusBoard } from './status.ts'

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
  })
  events.emit('source.lag', { pipelineId: 'orders', lag: { 'orders/0': 12, 'orders/2': 3 } })
  events.emit('circuit.state', { pipelineId: 'orders', state: 'closed' })
  const snap = board.snapshot()
  q = snap.queries[0]
  assert.equal(q?.currentBatch, null)
  assert.deepEqual(q?.lastBatch, { id: 5, records: 50, destinations: { table: 49, dlq: 1 }, committedAt: '2026-11-25T12:00:02.000Z', durationMs: 2500 })
  assert.equal(q?.batchesCommitted, 1)
  assert.equal(q?.watermark, '2026-11-25T11:00:00.000Z')
  assert.deepEqual(q?.partitions, {
    'orders/0': { position: '150', lag: 12 },
    'orders/1': { position: '7', lag: null },
    'orders/2': { position: null, lag: 3 },
  })
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
  events.emit('source.lag', { pipelineId: 'a', lag: { p: 1 } })
  const snap = board.snapshot()
  const first = snap.queries[0]
  if (first) first.partitions.p = { position: 'x', lag: 9 }
  assert.deepEqual(board.get('a')?.partitions, { p: { position: null, lag: 1 } })
})

test('the board shows the Kafka outbox: pending rows per topic, since when failing, why (secrets scrubbed)', () => {
  const events = new EngineEvents()
  const board = new QueryStatusBoard(events, () => 0)
  board.register('orders', 'orders')
  assert.equal(board.snapshot().queries[0]?.outbox, null, 'unknown before the relay reports')
  events.emit('outbox.pending', { pipelineId: 'orders', rows: 3, topics: { dlq: 2, late: 1 }, failingSinceMs: Date.UTC(2026, 0, 1), lastError: 'connect postgres://u:pw@h/x refused' })
  assert.deepEqual(board.snapshot().queries[0]?.outbox, { pending: 3, topics: { dlq: 2, late: 1 }, failingSince: '2026-01-01T00:00:00.000Z', lastError: 'connect postgres://u:***@h/x refused' })
})
