/**
 * Several pipelines in one process (`sluice run a.json b.json`): each is an independent query. Both
 * complete; and when one fails at run time with a non-retryable error, the other still completes
 * and the process exits 1.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { runSluice } from '../helpers/cli.ts'
import { assertExactlyOnce, assertTrackerContiguous, topicWithEvents } from '../e2e/fixtures.ts'
import { opsPipeline } from './support.ts'

const DDL = (table: string): string => `CREATE TABLE ${table} (id bigint, user_id text, kind text, amount numeric, event_time timestamptz, note text)`

interface Summary {
  ok: boolean
  queries: { pipelineId: string; ok: boolean; summary: { written: number } | null; error: { code: string; retryable: boolean } | null }[]
}

describe('several pipelines in one process', () => {
  const schemas: TestSchema[] = []
  after(async () => {
    await Promise.all(schemas.map((s) => s.drop()))
  })

  test('two pipelines into two tables both complete exactly once', async () => {
    const [topicA, topicB] = await Promise.all([topicWithEvents(3000, 2), topicWithEvents(2000, 3)])
    const s = await createTestSchema('opsp')
    schemas.push(s)
    await s.pool.query(DDL('events_a'))
    await s.pool.query(DDL('events_b'))
    const a = await opsPipeline(s, topicA, { table: 'events_a', pipelineId: `a-${s.schema}`, maxOffsets: 700 })
    const b = await opsPipeline(s, topicB, { table: 'events_b', pipelineId: `b-${s.schema}`, maxOffsets: 700 })
    const run = await runSluice(['run', a.file, b.file, '--json'])
    assert.equal(run.code, 0, run.stderr.slice(-3000))
    const summary = JSON.parse(run.stdout) as Summary
    assert.equal(summary.ok, true)
    assert.deepEqual(summary.queries.map((q) => [q.pipelineId, q.ok, q.summary?.written]), [
      [a.pipelineId, true, 3000],
      [b.pipelineId, true, 2000],
    ])
    await assertExactlyOnce(s, 3000, 'events_a')
    await assertExactlyOnce(s, 2000, 'events_b')
    await assertTrackerContiguous(s, a.pipelineId, 3000)
    await assertTrackerContiguous(s, b.pipelineId, 2000)
    // Batch log lines of both queries interleave in one stream, each carrying its pipeline id.
    const ids = new Set(
      run.stderr
        .split('\n')
        .filter((l) => l.includes('"batch committed"'))
        .map((l) => (JSON.parse(l) as { pipelineId: string }).pipelineId),
    )
    assert.deepEqual([...ids].sort(), [a.pipelineId, b.pipelineId].sort())
  })

  test('one pipeline failing at run time (its table is missing) does not stop the other; exit code 1', async () => {
    const [topicA, topicB] = await Promise.all([topicWithEvents(3000, 2), topicWithEvents(500, 1)])
    const s = await createTestSchema('opsp')
    schemas.push(s)
    await s.pool.query(DDL('events_a'))
    const good = await opsPipeline(s, topicA, { table: 'events_a', pipelineId: `good-${s.schema}`, maxOffsets: 500 })
    const broken = await opsPipeline(s, topicB, { table: 'no_such_table', pipelineId: `broken-${s.schema}` })
    const run = await runSluice(['run', broken.file, good.file, '--json'])
    assert.equal(run.code, 1, run.stderr.slice(-3000))
    const summary = JSON.parse(run.stdout) as Summary
    assert.equal(summary.ok, false)
    const [qb, qg] = summary.queries
    assert.equal(qb?.pipelineId, broken.pipelineId)
    assert.equal(qb?.ok, false)
    assert.equal(qb?.error?.code, 'SINK_SCHEMA')
    assert.equal(qb?.error?.retryable, false)
    assert.equal(qg?.pipelineId, good.pipelineId)
    assert.equal(qg?.ok, true)
    assert.equal(qg?.summary?.written, 3000)
    await assertExactlyOnce(s, 3000, 'events_a')
    await assertTrackerContiguous(s, good.pipelineId, 3000)
    const { rows } = await s.pool.query<{ n: string }>('SELECT count(*) AS n FROM batch_tracker WHERE pipeline_id = $1', [broken.pipelineId])
    assert.equal(Number(rows[0]?.n), 0, 'the failed pipeline committed nothing')
    assert.match(run.stderr, /query failed/)
  })
})
