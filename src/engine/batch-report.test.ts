import { test } from 'node:test'
import assert from 'node:assert/strict'
import { batchProgress } from './batch-report.ts'
import type { PlannedBatch } from './checkpoint.ts'

const planned: PlannedBatch = {
  batchId: 7,
  start: { 't/0': '100', 't/1': '40' },
  end: { 't/0': '150' },
  watermarkMs: null,
  plannedAt: '2026-11-25T12:00:10.000Z',
}

test("batchProgress: Spark's fields, whole offsets, rates and the backlog left", () => {
  const p = batchProgress(planned, 50, 250, Date.parse('2026-11-25T12:00:05.000Z'), { 't/0': '180', 't/1': '45', 't/2': '9' })
  assert.deepEqual(p, {
    batchId: 7,
    timestamp: '2026-11-25T12:00:10.000Z',
    numInputRows: 50,
    inputRowsPerSecond: 10,
    processedRowsPerSecond: 200,
    durationMs: 250,
    backlog: 35,
    sources: [
      {
        startOffset: { 't/0': '100', 't/1': '40' },
        endOffset: { 't/0': '150', 't/1': '40' },
        latestOffset: { 't/0': '180', 't/1': '45', 't/2': '9' },
        numInputRows: 50,
        inputRowsPerSecond: 10,
        processedRowsPerSecond: 200,
        // t/2 was never read: no position to count from, so it is left out (as in the lag metric).
        backlog: { 't/0': 30, 't/1': 5 },
      },
    ],
  })
})

test('batchProgress: no input rate for the first batch or a re-run one; no backlog without a latest position', () => {
  const first = batchProgress(planned, 3, 0, null, null)
  assert.equal(first.inputRowsPerSecond, null)
  assert.equal(first.processedRowsPerSecond, 3000, 'a 0 ms batch counts as 1 ms, never a division by zero')
  assert.equal(first.backlog, null)
  assert.equal(first.sources[0]?.latestOffset, null)
  const rerun = batchProgress(planned, 3, 10, Date.parse('2026-11-25T12:00:30.000Z'), {})
  assert.equal(rerun.inputRowsPerSecond, null, 'the previous trigger is later than this batch plannedAt')
  assert.equal(rerun.backlog, null, 'a source that knows no latest position yet')
  assert.equal(rerun.sources[0]?.latestOffset, null, '{} is no latest position')
  assert.equal(batchProgress(planned, 1, 3, null, null).processedRowsPerSecond, 333.3)
})
