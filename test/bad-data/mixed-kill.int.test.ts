/**
 * The counts add up under SIGKILL: every kind of bad record (undecodable, schema-invalid,
 * column-refused, late) plus records a filter drops, through both DLQ types at once — a pipeline
 * with a Kafka DLQ and a Kafka late topic, and one with a PostgreSQL DLQ table and a Kafka late
 * topic on the source's cluster — in one real CLI process, killed with SIGKILL at random moments
 * (no failpoints: wherever it happens to be), restarted until it exits 0. The DLQ and late topics do
 * not exist before the first run. Then table + DLQ + late + filtered = produced, each record once.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, produce, uniqueTopic } from '../helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { runSluice, startSluice, writePipeline } from '../helpers/cli.ts'
import {
  EVENT_SCHEMA,
  TABLE_DDL,
  assertDestinations,
  badDataPipeline,
  dlqTableRows,
  dlqTopicRecords,
  mixedMessages,
  prng,
  tableOffsets,
  type Expected,
  type MixedTopic,
} from './fixtures.ts'

const MAX_OFFSETS = 3
const FILTER = [{ type: 'filter', field: 'note', op: 'ne', value: 'skip' }]

let mixed: MixedTopic
const schemas: TestSchema[] = []

/** The bad-data mix, then on-time records the filter drops (note "skip") interleaved with good ones. */
before(async () => {
  const { messages, expected, phaseA } = mixedMessages()
  const all = [...messages]
  const exp: Expected[] = [...expected]
  const t0 = Date.UTC(2026, 0, 1)
  for (let i = 0; i < 16; i++) {
    const skip = i % 2 === 0
    const value = { id: 2000 + i, code: 'f', amount: 1, label: `f-${i}`, event_time: new Date(t0 + (200 + i) * 60_000).toISOString(), note: skip ? 'skip' : 'ok' }
    all.push({ key: `k-${all.length}`, value: JSON.stringify(value), headers: { origin: 'bad-data-test', seq: String(all.length) } })
    exp.push(skip ? 'FILTERED' : 'table')
  }
  const topic = uniqueTopic('mixkill')
  await createTopic(topic, 1)
  await produce(topic, all.map((m) => ({ ...m, partition: 0 })))
  mixed = { topic, messages: all, expected: exp, phaseA }
})
after(async () => {
  await Promise.all(schemas.map((s) => s.drop()))
})

async function freshSchema(): Promise<TestSchema> {
  const s = await createTestSchema('mixkill')
  schemas.push(s)
  await s.pool.query(TABLE_DDL)
  return s
}

for (const seed of [101, 202, 303]) {
  test(`both DLQ types, SIGKILL at random moments (seed ${seed}): table + DLQ + late + filtered = produced, each once`, async () => {
    const random = prng(seed)
    // Pipeline K: Kafka DLQ and Kafka late topic (separatestream), neither existing yet.
    const sk = await freshSchema()
    const kDlq = uniqueTopic('mk-dlq')
    const kLate = uniqueTopic('mk-late')
    const k = await writePipeline(
      (dir: string) => badDataPipeline(sk, mixed.topic, dir, { dlq: 'kafka', strategy: 'separatestream', dlqTopic: kDlq, lateTopic: kLate, dlqPartitions: 2, maxOffsets: MAX_OFFSETS, transform: FILTER }),
      { 'event.json': EVENT_SCHEMA },
    )
    // Pipeline P: PostgreSQL DLQ table, late records to a Kafka topic on the source's cluster (sendtodlq + dlqTopic).
    const sp = await freshSchema()
    const pLate = uniqueTopic('mp-late')
    const p = await writePipeline(
      (dir: string) => {
        const c = badDataPipeline(sp, mixed.topic, dir, { dlq: 'postgresql', strategy: 'sendtodlq', maxOffsets: MAX_OFFSETS, transform: FILTER }) as { streamingConfigJson: { lateDataConfig: Record<string, unknown> } }
        c.streamingConfigJson.lateDataConfig.dlqTopic = pLate
        return c
      },
      { 'event.json': EVENT_SCHEMA },
    )

    let log = ''
    let killed = 0
    for (let run = 0; run < 8; run++) {
      const running = startSluice(['run', k.file, p.file])
      // Kill at a random moment while both queries work: after a random number of committed batches
      // (counted in the process's own log, so the moment falls inside the run however fast the
      // machine is; a delay in milliseconds let a quiet machine finish first) plus a random jitter
      // that lands in a batch, between batches or in a relay round.
      const resumed = (): boolean => (running.output().match(/query resumed/g) ?? []).length >= 2
      const committed = (): number => (running.output().match(/batch committed/g) ?? []).length
      let exited = false
      void running.done.then(() => (exited = true))
      const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
      const afterBatches = 1 + Math.floor(random() * 12)
      const jitter = Math.floor(random() * 40)
      const killer = (async () => {
        while (!exited && (!resumed() || committed() < afterBatches)) await sleep(2)
        if (exited) return
        await sleep(jitter)
        if (!exited) running.child.kill('SIGKILL')
      })()
      const r = await running.done
      await killer
      log += `\n--- run ${run} (kill after ${afterBatches} batches + ${jitter} ms): code ${r.code} signal ${r.signal}\n${r.stdout.slice(-1500)}${r.stderr.slice(-1500)}`
      if (r.signal === 'SIGKILL') killed++
      else {
        assert.equal(r.code, 0, log.slice(-5000))
        break // finished before the kill
      }
    }
    assert.ok(killed > 0, `at least one run was killed mid-way (seed ${seed})${log.slice(-3000)}`)
    // Restart until a clean exit.
    let clean = false
    for (let run = 0; run < 5 && !clean; run++) {
      const r = await runSluice(['run', k.file, p.file, '--json'])
      log += `\n--- restart ${run}: code ${r.code} signal ${r.signal}\n${r.stderr.slice(-1500)}`
      assert.equal(r.signal, null)
      assert.equal(r.code, 0, log.slice(-5000))
      const summary = JSON.parse(r.stdout) as { ok: boolean }
      clean = summary.ok
    }
    assert.ok(clean, log.slice(-5000))

    const kDead = await dlqTopicRecords(kDlq, mixed.topic, `bad-${sk.schema}`)
    const kLateRecords = await dlqTopicRecords(kLate, mixed.topic, `bad-${sk.schema}`)
    assertDestinations(mixed, await tableOffsets(sk), kDead, kLateRecords)
    assert.equal((await dlqTableRows(sk, 'events_dlq')).length, 0, 'pipeline K wrote no DLQ table')

    const pDead = await dlqTableRows(sp, 'events_dlq')
    const pLateRecords = await dlqTopicRecords(pLate, mixed.topic, `bad-${sp.schema}`)
    assertDestinations(mixed, await tableOffsets(sp), pDead, pLateRecords)

    for (const s of [sk, sp]) {
      const { rows } = await s.pool.query<{ n: string }>('SELECT count(*) AS n FROM sluice_dlq_outbox')
      assert.equal(Number(rows[0]?.n), 0, `outbox of ${s.schema} drained`)
    }
  })
}
