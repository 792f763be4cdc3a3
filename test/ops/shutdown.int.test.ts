/**
 * Graceful shutdown of `sluice run`: SIGTERM during a batch lets it commit whole and exits 0;
 * past shutdownTimeoutSeconds the batch is cancelled and rolls back, still exit 0; a second signal
 * exits at once. In every case the table holds whole batches only and the next run resumes exactly.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { runSluice, startSluice, waitForOutput } from '../helpers/cli.ts'
import { EVENTS_DDL, assertExactlyOnce, assertTrackerContiguous, topicWithEvents } from '../e2e/fixtures.ts'
import { count, opsPipeline } from './support.ts'

const COUNT = 20_000
const BATCH = 8_000
let topic: string

before(async () => {
  topic = await topicWithEvents(COUNT, 3)
})

describe('graceful shutdown', () => {
  const schemas: TestSchema[] = []
  after(async () => {
    await Promise.all(schemas.map((s) => s.drop()))
  })

  async function fresh(): Promise<TestSchema> {
    const s = await createTestSchema('opss')
    schemas.push(s)
    await s.pool.query(EVENTS_DDL)
    return s
  }

  /** Sum of record_count in the tracker; the table must hold exactly those rows (whole batches). */
  async function assertWholeBatches(s: TestSchema): Promise<{ batches: number; records: number }> {
    const { rows } = await s.pool.query<{ b: string; r: string | null }>('SELECT count(*) AS b, sum(record_count) AS r FROM batch_tracker')
    const batches = Number(rows[0]?.b)
    const records = Number(rows[0]?.r ?? 0)
    assert.equal(await count(s), records, 'the table holds exactly the records of the committed batches')
    const distinct = await s.pool.query<{ d: string }>('SELECT count(DISTINCT id) AS d FROM events')
    assert.equal(Number(distinct.rows[0]?.d), records, 'no record twice')
    return { batches, records }
  }

  test('SIGTERM during a large batch: it commits whole, exit 0, the next run resumes exactly', async () => {
    const s = await fresh()
    const { file, pipelineId } = await opsPipeline(s, topic, { maxOffsets: BATCH })
    const running = startSluice(['run', file], { SLUICE_FAILPOINTS: 'mid-fetch@0=sleep:3000' })
    await waitForOutput(running, (o) => o.includes('failpoint mid-fetch@0: sleeping'))
    running.child.kill('SIGTERM')
    const result = await running.done
    assert.equal(result.code, 0, result.stderr.slice(-3000))
    assert.match(result.stdout, /shutting down: finishing the batch in flight/)
    const { batches, records } = await assertWholeBatches(s)
    assert.equal(batches, 1, 'the batch in flight committed, no new batch started')
    assert.equal(records, BATCH)
    const rest = await runSluice(['run', file])
    assert.equal(rest.code, 0, rest.stderr.slice(-3000))
    await assertExactlyOnce(s, COUNT)
    await assertTrackerContiguous(s, pipelineId, COUNT)
  })

  test('SIGTERM while the batch transaction is open (rows written, COMMIT not sent): it commits, exit 0', async () => {
    const s = await fresh()
    const { file, pipelineId } = await opsPipeline(s, topic, { maxOffsets: BATCH })
    const running = startSluice(['run', file], { SLUICE_FAILPOINTS: 'before-commit@0=sleep:3000' })
    await waitForOutput(running, (o) => o.includes('failpoint before-commit@0: sleeping'))
    running.child.kill('SIGTERM')
    const result = await running.done
    assert.equal(result.code, 0, result.stderr.slice(-3000))
    const { batches, records } = await assertWholeBatches(s)
    assert.equal(batches, 1)
    assert.equal(records, BATCH)
    const rest = await runSluice(['run', file])
    assert.equal(rest.code, 0, rest.stderr.slice(-3000))
    await assertExactlyOnce(s, COUNT)
    await assertTrackerContiguous(s, pipelineId, COUNT)
  })

  test('SIGTERM and the batch outlives shutdownTimeoutSeconds: it rolls back, exit 0, the next run loads it once', async () => {
    const s = await fresh()
    const { file, pipelineId } = await opsPipeline(s, topic, { maxOffsets: BATCH, monitoring: { shutdownTimeoutSeconds: 1 } })
    const running = startSluice(['run', file], { SLUICE_FAILPOINTS: 'mid-fetch@0=sleep:4000' })
    await waitForOutput(running, (o) => o.includes('failpoint mid-fetch@0: sleeping'))
    const signalledAt = Date.now()
    running.child.kill('SIGTERM')
    const result = await running.done
    assert.equal(result.code, 0, result.stderr.slice(-3000))
    assert.match(result.stdout, /shutdown timeout: cancelling the batch in flight/)
    assert.ok(Date.now() - signalledAt < 15_000, 'the process did not hang after the cancel')
    const { records } = await assertWholeBatches(s)
    assert.equal(records, 0, 'the cancelled batch left nothing behind')
    const rest = await runSluice(['run', file])
    assert.equal(rest.code, 0, rest.stderr.slice(-3000))
    await assertExactlyOnce(s, COUNT)
    await assertTrackerContiguous(s, pipelineId, COUNT)
  })

  test('a second signal exits at once (143) without a half-committed batch; the next run completes', async () => {
    const s = await fresh()
    const { file, pipelineId } = await opsPipeline(s, topic, { maxOffsets: BATCH })
    const running = startSluice(['run', file], { SLUICE_FAILPOINTS: 'mid-fetch@1=sleep:5000' })
    await waitForOutput(running, (o) => o.includes('failpoint mid-fetch@1: sleeping'))
    running.child.kill('SIGTERM')
    await waitForOutput(running, (o) => o.includes('shutting down'))
    const signalledAt = Date.now()
    running.child.kill('SIGTERM')
    const result = await running.done
    assert.equal(result.code, 143, result.stderr.slice(-3000))
    assert.ok(Date.now() - signalledAt < 3_000, 'the second signal did not wait for the batch')
    const { batches, records } = await assertWholeBatches(s)
    assert.equal(batches, 1, 'batch 0 committed before the signals, batch 1 did not')
    assert.equal(records, BATCH)
    const rest = await runSluice(['run', file])
    assert.equal(rest.code, 0, rest.stderr.slice(-3000))
    await assertExactlyOnce(s, COUNT)
    await assertTrackerContiguous(s, pipelineId, COUNT)
  })
})
