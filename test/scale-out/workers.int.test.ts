// sluice-test: serial (consumer-group rebalances, SIGSTOP past the session timeout; scripts/run-tests.ts)
// Several Sluice workers share one pipeline through the Kafka consumer group: started the way the
// README says (the same file, N times), on a real broker and a real PostgreSQL. Every record lands
// exactly once, batch ids have no gaps, the committed ranges of each partition chain without overlap
// (no two workers ever committed the same offsets), and a worker paused past its session timeout is
// fenced when it resumes and goes on without writing anything twice.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { type RunningCli, startSluice, waitForOutput, writePipeline } from '../helpers/cli.ts'
import { kafkaPipeline } from '../e2e/fixtures.ts'
import { createTopic, deleteTopics, produce, uniqueTopic } from '../helpers/kafka.ts'
import { type TestSchema, createTestSchema } from '../helpers/pg.ts'

const PARTITIONS = 12

/** The e2e pipeline (test/e2e/fixtures.ts), long-running, with a short group session so a dead or paused worker's partitions move within seconds. */
function pipeline(s: TestSchema, topic: string, dir: string): Record<string, unknown> {
  const p = kafkaPipeline(s, topic, dir, { trigger: 'continuous', maxOffsets: 20_000 }) as { pipelineId: string; extract: { connectionParams: Record<string, unknown> } }
  // Every worker gets the same file, hence the same checkpoint folder, as N copies on one machine would.
  Object.assign(p.extract.connectionParams, { 'kafka.session.timeout.ms': '6000', 'kafka.heartbeat.interval.ms': '1000' })
  return { ...p, pipelineId: `workers-${s.schema}` }
}

function records(from: number, n: number): { value: string; partition: number }[] {
  return Array.from({ length: n }, (_, i) => ({ value: JSON.stringify({ id: from + i }), partition: (from + i) % PARTITIONS }))
}

async function rowCount(s: TestSchema): Promise<{ n: number; distinct: number }> {
  const present = await s.pool.query<{ t: string | null }>(`SELECT to_regclass('events')::text AS t`)
  if (present.rows[0]?.t === null) return { n: 0, distinct: 0 }
  const r = await s.pool.query<{ n: string; d: string }>('SELECT count(*) AS n, count(DISTINCT id) AS d FROM events')
  return { n: Number(r.rows[0]?.n), distinct: Number(r.rows[0]?.d) }
}

async function waitForRows(s: TestSchema, expected: number, workers: readonly RunningCli[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const dump = process.env.SLUICE_TEST_DUMP
  for (;;) {
    if (dump) workers.forEach((w, i) => writeFileSync(`${dump}-${i}.log`, w.output()))
    const { n } = await rowCount(s)
    if (n >= expected) return
    if (workers.every((w) => w.child.exitCode !== null || w.child.signalCode !== null)) throw new Error(`every worker ended with ${n} of ${expected} rows:\n${workers.map((w) => w.output().slice(-2500)).join('\n----\n')}`)
    if (Date.now() > deadline) {
      for (const w of workers) w.child.kill('SIGKILL')
      throw new Error(`${n} of ${expected} rows after ${timeoutMs} ms; worker output:\n${workers.map((w) => w.output().slice(-2500)).join('\n----\n')}`)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** The committed ranges per partition from every worker's "batch committed" lines. */
function committedRanges(outputs: readonly string[]): Map<string, Array<{ from: bigint; to: bigint; worker: number }>> {
  const ranges = new Map<string, Array<{ from: bigint; to: bigint; worker: number }>>()
  outputs.forEach((out, worker) => {
    for (const line of out.split('\n')) {
      if (!line.includes('"batch committed"')) continue
      const entry = JSON.parse(line) as { startOffset?: Record<string, string>; endOffset?: Record<string, string> }
      for (const [key, end] of Object.entries(entry.endOffset ?? {})) {
        const start = entry.startOffset?.[key]
        const from = BigInt(start ?? '0')
        if (BigInt(end) === from) continue
        const list = ranges.get(key) ?? []
        list.push({ from, to: BigInt(end), worker })
        ranges.set(key, list)
      }
    }
  })
  return ranges
}

/** Each partition's committed ranges chain from 0 to `end` with no overlap and no hole. */
function assertChained(ranges: Map<string, Array<{ from: bigint; to: bigint; worker: number }>>, ends: ReadonlyMap<string, bigint>): void {
  for (const [key, end] of ends) {
    const list = [...(ranges.get(key) ?? [])].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0))
    let at = 0n
    for (const r of list) {
      assert.equal(r.from, at, `${key}: a range from ${r.from} (worker ${r.worker}) after ${at}: ${JSON.stringify(list, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`)
      at = r.to
    }
    assert.equal(at, end, `${key} committed up to ${at}, expected ${end}`)
  }
}

async function trackerIdsGapless(s: TestSchema, pipelineId: string): Promise<void> {
  // The seed's gap query (monitoring.sql): batch ids that do not follow their predecessor.
  const gaps = await s.pool.query(
    `SELECT batch_id FROM (SELECT batch_id, LAG(batch_id) OVER (ORDER BY batch_id) AS prev FROM batch_tracker WHERE pipeline_id = $1) t WHERE prev IS NOT NULL AND batch_id <> prev + 1`,
    [pipelineId],
  )
  assert.deepEqual(gaps.rows, [], 'no gaps in batch ids')
  const first = await s.pool.query<{ min: string }>('SELECT min(batch_id)::text AS min FROM batch_tracker WHERE pipeline_id = $1', [pipelineId])
  assert.equal(first.rows[0]?.min, '0')
}

async function stop(workers: readonly RunningCli[]): Promise<void> {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM')
  const results = await Promise.all(workers.map((w) => w.done))
  for (const r of results) assert.ok(r.code === 0 || r.signal === 'SIGKILL', `a worker ended with ${r.code ?? r.signal}:\n${r.stderr.slice(-2000)}`)
}

/** True when the worker's last consumer group assignment gives it at least one partition. */
function ownsPartitions(out: string): boolean {
  const last = out.split('\n').filter((l) => l.includes('"consumer group assignment"')).at(-1)
  if (last === undefined) return false
  const owned = (JSON.parse(last.slice(last.indexOf('{'))) as { owned?: unknown[] }).owned
  return Array.isArray(owned) && owned.length > 0
}

function perPartitionEnds(total: number): Map<string, bigint> {
  const ends = new Map<string, bigint>()
  for (let i = 0; i < total; i++) {
    const key = `${'T'}/${i % PARTITIONS}`
    ends.set(key, (ends.get(key) ?? 0n) + 1n)
  }
  return ends
}

test('3 workers on a 12-partition topic: 300,000 records land exactly once, committed ranges never overlap, batch ids have no gaps', { timeout: 600_000 }, async () => {
  const s = await createTestSchema('workers')
  const topic = uniqueTopic('workers')
  try {
    await s.pool.query('CREATE TABLE events (id bigint NOT NULL)')
    await createTopic(topic, PARTITIONS)
    await produce(topic, records(0, 100_000), { batchSize: 5000 })
    const { file } = await writePipeline((d: string) => pipeline(s, topic, d))
    const workers = [0, 1, 2].map(() => startSluice(['run', file]))
    // The joiners make the group rebalance while the first worker loads the backlog; the rest is
    // produced once every worker owns partitions (a worker alone can load the whole backlog before
    // the others have joined, on a quiet machine), so each of them has records to commit.
    for (const w of workers) await waitForOutput(w, ownsPartitions, 120_000)
    await produce(topic, records(100_000, 200_000), { batchSize: 5000 })
    await waitForRows(s, 300_000, workers, 480_000)
    await stop(workers)
    assert.deepEqual(await rowCount(s), { n: 300_000, distinct: 300_000 })
    const outputs = workers.map((w) => w.output())
    const ends = new Map([...perPartitionEnds(300_000)].map(([k, v]) => [k.replace('T', topic), v]))
    assertChained(committedRanges(outputs), ends)
    const pipelineId = `workers-${s.schema}`
    await trackerIdsGapless(s, pipelineId)
    const owners = outputs.map((o) => o.includes('"batch committed"'))
    assert.ok(owners.filter(Boolean).length >= 2, `at least two workers committed batches: ${JSON.stringify(owners)}`)
  } finally {
    await deleteTopics(topic).catch(() => {})
    await s.drop()
  }
})

test('a worker paused (SIGSTOP) past its session timeout is fenced when it resumes, rejoins, and nothing is written twice', { timeout: 300_000 }, async () => {
  const s = await createTestSchema('fence')
  const topic = uniqueTopic('fence')
  try {
    await s.pool.query('CREATE TABLE events (id bigint NOT NULL)')
    await createTopic(topic, PARTITIONS)
    await produce(topic, records(0, 24_000), { batchSize: 5000 })
    const { file } = await writePipeline((d: string) => pipeline(s, topic, d))
    // Worker A stops inside its first batch (after the read, before the commit): paused there.
    const a = startSluice(['run', file], { SLUICE_FAILPOINTS: 'mid-fetch@0=sleep:3000' })
    await waitForOutput(a, (out) => out.includes('failpoint mid-fetch@0: sleeping'), 120_000)
    a.child.kill('SIGSTOP')
    // B joins; A's session expires, B takes every partition and loads past A's batch.
    const b = startSluice(['run', file])
    await produce(topic, records(24_000, 12_000), { batchSize: 5000 })
    await waitForRows(s, 36_000, [a, b], 180_000)
    a.child.kill('SIGCONT')
    // A wakes up mid-batch: its commit is fenced (B moved those partitions), it rejoins the group.
    await waitForOutput(a, (out) => out.includes('batch fenced by another worker'), 60_000)
    await produce(topic, records(36_000, 12_000), { batchSize: 5000 })
    await waitForRows(s, 48_000, [a, b], 180_000)
    await stop([a, b])
    assert.deepEqual(await rowCount(s), { n: 48_000, distinct: 48_000 })
    assert.match(a.output(), /SINK_FENCED|stored position of .* is not the batch's start/)
    await trackerIdsGapless(s, `workers-${s.schema}`)
  } finally {
    await deleteTopics(topic).catch(() => {})
    await s.drop()
  }
})

test('workers join, leave (SIGTERM) and die (SIGKILL) while loading: every record once, batch ids without gaps', { timeout: 600_000 }, async () => {
  const s = await createTestSchema('churn')
  const topic = uniqueTopic('churn')
  const all: RunningCli[] = []
  try {
    await s.pool.query('CREATE TABLE events (id bigint NOT NULL)')
    await createTopic(topic, PARTITIONS)
    const total = 120_000
    const { file } = await writePipeline((d: string) => {
      const p = pipeline(s, topic, d) as { extract: { connectionParams: Record<string, unknown> } }
      // Small batches: many commits, so the kills fall inside the load.
      p.extract.connectionParams.maxOffsetsPerTrigger = 3000
      return p
    })
    const start = (): RunningCli => {
      const w = startSluice(['run', file])
      all.push(w)
      return w
    }
    let workers = [start(), start()]
    // The records arrive while workers come and go.
    const producing = (async () => {
      for (let i = 0; i < total; i += 20_000) await produce(topic, records(i, 20_000), { batchSize: 5000 })
    })()
    for (let round = 0; round < 6; round++) {
      await new Promise((r) => setTimeout(r, 1500 + Math.floor(Math.random() * 1500)))
      const victim = workers[round % workers.length] as RunningCli
      victim.child.kill(round % 3 === 2 ? 'SIGTERM' : 'SIGKILL')
      await victim.done
      workers = [...workers.filter((w) => w !== victim), start()]
    }
    await producing
    await waitForRows(s, total, workers, 300_000)
    // A worker restarted a moment ago may still be starting Node; it must be up before the SIGTERM.
    for (const w of workers) await waitForOutput(w, (out) => out.includes('"query resumed"'), 60_000)
    await stop(workers)
    assert.deepEqual(await rowCount(s), { n: total, distinct: total })
    await trackerIdsGapless(s, `workers-${s.schema}`)
  } finally {
    for (const w of all) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL')
    await deleteTopics(topic).catch(() => {})
    await s.drop()
  }
})
