// sluice-test: serial (consumer-group rebalances and session timeouts are its timing; scripts/run-tests.ts)
// An append-mode windowed aggregate shared by two workers of one consumer group (README "Stateful
// operations", issue 12 item 6): the partitions' partials meet in one window state, merged by
// whichever worker commits; a window is written once, when the pipeline's watermark (the minimum
// over the partitions) passes its end, whoever closes it; a worker SIGKILLed mid-run loses nothing
// (its partitions resume from the database on the other worker). Checked against the produced events.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { type RunningCli, waitForOutput, waitUntil, workerSet, writePipeline } from '../helpers/cli.ts'
import { kafkaPipeline } from '../e2e/fixtures.ts'
import { createTopic, deleteTopics, produce, uniqueTopic } from '../helpers/kafka.ts'
import { type TestSchema, createTestSchema } from '../helpers/pg.ts'

const PARTITIONS = 4
const T0 = Date.UTC(2026, 0, 1)
const MIN = 60_000

/** Events from..from+n-1: id i on partition i % 4, word i % 7, event time i seconds after T0. */
function events(from: number, n: number): { value: string; partition: number }[] {
  return Array.from({ length: n }, (_, k) => {
    const id = from + k
    return { value: JSON.stringify({ id, word: `w${id % 7}`, at: new Date(T0 + id * 1000).toISOString() }), partition: id % PARTITIONS }
  })
}

function pipeline(s: TestSchema, topic: string, dir: string): Record<string, unknown> {
  const p = kafkaPipeline(s, topic, dir, { trigger: 'continuous', maxOffsets: 300, table: 'per_minute' }) as Record<string, Record<string, unknown>>
  Object.assign(p.extract?.connectionParams as Record<string, unknown>, { 'kafka.session.timeout.ms': '6000', 'kafka.heartbeat.interval.ms': '1000' })
  Object.assign(p.streamingConfigJson as Record<string, unknown>, {
    outputMode: 'append',
    watermark: { eventTimeColumn: 'at', delayThreshold: '30 seconds' },
    lateDataConfig: { strategy: 'separatestream', separateTable: 'per_minute_late' },
  })
  Object.assign(p.load as Record<string, unknown>, { schemaName: 'per_minute' })
  return { ...p, pipelineId: `windows-${s.schema}`, schemaDir: dir, transform: [{ type: 'aggregate', groupBy: ['word'], aggregations: { n: { fn: 'count' } }, window: { column: 'at', duration: '1 minute' } }] }
}

async function windowsWritten(s: TestSchema): Promise<number> {
  const present = await s.pool.query<{ t: string | null }>(`SELECT to_regclass('per_minute')::text AS t`)
  if (present.rows[0]?.t === null) return 0
  return Number((await s.pool.query<{ n: string }>('SELECT count(*) AS n FROM per_minute')).rows[0]?.n)
}

/** Partitions with a stored event time (the per-partition watermark counts them). */
async function partitionsWithEventTimes(s: TestSchema): Promise<number> {
  const present = await s.pool.query<{ t: string | null }>(`SELECT to_regclass('sluice_source_positions')::text AS t`)
  if (present.rows[0]?.t === null) return 0
  return Number((await s.pool.query<{ n: string }>('SELECT count(*) AS n FROM sluice_source_positions WHERE max_event_ms IS NOT NULL')).rows[0]?.n)
}

/** True when the worker's last consumer group assignment gives it half of the partitions. */
function ownsHalf(w: RunningCli): boolean {
  const lines = w.output().split('\n').filter((l) => l.includes('"consumer group assignment"'))
  const last = lines.at(-1)
  if (last === undefined) return false
  const owned = (JSON.parse(last.slice(last.indexOf('{'))) as { owned?: unknown[] }).owned
  return Array.isArray(owned) && owned.length === PARTITIONS / 2
}

test('two workers share an append-mode windowed aggregate; one is SIGKILLed: every window written once with all its events', { timeout: 420_000 }, async () => {
  const s = await createTestSchema('windows')
  const topic = uniqueTopic('windows')
  const workers = workerSet()
  const start = (file: string): RunningCli => workers.start(file)
  try {
    await createTopic(topic, PARTITIONS)
    const { file } = await writePipeline((d: string) => pipeline(s, topic, d), { 'per_minute.json': JSON.stringify({ columns: { word: 'text', n: 'bigint' } }) })
    // A starts alone and commits a first backlog on all four partitions, so each has a position and
    // an event time in the store before B joins; the rest is produced once the group split the
    // partitions, so both workers read and commit their own half (whatever the start-up order).
    await produce(topic, events(0, 400), { batchSize: 400 })
    const a = start(file)
    await waitUntil('a first batch on every partition', async () => (await partitionsWithEventTimes(s)) === PARTITIONS, [a])
    const b = start(file)
    await waitUntil('the group split the partitions', async () => ownsHalf(a) && ownsHalf(b), [a, b])
    const before = b.output().length
    await produce(topic, events(400, 5600), { batchSize: 2000 })
    await waitForOutput(b, (out) => out.slice(before).includes('"batch committed"'), 120_000)
    await waitUntil('the first windows', async () => (await windowsWritten(s)) >= 7 * 20, [a, b])
    b.child.kill('SIGKILL')
    await b.done
    await produce(topic, events(6000, 6000), { batchSize: 2000 })
    // The last minute (events 11,940..11,999) and the one the watermark has not passed stay open; 12,000 s = 200 minutes.
    await waitUntil('198 minutes of windows', async () => (await windowsWritten(s)) >= 7 * 198, [a])
    a.child.kill('SIGTERM')
    const end = await a.done
    assert.equal(end.code, 0, end.stderr.slice(-2000))

    const late = await s.pool.query<{ n: string }>(`SELECT count(*) AS n FROM per_minute_late`).catch(() => ({ rows: [{ n: '0' }] }))
    assert.equal(Number(late.rows[0]?.n), 0, 'every partition advances at the same pace: nothing is late')
    const rows = await s.pool.query<{ word: string; ws: Date; n: string }>('SELECT word, window_start AS ws, n FROM per_minute ORDER BY window_start, word')
    const seen = new Set<string>()
    for (const r of rows.rows) {
      const key = `${r.word}@${r.ws.toISOString()}`
      assert.ok(!seen.has(key), `${key} written once`)
      seen.add(key)
      // Minute m holds ids 60m..60m+59; word w the ids with id % 7 = w.
      const m = (r.ws.getTime() - T0) / MIN
      const w = Number(r.word.slice(1))
      const expected = Array.from({ length: 60 }, (_, k) => 60 * m + k).filter((id) => id % 7 === w).length
      assert.equal(Number(r.n), expected, `${key}`)
    }
    const open = await s.pool.query<{ n: string | null }>(`SELECT sum((state->'partials'->0->>'n')::bigint)::text AS n FROM sluice_window_state`)
    const written = rows.rows.reduce((n, r) => n + Number(r.n), 0)
    assert.equal(written + Number(open.rows[0]?.n ?? 0), 12_000, 'every event in one written or open window')
  } finally {
    workers.killAll()
    await deleteTopics(topic).catch(() => {})
    await s.drop()
  }
})
