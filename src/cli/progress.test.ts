import { test } from 'node:test'
import assert from 'node:assert/strict'
import { batchProgress } from '../engine/batch-report.ts'
import { EngineEvents } from '../engine/events.ts'
import { type ProgressStream, startProgress } from './progress.ts'

function terminal(isTTY: boolean): { stream: ProgressStream; written: string[] } {
  const written: string[] = []
  const stream: ProgressStream = { isTTY, columns: 200, write: (chunk: string | Uint8Array) => (written.push(String(chunk)), true) }
  return { stream, written }
}

function commit(events: EngineEvents, batchId: number, previousTriggerMs: number | null): void {
  const plannedAt = new Date(10_000 + batchId * 1000).toISOString()
  const planned = { batchId, start: { 'g/0': String(batchId * 100) }, end: { 'g/0': String(batchId * 100 + 100) }, watermarkMs: null, plannedAt }
  events.emit('batch.committed', {
    pipelineId: 'gen',
    batchId,
    recordsRead: 100,
    destinations: { table: 98, dlq: 2 },
    dlqByCode: { RECORD_DECODE: 2 },
    durationMs: 200,
    committedAt: 0,
    maxRecordTimestampMs: null,
    position: planned.end,
    watermarkMs: null,
    progress: batchProgress(planned, 100, 200, previousTriggerMs, { 'g/0': '1000' }),
  })
}

/** Waits until the line was written `n` times (the timer runs every 10 ms). */
async function lines(written: string[], n: number): Promise<void> {
  for (let i = 0; written.length < n && i < 500; i++) await new Promise((r) => setTimeout(r, 10))
}

test('the progress line shows totals, rates and the backlog, rewritten in place, cleared at the end', async () => {
  const events = new EngineEvents()
  const { stream, written } = terminal(true)
  const stop = startProgress(events, stream, 10)
  commit(events, 0, null)
  await lines(written, 1)
  commit(events, 1, 10_000)
  await lines(written, 2)
  stop()
  assert.deepEqual(written, [
    '\r\x1b[Kgen: 1 batches, 100 records, processed 500/s, backlog 900 (98 written, 2 DLQ, 0 late)',
    '\r\x1b[Kgen: 2 batches, 200 records, in 100/s, processed 500/s, backlog 800 (196 written, 4 DLQ, 0 late)',
    '\r\x1b[K',
  ])
})

test('no progress line when the stream is not a terminal', async () => {
  const events = new EngineEvents()
  const { stream, written } = terminal(false)
  const stop = startProgress(events, stream, 10)
  commit(events, 0, null)
  await new Promise((r) => setTimeout(r, 40))
  stop()
  assert.deepEqual(written, [])
})
