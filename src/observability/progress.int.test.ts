/**
 * Progress in Spark's StreamingQueryProgress terms from a real `sluice run` on a real broker and
 * PostgreSQL: every batch log line carries whole start and end offsets that chain, the latest
 * offset, the backlog left and both rates, and /status's lastProgress is the last batch's.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, produce, uniqueTopic } from '../../test/helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../../test/helpers/pg.ts'
import { startSluice } from '../../test/helpers/cli.ts'
import { EVENTS_DDL, events } from '../../test/e2e/fixtures.ts'
import { count, freePort, opsPipeline, until } from '../../test/ops/support.ts'
import type { BatchProgress } from '../engine/events.ts'
import type { StatusSnapshot } from './status.ts'

interface ProgressLine {
  batchId: number
  numInputRows: number
  inputRowsPerSecond: number | null
  processedRowsPerSecond: number
  durationMs: number
  backlog: number | null
  startOffset: Record<string, string>
  endOffset: Record<string, string>
  latestOffset: Record<string, string> | null
}

describe('batch progress like Spark', { timeout: 180_000 }, () => {
  const schemas: TestSchema[] = []
  after(async () => {
    await Promise.all(schemas.map((s) => s.drop()))
  })

  test('log lines and /status carry offsets, latest offset, backlog and rates', async (t) => {
    const topic = uniqueTopic('progress')
    await createTopic(topic, 2)
    const s = await createTestSchema('progress')
    schemas.push(s)
    await s.pool.query(EVENTS_DDL)
    // 600 records waiting before the start, 200 per batch: the backlog must go 400, 200, 0.
    await produce(topic, events(600).map((m, i) => ({ ...m, partition: i % 2 })))
    const port = await freePort()
    const { file, pipelineId } = await opsPipeline(s, topic, { trigger: 'continuous', maxOffsets: 200 })
    const running = startSluice(['run', file, '--http-port', String(port)])
    t.after(() => running.child.kill('SIGKILL'))
    await until('600 rows loaded', async () => (await count(s)) === 600, 60_000, running.output)
    const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as StatusSnapshot
    running.child.kill('SIGTERM')
    const result = await running.done
    assert.equal(result.code, 0, result.stderr.slice(-2000))

    const p0 = `${topic}/0`
    const p1 = `${topic}/1`
    const lines = result.stdout
      .split('\n')
      .filter((l) => l.includes('"batch committed"'))
      .map((l) => JSON.parse(l) as ProgressLine)
    assert.deepEqual(
      lines.map((l) => [l.batchId, l.numInputRows, l.backlog]),
      [
        [0, 200, 400],
        [1, 200, 200],
        [2, 200, 0],
      ],
    )
    let previous: Record<string, string> = { [p0]: '0', [p1]: '0' }
    for (const l of lines) {
      assert.deepEqual(l.startOffset, previous, `batch ${l.batchId} starts where the previous one ended (every partition)`)
      assert.equal(Number(l.endOffset[p0]) + Number(l.endOffset[p1]) - Number(l.startOffset[p0]) - Number(l.startOffset[p1]), l.numInputRows)
      assert.deepEqual(l.latestOffset, { [p0]: '300', [p1]: '300' }, 'the topic end, measured before the first batch')
      assert.ok(l.processedRowsPerSecond > 0 && l.durationMs >= 0)
      previous = l.endOffset
    }
    assert.deepEqual(previous, { [p0]: '300', [p1]: '300' })
    assert.equal(lines[0]?.inputRowsPerSecond, null, 'no input rate for the first batch of a run')
    assert.ok(lines.slice(1).every((l) => (l.inputRowsPerSecond ?? 0) > 0), 'later batches have one')

    const q = status.queries.find((x) => x.id === pipelineId)
    const last = q?.lastProgress as BatchProgress
    const logged = lines.at(-1) as ProgressLine
    assert.equal(last.batchId, logged.batchId)
    assert.equal(last.backlog, 0)
    assert.equal(last.numInputRows, logged.numInputRows)
    assert.equal(last.processedRowsPerSecond, logged.processedRowsPerSecond)
    assert.deepEqual(last.sources[0]?.startOffset, logged.startOffset)
    assert.deepEqual(last.sources[0]?.endOffset, logged.endOffset)
    assert.deepEqual(last.sources[0]?.latestOffset, logged.latestOffset)
    assert.deepEqual(last.sources[0]?.backlog, { [p0]: 0, [p1]: 0 })
    assert.equal(q?.totals.records, 600)
    assert.equal(
      q?.throughput.buckets.reduce((a, b) => a + b.records, 0),
      600,
      'the throughput window holds every committed record',
    )
  })
})
