// The aggregate step in append mode end to end (real Kafka, real PostgreSQL, the CLI as the README
// runs it): out-of-order events with a late tail over two partitions, 1-minute windows, a 30-second
// watermark. Checked against the produced events, not against Sluice's own bookkeeping: every
// written window holds exactly its on-time events, each window is written once and only when the
// committed watermark passed its end, the windows still open are in the state table with the rest,
// and every event is counted once or is late, never both. SIGKILLed at each failpoint and restarted,
// the run ends with the same tables as a clean run.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, deleteTopics, kafkaBootstrap, produce, uniqueTopic } from '../helpers/kafka.ts'
import { type TestSchema, createTestSchema, pgSettings } from '../helpers/pg.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'
import { join } from 'node:path'

const T0 = Date.UTC(2026, 0, 1, 12)
const COUNT = 1500
const MIN = 60_000

interface Event {
  readonly i: number
  readonly word: string
  readonly amount: number
  readonly ts: number
}

/** Every 2 s an event, up to 15 s out of order; every 50th is 5 minutes late (its window closed long ago). */
function event(i: number): Event {
  const jitter = (((i * 37) % 11) - 5) * 3000
  const ts = i % 50 === 49 ? T0 + i * 2000 - 5 * MIN : T0 + i * 2000 + jitter
  return { i, word: ['a', 'b', 'c'][i % 3] as string, amount: (i % 7) + 0.25, ts }
}

const EVENTS = Array.from({ length: COUNT }, (_, i) => event(i))

function pipeline(s: TestSchema, topic: string, dir: string): Record<string, unknown> {
  const pg = pgSettings()
  return {
    pipelineId: `win-${s.schema}`,
    mode: 'streaming',
    extract: { sourceType: 'kafka', topic, connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, startingOffsets: 'earliest', maxOffsetsPerTrigger: 100 } },
    transform: [{ type: 'aggregate', groupBy: ['word'], aggregations: { n: { fn: 'count' }, total: { fn: 'sum', field: 'amount' } }, window: { column: 'ts', duration: '1 minute' } }],
    load: {
      sinkType: 'postgresql',
      table: 'per_minute',
      schemaName: 'per_minute',
      writeMode: 'append',
      connectionParams: { host: pg.host, port: pg.port, database: pg.database, user: pg.user, currentSchema: s.schema },
    },
    schemaDir: dir,
    streamingConfigJson: {
      checkpointLocation: join(dir, 'checkpoint'),
      queryName: 'win',
      outputMode: 'append',
      triggerMode: 'availablenow',
      watermark: { eventTimeColumn: 'ts', delayThreshold: '30 seconds' },
      lateDataConfig: { strategy: 'sendtodlq' },
    },
    errorHandlingConfig: {
      retryConfig: { strategy: 'fixed', maxAttempts: 3, initialDelaySeconds: 0.2, maxDelaySeconds: 1 },
      dlqConfig: { dlqType: 'postgresql', table: 'win_dlq' },
    },
  }
}

interface Outcome {
  /** "word@window_start n total" per written row, sorted. */
  readonly rows: string[]
  /** Offsets ("partition/offset") of the late events, sorted. */
  readonly late: string[]
  readonly watermarkMs: number
  /** "word@window_start n" per open window, sorted. */
  readonly open: string[]
}

async function outcome(s: TestSchema): Promise<Outcome> {
  const rows = await s.pool.query<{ word: string; ws: Date; we: Date; n: string; total: string }>('SELECT word, window_start AS ws, window_end AS we, n, total FROM per_minute')
  for (const r of rows.rows) assert.equal(r.we.getTime() - r.ws.getTime(), MIN)
  const late = await s.pool.query<{ code: string; p: string; o: string }>('SELECT "sluice.error.code" AS code, "sluice.source.partition"::text AS p, "sluice.source.offset" AS o FROM win_dlq')
  for (const l of late.rows) assert.equal(l.code, 'LATE_DATA')
  const wm = await s.pool.query<{ w: string }>('SELECT watermark_ms::text AS w FROM sluice_pipeline_state')
  const open = await s.pool.query<{ k: string; end_ms: string; n: string }>(`SELECT state_key AS k, end_ms::text, (state->'partials'->0->>'n') AS n FROM sluice_window_state`)
  return {
    rows: rows.rows.map((r) => `${r.word}@${r.ws.toISOString()} ${Number(r.n)} ${Number(r.total)}`).sort(),
    late: late.rows.map((l) => `${l.p}/${l.o}`).sort(),
    watermarkMs: Number(wm.rows[0]?.w),
    open: open.rows.map((o) => `${o.k} ${o.n}`).sort(),
  }
}

/** Checks an outcome against the produced events. */
function checkAgainstEvents(o: Outcome): void {
  const late = new Set(o.late)
  // The first batch (events 0-99) has no watermark yet: its tail events count; every later one is late.
  const tail = EVENTS.filter((e) => e.i % 50 === 49 && e.i >= 100)
  for (const e of tail) assert.ok(late.has(`${e.i % 2}/${Math.floor(e.i / 2)}`), `tail event ${e.i} (5 minutes late) is late`)
  const byWindow = new Map<string, { n: number; quarters: number; end: number }>()
  for (const e of EVENTS) {
    if (late.has(`${e.i % 2}/${Math.floor(e.i / 2)}`)) continue
    const start = Math.floor(e.ts / MIN) * MIN
    const key = `${e.word}@${new Date(start).toISOString()}`
    const x = byWindow.get(key) ?? { n: 0, quarters: 0, end: start + MIN }
    x.n++
    x.quarters += e.amount * 4
    byWindow.set(key, x)
  }
  const closed = [...byWindow].filter(([, x]) => x.end <= o.watermarkMs)
  const open = [...byWindow].filter(([, x]) => x.end > o.watermarkMs)
  assert.deepEqual(o.rows, closed.map(([k, x]) => `${k} ${x.n} ${x.quarters / 4}`).sort(), 'each closed window written once, with exactly its on-time events')
  assert.equal(new Set(o.rows.map((r) => r.split(' ')[0])).size, o.rows.length, 'no window twice')
  const openText = open.map(([k, x]) => `${JSON.stringify([k.split('@')[0]])}@${Date.parse(k.split('@')[1] as string)}/${x.end} ${x.n}`).sort()
  assert.deepEqual(o.open, openText, 'the windows the watermark has not passed are in the state table with the rest')
  const counted = [...byWindow.values()].reduce((n, x) => n + x.n, 0)
  assert.equal(counted + late.size, COUNT, 'every event counted once or late, never both')
}

describe('aggregate step in append mode, Kafka -> PostgreSQL', () => {
  let topic: string
  let clean: Outcome
  const schemas: TestSchema[] = []
  before(async () => {
    topic = uniqueTopic('win')
    await createTopic(topic, 2)
    await produce(topic, EVENTS.map((e) => ({ key: String(e.i), value: JSON.stringify({ word: e.word, amount: e.amount, ts: new Date(e.ts).toISOString() }), partition: e.i % 2 })))
  })
  after(async () => {
    await Promise.all(schemas.map((s) => s.drop()))
    await deleteTopics(topic).catch(() => {})
  })

  async function pipelineFile(): Promise<{ s: TestSchema; file: string }> {
    const s = await createTestSchema('win')
    schemas.push(s)
    const { file } = await writePipeline((dir: string) => pipeline(s, topic, dir), { 'per_minute.json': JSON.stringify({ columns: { word: 'text', n: 'bigint', total: 'numeric' } }) })
    return { s, file }
  }

  test('a clean run: closed windows written once with their on-time events, open ones in the state table, late events in the DLQ', { timeout: 120_000 }, async () => {
    const { s, file } = await pipelineFile()
    const run = await runSluice(['run', file])
    assert.equal(run.code, 0, run.stderr.slice(-3000))
    clean = await outcome(s)
    checkAgainstEvents(clean)
    assert.ok(clean.rows.length > 60 && clean.open.length > 0, `${clean.rows.length} windows written, ${clean.open.length} open`)
    const tracker = await s.pool.query<{ n: string }>('SELECT sum(record_count)::text AS n FROM batch_tracker')
    assert.equal(Number(tracker.rows[0]?.n), COUNT)
    // The state table is bounded by the open windows: the written ones were deleted.
    assert.ok(clean.open.length <= 3 * 3, `${clean.open.length} open windows: at most the last minutes of three words`)
  })

  // Every failpoint of a batch's life (src/failpoint.ts), each on a batch with open windows.
  for (const point of ['after-plan@3', 'mid-fetch@4', 'mid-copy@5', 'before-commit@5', 'after-commit@6', 'before-commit-file@7', 'after-commit-file@8']) {
    test(`SIGKILL at ${point}, then a restart: the same windows, the same late events, nothing counted twice`, { timeout: 180_000 }, async () => {
      assert.ok(clean, 'the clean run ran first')
      const { s, file } = await pipelineFile()
      const crashed = await runSluice(['run', file], { SLUICE_FAILPOINTS: `${point}=kill` })
      assert.equal(crashed.signal, 'SIGKILL', crashed.stderr.slice(-2000))
      const restarted = await runSluice(['run', file])
      assert.equal(restarted.code, 0, restarted.stderr.slice(-3000))
      const o = await outcome(s)
      checkAgainstEvents(o)
      assert.deepEqual(o, clean)
    })
  }
})

describe('session windows in append mode, Kafka -> PostgreSQL', () => {
  const GAP = 2 * MIN
  // Five users, an event every 3 s in bursts of 100 with 10-minute pauses (sessions close), a late tail.
  const sessionEvents = Array.from({ length: 600 }, (_, i) => {
    const ts = T0 + i * 3000 + Math.floor(i / 100) * 10 * MIN - (i % 50 === 49 ? 30 * MIN : 0)
    return { i, user: `u${i % 5}`, ts }
  })
  let topic: string
  const schemas: TestSchema[] = []
  before(async () => {
    topic = uniqueTopic('sess')
    await createTopic(topic, 2)
    await produce(topic, sessionEvents.map((e) => ({ value: JSON.stringify({ user: e.user, ts: new Date(e.ts).toISOString() }), partition: e.i % 2 })))
  })
  after(async () => {
    await Promise.all(schemas.map((s) => s.drop()))
    await deleteTopics(topic).catch(() => {})
  })

  async function run(failpoint: string | null): Promise<{ rows: string[]; late: string[]; open: string[] }> {
    const s = await createTestSchema('sess')
    schemas.push(s)
    const { file } = await writePipeline(
      (dir: string) => {
        const p = pipeline(s, topic, dir) as { transform: unknown[]; streamingConfigJson: Record<string, unknown> }
        p.transform = [{ type: 'aggregate', groupBy: ['user'], aggregations: { n: { fn: 'count' } }, session: { column: 'ts', gap: '2 minutes' } }]
        p.streamingConfigJson.watermark = { eventTimeColumn: 'ts', delayThreshold: '1 minute' }
        return p
      },
      { 'per_minute.json': JSON.stringify({ columns: { user: 'text', n: 'bigint' } }) },
    )
    if (failpoint !== null) {
      const crashed = await runSluice(['run', file], { SLUICE_FAILPOINTS: `${failpoint}=kill` })
      assert.equal(crashed.signal, 'SIGKILL', crashed.stderr.slice(-2000))
    }
    const done = await runSluice(['run', file])
    assert.equal(done.code, 0, done.stderr.slice(-3000))
    const rows = await s.pool.query<{ user: string; ws: Date; we: Date; n: string }>('SELECT "user", window_start AS ws, window_end AS we, n FROM per_minute ORDER BY "user", window_start')
    const late = await s.pool.query<{ p: string; o: string }>('SELECT "sluice.source.partition"::text AS p, "sluice.source.offset" AS o FROM win_dlq')
    const open = await s.pool.query<{ k: string; n: string }>(`SELECT state_key AS k, (state->'partials'->0->>'n') AS n FROM sluice_window_state`)
    const lateSet = new Set(late.rows.map((l) => `${l.p}/${l.o}`))
    const onTime = sessionEvents.filter((e) => !lateSet.has(`${e.i % 2}/${Math.floor(e.i / 2)}`))
    // Each written session holds exactly the user's on-time events in it, and a user's sessions are
    // more than a gap apart (touching sessions merge).
    let counted = 0
    for (const r of rows.rows) {
      const inside = onTime.filter((e) => e.user === r.user && e.ts >= r.ws.getTime() && e.ts + GAP <= r.we.getTime())
      assert.equal(Number(r.n), inside.length, `session ${r.user} ${r.ws.toISOString()}`)
      assert.ok(inside.some((e) => e.ts === r.ws.getTime()) && inside.some((e) => e.ts + GAP === r.we.getTime()), 'a session runs from its first event to its last + gap')
      counted += inside.length
    }
    for (let j = 1; j < rows.rows.length; j++) {
      const a = rows.rows[j - 1] as (typeof rows.rows)[number]
      const b = rows.rows[j] as (typeof rows.rows)[number]
      if (a.user === b.user) assert.ok(b.ws.getTime() > a.we.getTime(), `sessions of ${a.user} do not touch`)
    }
    const openCount = open.rows.reduce((n, o) => n + Number(o.n), 0)
    assert.equal(counted + openCount + lateSet.size, sessionEvents.length, 'every event in one written or open session, or late')
    assert.ok(rows.rows.length >= 5 * 4 && lateSet.size > 0, `${rows.rows.length} sessions written, ${lateSet.size} late`)
    return { rows: rows.rows.map((r) => `${r.user} ${r.ws.toISOString()} ${r.we.toISOString()} ${r.n}`), late: [...lateSet].sort(), open: open.rows.map((o) => `${o.k} ${o.n}`).sort() }
  }

  test('complete mode: every session in the table with all its events (the watermark drops nothing), rows replaced as sessions grow', { timeout: 120_000 }, async () => {
    const s = await createTestSchema('sess')
    schemas.push(s)
    const { file } = await writePipeline(
      (dir: string) => {
        const p = pipeline(s, topic, dir) as { transform: unknown[]; load: Record<string, unknown>; streamingConfigJson: Record<string, unknown> }
        p.transform = [{ type: 'aggregate', groupBy: ['user'], aggregations: { n: { fn: 'count' } }, session: { column: 'ts', gap: '2 minutes' } }]
        Object.assign(p.load, { writeMode: 'upsert', upsertKeys: ['user', 'window_start'] })
        Object.assign(p.streamingConfigJson, { outputMode: 'complete', watermark: { eventTimeColumn: 'ts', delayThreshold: '1 minute' } })
        return p
      },
      { 'per_minute.json': JSON.stringify({ columns: { user: 'text', n: 'bigint' } }) },
    )
    const done = await runSluice(['run', file])
    assert.equal(done.code, 0, done.stderr.slice(-3000))
    const rows = await s.pool.query<{ user: string; ws: Date; we: Date; n: string }>('SELECT "user", window_start AS ws, window_end AS we, n FROM per_minute ORDER BY "user", window_start')
    // Expected: each user's events merged into sessions by the gap, computed here from the events.
    const expected: string[] = []
    for (const user of ['u0', 'u1', 'u2', 'u3', 'u4']) {
      const times = sessionEvents.filter((e) => e.user === user).map((e) => e.ts).sort((a, b) => a - b)
      let start = times[0] as number
      let end = start + GAP
      let n = 0
      for (const t of times) {
        if (t > end) {
          expected.push(`${user} ${new Date(start).toISOString()} ${new Date(end).toISOString()} ${n}`)
          start = t
          n = 0
        }
        end = Math.max(end, t + GAP)
        n++
      }
      expected.push(`${user} ${new Date(start).toISOString()} ${new Date(end).toISOString()} ${n}`)
    }
    assert.deepEqual(rows.rows.map((r) => `${r.user} ${r.ws.toISOString()} ${r.we.toISOString()} ${r.n}`), expected)
  })

  test('sessions close by the watermark, each written once with its on-time events; a SIGKILL mid-run changes nothing', { timeout: 240_000 }, async () => {
    const clean = await run(null)
    assert.deepEqual(await run('before-commit@3'), clean)
  })
})
