/**
 * The aggregate step end to end: a real broker, a real PostgreSQL, the real CLI. Per-key
 * count/sum/min/max/avg over several micro-batches; tumbling windows with a watermark whose late
 * events go to the DLQ and are not counted; and SIGKILL at points of the commit protocol, after
 * which the restarted run leaves the aggregates exact (a committed batch is never merged twice).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createTopic, kafkaBootstrap, produce, uniqueTopic } from '../helpers/kafka.ts'
import { createTestSchema, pgSettings, type TestSchema } from '../helpers/pg.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'

const USERS = 5
const COUNT = 3000
const T0 = Date.UTC(2026, 0, 1)

/** Event i: user u<i%5>, an amount in quarters (exact in binary), null for every 17th event. */
function userEvent(i: number): { user: string; amount: number | null; ts: string } {
  return { user: `u${i % USERS}`, amount: i % 17 === 0 ? null : (i % 101) / 4, ts: new Date(T0 + i * 1000).toISOString() }
}

interface Expected {
  n: number
  quarters: number
  values: number
  lo: number | null
  hi: number | null
}

/** The per-user result, computed independently of Sluice (sums in integer quarters). */
function expectedTotals(): Map<string, Expected> {
  const out = new Map<string, Expected>()
  for (let i = 0; i < COUNT; i++) {
    const e = userEvent(i)
    const x = out.get(e.user) ?? { n: 0, quarters: 0, values: 0, lo: null, hi: null }
    x.n++
    if (e.amount !== null) {
      x.quarters += e.amount * 4
      x.values++
      x.lo = x.lo === null ? e.amount : Math.min(x.lo, e.amount)
      x.hi = x.hi === null ? e.amount : Math.max(x.hi, e.amount)
    }
    out.set(e.user, x)
  }
  return out
}

function pipeline(s: TestSchema, topic: string, dir: string, extra: { maxOffsets: number; transform: unknown[]; table: string; schemaName: string; upsertKeys: string[]; streaming?: Record<string, unknown>; dlqTable?: string }): Record<string, unknown> {
  const pg = pgSettings()
  return {
    pipelineId: `agg-${s.schema}`,
    mode: 'streaming',
    extract: { sourceType: 'kafka', topic, connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, startingOffsets: 'earliest', maxOffsetsPerTrigger: extra.maxOffsets } },
    transform: extra.transform,
    load: {
      sinkType: 'postgresql',
      table: extra.table,
      schemaName: extra.schemaName,
      writeMode: 'upsert',
      upsertKeys: extra.upsertKeys,
      connectionParams: { host: pg.host, port: pg.port, database: pg.database, user: pg.user, currentSchema: s.schema },
    },
    schemaDir: dir,
    streamingConfigJson: { checkpointLocation: join(dir, 'checkpoint'), queryName: 'agg', outputMode: 'update', triggerMode: 'availablenow', ...extra.streaming },
    errorHandlingConfig: {
      retryConfig: { strategy: 'fixed', maxAttempts: 3, initialDelaySeconds: 0.2, maxDelaySeconds: 1 },
      circuitBreakerConfig: { enabled: true, failureThreshold: 20, resetTimeoutSeconds: 1 },
      ...(extra.dlqTable ? { dlqConfig: { dlqType: 'postgresql', table: extra.dlqTable } } : {}),
    },
  }
}

const USER_TOTALS = {
  type: 'aggregate',
  groupBy: ['user'],
  aggregations: { n: { fn: 'count' }, total: { fn: 'sum', field: 'amount' }, lo: { fn: 'min', field: 'amount' }, hi: { fn: 'max', field: 'amount' }, mean: { fn: 'avg', field: 'amount' } },
}

/** A pipeline file for per-user totals; the load schema lists only the visible columns. */
async function userTotalsFile(s: TestSchema, topic: string): Promise<string> {
  const schema = { columns: { user: 'text', n: 'bigint', total: 'numeric', lo: 'numeric', hi: 'numeric', mean: 'double precision' } }
  const { file } = await writePipeline((dir: string) => pipeline(s, topic, dir, { maxOffsets: 500, transform: [USER_TOTALS], table: 'user_totals', schemaName: 'user_totals', upsertKeys: ['user'] }), {
    'user_totals.json': JSON.stringify(schema),
  })
  return file
}

/** Asserts the table holds exactly the independently computed per-user result. */
async function assertUserTotals(s: TestSchema): Promise<void> {
  const { rows } = await s.pool.query<{ user: string; n: string; total: string | null; lo: string | null; hi: string | null; mean: number | null; exact_mean: number | null; mean__count: string }>(
    'SELECT "user", n, total, lo, hi, mean, (mean__sum / mean__count)::double precision AS exact_mean, mean__count FROM user_totals ORDER BY "user"',
  )
  const expected = expectedTotals()
  assert.deepEqual(rows.map((r) => r.user), [...expected.keys()].sort())
  for (const r of rows) {
    const x = expected.get(r.user) as Expected
    assert.equal(Number(r.n), x.n, `count of ${r.user}`)
    assert.equal(Number(r.total) * 4, x.quarters, `sum of ${r.user} (exact)`)
    assert.equal(Number(r.lo), x.lo, `min of ${r.user}`)
    assert.equal(Number(r.hi), x.hi, `max of ${r.user}`)
    assert.equal(Number(r.mean__count), x.values, `avg count of ${r.user}`)
    assert.equal(r.mean, r.exact_mean, `avg of ${r.user} is its running sum / count`)
    // The only rounding is numeric -> double of sum/count: well below 1e-12 relative.
    const mean = x.quarters / 4 / x.values
    assert.ok(Math.abs((r.mean as number) - mean) <= Math.abs(mean) * 1e-12, `avg of ${r.user}: ${r.mean} vs ${mean}`)
  }
}

async function trackerRecords(s: TestSchema): Promise<{ batches: number; records: number }> {
  const { rows } = await s.pool.query<{ batch_id: string; record_count: string }>('SELECT batch_id, record_count FROM batch_tracker ORDER BY batch_id')
  rows.forEach((r, i) => assert.equal(Number(r.batch_id), i, 'batch ids are contiguous from 0'))
  return { batches: rows.length, records: rows.reduce((n, r) => n + Number(r.record_count), 0) }
}

let usersTopic: string

before(async () => {
  usersTopic = uniqueTopic('agg')
  await createTopic(usersTopic, 3)
  const messages = []
  for (let i = 0; i < COUNT; i++) messages.push({ key: String(i), value: JSON.stringify(userEvent(i)), partition: i % 3 })
  await produce(usersTopic, messages)
})

describe('aggregate step, Kafka -> PostgreSQL', () => {
  const schemas: TestSchema[] = []
  after(async () => {
    await Promise.all(schemas.map((s) => s.drop()))
  })

  async function fresh(): Promise<TestSchema> {
    const s = await createTestSchema('agg')
    schemas.push(s)
    return s
  }

  test('per-key count/sum/min/max/avg over several batches, created from the load schema', async () => {
    const s = await fresh()
    const file = await userTotalsFile(s, usersTopic)
    const run = await runSluice(['run', file, '--json'])
    assert.equal(run.code, 0, run.stderr.slice(-3000))
    await assertUserTotals(s)
    const tracker = await trackerRecords(s)
    assert.equal(tracker.batches, COUNT / 500, 'maxOffsetsPerTrigger 500 splits the topic into 6 batches')
    assert.equal(tracker.records, COUNT, 'record_count counts source records')
    const summary = JSON.parse(run.stdout) as { queries: { summary: { recordsRead: number; written: number } }[] }
    assert.equal(summary.queries[0]?.summary.recordsRead, COUNT)
    assert.equal(summary.queries[0]?.summary.written, COUNT, 'written counts the source records folded into aggregates')
    const { rows } = await s.pool.query<{ name: string }>(
      `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'user_totals' AND column_name LIKE 'mean\\_\\_%' ORDER BY 1`,
      [s.schema],
    )
    assert.deepEqual(rows.map((r) => r.name), ['mean__count', 'mean__sum'], 'the hidden running pair of avg was created')
    // Running again finds nothing new and changes nothing.
    const again = await runSluice(['run', file])
    assert.equal(again.code, 0, again.stderr.slice(-2000))
    await assertUserTotals(s)
  })

  // Spark's rule: in update mode an event is late when its WINDOW has ended at the watermark (not
  // when its event time is behind it); in complete mode the watermark drops nothing.
  for (const mode of ['update', 'complete'] as const) {
    test(`tumbling windows with a watermark, ${mode} mode: ${mode === 'update' ? 'events of closed windows go to the DLQ and are not counted; an event behind the watermark in an open window counts' : 'the watermark drops nothing'}`, async () => {
      const s = await fresh()
      const topic = uniqueTopic('aggwin')
      await createTopic(topic, 1)
      const at = (ms: number): string => new Date(T0 + ms).toISOString()
      type Ev = { k: string; v: number; ts: string; late?: true }
      const events: Ev[] = []
      // Batch 0: 0:00 .. 4:30; the watermark for batch 1 is 4:30 - 10 s = 4:20.
      for (let i = 0; i < 10; i++) events.push({ k: i % 2 === 0 ? 'a' : 'b', v: i + 1, ts: at(i * 30_000) })
      // Batch 1: five events of the closed 0:00 window (late in update mode), one behind the watermark
      // (4:15 <= 4:20) but in the open 4:00 window (on time: Spark's rule), four after the watermark.
      for (let j = 0; j < 5; j++) events.push({ k: 'a', v: 1000, ts: at(j * 10_000), ...(mode === 'update' ? { late: true as const } : {}) })
      for (let j = 0; j < 5; j++) events.push({ k: j % 2 === 0 ? 'a' : 'b', v: 100 + j, ts: at(j === 0 ? 255_000 : 265_000 + j * 5000) })
      // Batch 2: 5:00 .. 8:00, after the watermark of 4:35.
      for (let j = 0; j < 10; j++) events.push({ k: j % 2 === 0 ? 'a' : 'b', v: 200 + j, ts: at(300_000 + j * 20_000) })
      await produce(topic, events.map((e, i) => ({ key: String(i), value: JSON.stringify({ k: e.k, v: e.v, ts: e.ts }), partition: 0 })))

      const step = { type: 'aggregate', groupBy: ['k'], aggregations: { n: { fn: 'count' }, total: { fn: 'sum', field: 'v' } }, window: { column: 'ts', duration: '1 minute' } }
      const schema = { columns: { k: 'text', window_start: 'timestamptz', window_end: 'timestamptz', n: 'bigint', total: 'numeric' }, primaryKey: ['k', 'window_start'] }
      const { file } = await writePipeline(
        (dir: string) =>
          pipeline(s, topic, dir, {
            maxOffsets: 10,
            transform: [step],
            table: 'per_minute',
            schemaName: 'per_minute',
            upsertKeys: ['k', 'window_start'],
            streaming: { outputMode: mode, watermark: { eventTimeColumn: 'ts', delayThreshold: '10 seconds' }, lateDataConfig: { strategy: 'sendtodlq' } },
            dlqTable: 'agg_dlq',
          }),
        { 'per_minute.json': JSON.stringify(schema) },
      )
      const run = await runSluice(['run', file])
      assert.equal(run.code, 0, run.stderr.slice(-3000))

      const expected = new Map<string, { n: number; total: number }>()
      for (const e of events) {
        if (e.late) continue
        const start = Math.floor(Date.parse(e.ts) / 60_000) * 60_000
        const key = `${e.k}@${new Date(start).toISOString()}`
        const x = expected.get(key) ?? { n: 0, total: 0 }
        x.n++
        x.total += e.v
        expected.set(key, x)
      }
      const { rows } = await s.pool.query<{ k: string; ws: Date; we: Date; n: string; total: string }>('SELECT k, window_start AS ws, window_end AS we, n, total FROM per_minute ORDER BY k, window_start')
      const got = new Map(rows.map((r) => [`${r.k}@${r.ws.toISOString()}`, { n: Number(r.n), total: Number(r.total) }]))
      assert.deepEqual(got, new Map([...expected].sort(([a], [b]) => (a < b ? -1 : 1))))
      for (const r of rows) assert.equal(r.we.getTime() - r.ws.getTime(), 60_000, 'window_end is window_start + 1 minute')
      assert.deepEqual(got.get(`a@${at(240_000)}`), { n: 4, total: 9 + 100 + 102 + 104 }, 'the 4:00 window of a merges batches 0 and 1')

      // The DLQ table is created with its first dead letter: none in complete mode.
      const hasDlq = (await s.pool.query<{ t: string | null }>(`SELECT to_regclass('agg_dlq')::text AS t`)).rows[0]?.t !== null
      const dlq = hasDlq ? await s.pool.query<{ code: string; offset: string }>('SELECT "sluice.error.code" AS code, "sluice.source.offset" AS offset FROM agg_dlq ORDER BY 2') : { rows: [] }
      assert.equal(hasDlq, mode === 'update')
      const lateOffsets = mode === 'update' ? [10, 11, 12, 13, 14] : []
      assert.deepEqual(dlq.rows.map((r) => [r.code, Number(r.offset)]), lateOffsets.map((o) => ['LATE_DATA', o]), 'exactly the events of closed windows are dead letters (none in complete mode)')
      const tracker = await trackerRecords(s)
      assert.equal(tracker.records, events.length)
      const counted = rows.reduce((n, r) => n + Number(r.n), 0)
      assert.equal(counted + dlq.rows.length, events.length, 'every event is counted once or dead-lettered, never both')
    })
  }

  for (const point of ['mid-copy', 'before-commit', 'after-commit', 'after-commit-file']) {
    test(`SIGKILL at ${point} of batch 2, then restart: the aggregates are exact (nothing counted twice)`, async () => {
      const s = await fresh()
      const file = await userTotalsFile(s, usersTopic)
      const crashed = await runSluice(['run', file], { SLUICE_FAILPOINTS: `${point}@2=kill` })
      assert.equal(crashed.signal, 'SIGKILL', `the failpoint killed the process\n${crashed.stderr.slice(-2000)}`)
      const restarted = await runSluice(['run', file])
      assert.equal(restarted.code, 0, restarted.stderr.slice(-3000))
      // Killed after COMMIT but before commits/2: the database says batch 2 committed, so it is not merged again.
      if (point === 'after-commit') assert.match(restarted.stdout + restarted.stderr, /"nextBatchId":3/)
      await assertUserTotals(s)
      const tracker = await trackerRecords(s)
      assert.equal(tracker.records, COUNT)
    })
  }
})
