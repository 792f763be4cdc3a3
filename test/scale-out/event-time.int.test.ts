// sluice-test: serial (consumer-group rebalances and session timeouts are its timing; scripts/run-tests.ts)
// Event time with several workers (README "Scaling out"): each partition has its own watermark and
// the pipeline's is the minimum over them (Flink's rule, computed by the store from every worker's
// commits), so a partition running hours behind the others and a worker that joins late never send
// on-time records to late data; a record behind the pipeline's watermark still goes there. The same
// run SIGKILLs a worker and measures how long its partitions stay without an owner. Workers are
// started the way the README says, with the same pipeline file (hence the same checkpoint folder).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { type RunningCli, waitForOutput, waitUntil, workerSet, writePipeline } from '../helpers/cli.ts'
import { kafkaPipeline } from '../e2e/fixtures.ts'
import { createTopic, deleteTopics, produce, uniqueTopic } from '../helpers/kafka.ts'
import { type TestSchema, createTestSchema } from '../helpers/pg.ts'

const PARTITIONS = 4
const SLOW = 3
const SESSION_MS = 6000
const T0 = Date.UTC(2026, 0, 1)
/** Partition 3's events are two hours behind the others'; the delay threshold is one minute. */
const SLOW_BEHIND_S = 7200

function pipeline(s: TestSchema, topic: string, dir: string): Record<string, unknown> {
  const p = kafkaPipeline(s, topic, dir, { trigger: 'continuous', maxOffsets: 400 }) as {
    pipelineId: string
    extract: { connectionParams: Record<string, unknown> }
    streamingConfigJson: Record<string, unknown>
  }
  Object.assign(p.extract.connectionParams, { 'kafka.session.timeout.ms': String(SESSION_MS), 'kafka.heartbeat.interval.ms': '1000' })
  Object.assign(p.streamingConfigJson, {
    watermark: { eventTimeColumn: 'at', delayThreshold: '1 minute' },
    lateDataConfig: { strategy: 'separatestream', separateTable: 'events_late' },
  })
  return { ...p, pipelineId: `event-time-${s.schema}` }
}

/** Records from..from+n-1: id i on partition i % 4, its event time i seconds after T0 (two hours less on the slow partition). */
function records(from: number, n: number): { value: string; partition: number }[] {
  return Array.from({ length: n }, (_, k) => {
    const id = from + k
    const partition = id % PARTITIONS
    const at = new Date(T0 + (id - (partition === SLOW ? SLOW_BEHIND_S : 0)) * 1000).toISOString()
    return { value: JSON.stringify({ id, at }), partition }
  })
}

async function count(s: TestSchema, table: string): Promise<number> {
  const present = await s.pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table])
  if (present.rows[0]?.t === null) return 0
  const r = await s.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)
  return Number(r.rows[0]?.n)
}


interface Commit {
  readonly at: number
  readonly durationMs: number
  readonly moved: readonly string[]
}

/** A worker's "batch committed" lines: when, how long, which partitions moved. */
function commits(output: string): Commit[] {
  const out: Commit[] = []
  for (const line of output.split('\n')) {
    if (!line.includes('"batch committed"')) continue
    const e = JSON.parse(line) as { time: string; durationMs: number; startOffset?: Record<string, string>; endOffset?: Record<string, string> }
    const moved = Object.entries(e.endOffset ?? {})
      .filter(([k, v]) => v !== (e.startOffset?.[k] ?? '0'))
      .map(([k]) => k)
    out.push({ at: Date.parse(e.time), durationMs: e.durationMs, moved })
  }
  return out
}

test('a slow partition and a late-joining worker send no on-time record to late data; a killed worker\'s partitions are taken over within the session timeout plus one batch', { timeout: 420_000 }, async () => {
  const s = await createTestSchema('evtime')
  const topic = uniqueTopic('evtime')
  const workers = workerSet()
  const start = (file: string): RunningCli => workers.start(file)
  try {
    await s.pool.query('CREATE TABLE events (id bigint NOT NULL, at timestamptz NOT NULL)')
    await createTopic(topic, PARTITIONS)
    let dir = ''
    const { file } = await writePipeline((d: string) => pipeline(s, topic, (dir = d)))
    // A starts alone on a backlog in every partition (its first batch covers all four).
    await produce(topic, records(0, 8000), { batchSize: 4000 })
    const a = start(file)
    await waitUntil('A loading', async () => (await count(s, 'events')) >= 2000, [a])
    // B joins late, while A is half-way: the group moves half of the partitions to B.
    const b = start(file)
    await waitForOutput(b, (out) => out.includes('"consumer group assignment"'), 120_000)
    await produce(topic, records(8000, 8000), { batchSize: 4000 })
    await waitUntil('16,000 rows', async () => (await count(s, 'events')) >= 16_000, [a, b])
    const mine = new Set(commits(b.output()).flatMap((c) => c.moved))
    assert.ok(mine.size > 0 && mine.size < PARTITIONS, `B owns some partitions: ${[...mine].join(', ')}`)

    // B dies; new records keep arriving on every partition; A takes B's partitions over.
    const killedAt = Date.now()
    b.child.kill('SIGKILL')
    await b.done
    await produce(topic, records(16_000, 4000), { batchSize: 4000 })
    await waitUntil('20,000 rows', async () => (await count(s, 'events')) >= 20_000, [a])
    const after = commits(a.output()).filter((c) => c.at > killedAt && c.moved.some((k) => mine.has(k)))
    assert.ok(after.length > 0, "A committed B's partitions after the kill")
    const takeoverMs = (after[0] as Commit).at - killedAt
    const longestBatchMs = Math.max(...commits(a.output()).map((c) => c.durationMs))
    // The coordinator expires B's session (SESSION_MS), A hears of it at its next heartbeat (1 s)
    // and rejoins (a join and a sync round trip), then commits one batch of B's partitions.
    const boundMs = SESSION_MS + 1000 + longestBatchMs + 2000
    assert.ok(takeoverMs <= boundMs, `B's partitions committed by A ${takeoverMs} ms after the kill (bound ${boundMs} ms)`)
    console.log(`takeover: ${takeoverMs} ms after SIGKILL (session ${SESSION_MS} ms, longest batch ${longestBatchMs} ms)`)

    // Two hours behind the fast partitions, yet never behind its own partition's watermark: on time.
    assert.equal(await count(s, 'events_late'), 0, 'no on-time record of the slow partition went to late data')
    // A record behind every partition's watermark is late, whichever partition it is on.
    await produce(topic, [{ value: JSON.stringify({ id: 99_999, at: new Date(T0 - 86_400_000).toISOString() }), partition: 0 }])
    await waitUntil('the late record', async () => (await count(s, 'events_late')) === 1, [a])
    await produce(topic, records(20_000, 400), { batchSize: 400 })
    await waitUntil('20,400 rows', async () => (await count(s, 'events')) >= 20_400, [a])
    a.child.kill('SIGTERM')
    const end = await a.done
    assert.equal(end.code, 0, end.stderr.slice(-2000))
    const r = await s.pool.query<{ n: string; d: string }>('SELECT count(*) AS n, count(DISTINCT id) AS d FROM events')
    assert.deepEqual([Number(r.rows[0]?.n), Number(r.rows[0]?.d)], [20_400, 20_400])
    assert.equal(await count(s, 'events_late'), 1)
    // Both workers were given one checkpoint folder: in a shared pipeline neither writes to it.
    assert.equal(existsSync(join(dir, 'checkpoint', 'offsets')), false, 'no write-ahead log in a shared pipeline')
  } finally {
    workers.killAll()
    await deleteTopics(topic).catch(() => {})
    await s.drop()
  }
})
