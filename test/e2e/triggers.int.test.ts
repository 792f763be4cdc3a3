/** Triggers and write modes end to end: once, availablenow, processingtime, continuous, upsert, at-least-once. */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { produce } from '../helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { runSluice, startSluice, waitForOutput } from '../helpers/cli.ts'
import { EVENTS_DDL, assertExactlyOnce, assertTrackerContiguous, events, pipelineFile, topicWithEvents } from './fixtures.ts'

async function freshSchema(ddl = EVENTS_DDL): Promise<TestSchema> {
  const s = await createTestSchema('tr')
  await s.pool.query(ddl)
  return s
}

async function count(s: TestSchema, table = 'events'): Promise<number> {
  const { rows } = await s.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)
  return Number(rows[0]?.n)
}

async function until(predicate: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await new Promise((r) => setTimeout(r, 200))
  }
}

describe('triggers and write modes', () => {
  const schemas: TestSchema[] = []
  after(async () => {
    await Promise.all(schemas.map((s) => s.drop()))
  })

  test('once: exactly one batch, bounded by maxOffsetsPerTrigger, then exit 0', async () => {
    const topic = await topicWithEvents(3000, 2)
    const s = await freshSchema()
    schemas.push(s)
    const { file } = await pipelineFile(s, topic, { trigger: 'once', maxOffsets: 1000 })
    const run = await runSluice(['run', file])
    assert.equal(run.code, 0, run.stderr.slice(-2000))
    assert.equal(await count(s), 1000)
    assert.equal(await assertTrackerContiguous(s, `e2e-${s.schema}`, 1000), 1)
  })

  for (const trigger of ['processingtime=1 second', 'continuous']) {
    test(`${trigger}: keeps running, picks up new records, stops cleanly on SIGTERM`, async () => {
      const topic = await topicWithEvents(1000, 2)
      const s = await freshSchema()
      schemas.push(s)
      const { file } = await pipelineFile(s, topic, { trigger })
      const running = startSluice(['run', file])
      await until(async () => (await count(s)) === 1000)
      await produce(topic, events(500, 1000).map((m, i) => ({ ...m, partition: i % 2 })))
      await until(async () => (await count(s)) === 1500)
      running.child.kill('SIGTERM')
      const result = await running.done
      assert.equal(result.code, 0, result.stderr.slice(-2000))
      await assertExactlyOnce(s, 1500)
      await assertTrackerContiguous(s, `e2e-${s.schema}`, 1500)
      if (trigger.startsWith('processingtime')) {
        // Each batch's log line carries when it was triggered (Spark's progress `timestamp`): one per
        // tick at most, ticks one interval apart. (A long-running Kafka query shares its partitions
        // through the consumer group and writes no WAL, so the log is where the plan times are.)
        const planned = result.stdout
          .split('\n')
          .filter((l) => l.includes('"batch committed"'))
          .map((l) => Date.parse((JSON.parse(l) as { timestamp: string }).timestamp))
        assert.ok(planned.length >= 2)
        // The first batch starts at once; every later one fires on a 1-second boundary (Spark's
        // ProcessingTimeExecutor), so no two batches share an interval.
        for (let i = 1; i < planned.length; i++) {
          const at = planned[i] ?? 0
          assert.ok(at % 1000 < 500, `batch ${i} fired on an interval boundary (+${at % 1000} ms)`)
          assert.ok(Math.floor(at / 1000) > Math.floor((planned[i - 1] ?? 0) / 1000), `batches ${i - 1} and ${i} fired in different intervals`)
        }
      }
    })
  }

  test('upsert: duplicates of a key resolve to the last record, across and within batches', async () => {
    const topic = await topicWithEvents(0, 1)
    const msgs = []
    for (let round = 0; round < 3; round++) {
      for (let id = 0; id < 200; id++) msgs.push({ key: String(id), value: JSON.stringify({ id, user_id: `u${id}`, kind: `round-${round}`, amount: round, event_time: new Date().toISOString(), note: '' }), partition: 0 })
    }
    await produce(topic, msgs)
    const s = await freshSchema('CREATE TABLE events (id bigint PRIMARY KEY, user_id text, kind text, amount numeric, event_time timestamptz, note text)')
    schemas.push(s)
    const { file } = await pipelineFile(s, topic, { writeMode: 'upsert', upsertKeys: ['id'], maxOffsets: 250 })
    const run = await runSluice(['run', file])
    assert.equal(run.code, 0, run.stderr.slice(-2000))
    const { rows } = await s.pool.query<{ n: string; k: string }>("SELECT count(*) AS n, count(*) FILTER (WHERE kind = 'round-2') AS k FROM events")
    assert.equal(Number(rows[0]?.n), 200)
    assert.equal(Number(rows[0]?.k), 200, 'every key holds its last record')
  })

  test('enableIdempotence false: the same loop, at-least-once, without tracker rows', async () => {
    const topic = await topicWithEvents(2000, 2)
    const s = await freshSchema()
    schemas.push(s)
    const { file } = await pipelineFile(s, topic, { idempotence: false, maxOffsets: 500 })
    const run = await runSluice(['run', file])
    assert.equal(run.code, 0, run.stderr.slice(-2000))
    await assertExactlyOnce(s, 2000)
    const { rows } = await s.pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'batch_tracker'",
    )
    if (Number(rows[0]?.n) > 0) {
      const tracked = await s.pool.query<{ n: string }>('SELECT count(*) AS n FROM batch_tracker')
      assert.equal(Number(tracked.rows[0]?.n), 0, 'no tracker rows in at-least-once mode')
    }
  })

  test('every batch log line is JSON carrying the pipeline id and the batch id', async () => {
    const topic = await topicWithEvents(100, 1)
    const s = await freshSchema()
    schemas.push(s)
    const { file } = await pipelineFile(s, topic, { trigger: 'continuous' })
    const running = startSluice(['run', file])
    await waitForOutput(running, (o) => o.includes('batch committed'))
    running.child.kill('SIGTERM')
    const result = await running.done
    assert.equal(result.code, 0)
    const line = result.stdout.split('\n').find((l) => l.includes('batch committed'))
    assert.ok(line, 'a batch log line')
    const parsed = JSON.parse(line) as { pipelineId: string; batchId: number; records: number; recordsPerSecond: number }
    assert.equal(parsed.pipelineId, `e2e-${s.schema}`)
    assert.equal(parsed.batchId, 0)
    assert.equal(parsed.records, 100)
    assert.equal(typeof parsed.recordsPerSecond, 'number')
  })
})
