/**
 * A run that ends (availablenow, once, mode batch) publishes the Kafka outbox before it says `ok`.
 * When it cannot within outboxConfig.drainTimeoutSeconds it exits 1 with DLQ_UNDELIVERED, naming
 * how many records wait and the broker's (or the connection's) own error; `sluice status` shows
 * them; the next run, Kafka reachable again, publishes each exactly once.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { createTopic, uniqueTopic } from '../helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'
import { freePort } from '../ops/support.ts'
import { EVENT_SCHEMA, TABLE_DDL, assertDestinations, badDataPipeline, dlqTopicRecords, mixedTopic, tableOffsets, topicPartitions, type MixedTopic } from './fixtures.ts'

let mixed: MixedTopic
const schemas: TestSchema[] = []
before(async () => {
  mixed = await mixedTopic('drain')
})
after(async () => {
  await Promise.all(schemas.map((s) => s.drop()))
})

async function freshSchema(): Promise<TestSchema> {
  const s = await createTestSchema('drain')
  schemas.push(s)
  await s.pool.query(TABLE_DDL)
  return s
}

interface RunJson {
  ok: boolean
  queries: { ok: boolean; error: { code: string; message: string; details: { pending?: number } } | null }[]
}

const deadLetters = (): number => mixed.expected.filter((e) => e !== 'table' && e !== 'LATE_DATA').length

async function outboxRows(s: TestSchema): Promise<number> {
  const { rows } = await s.pool.query<{ n: string }>('SELECT count(*) AS n FROM sluice_dlq_outbox')
  return Number(rows[0]?.n)
}

test('availablenow with an unreachable DLQ broker exits 1 naming the pending records; the next run (once) publishes them exactly once', async () => {
  const s = await freshSchema()
  const dlqTopic = uniqueTopic('dlq-drain')
  const deadPort = await freePort() // nothing listens there
  const config = (dir: string, bootstrap?: string, trigger = 'availablenow'): Record<string, unknown> =>
    badDataPipeline(s, mixed.topic, dir, {
      dlq: 'kafka',
      strategy: 'drop',
      dlqTopic,
      maxOffsets: mixed.phaseA,
      trigger,
      outbox: { drainTimeoutSeconds: 3 },
      ...(bootstrap ? { dlqBootstrap: bootstrap } : {}),
    })
  const { file, dir } = await writePipeline((d: string) => config(d, `127.0.0.1:${deadPort}`), { 'event.json': EVENT_SCHEMA })
  const started = Date.now()
  const failed = await runSluice(['run', file, '--json'])
  assert.equal(failed.code, 1, `not ok while dead letters are stranded\n${failed.stderr.slice(-3000)}`)
  assert.ok(Date.now() - started < 60_000, 'the drain gives up after its timeout')
  const out = JSON.parse(failed.stdout) as RunJson
  assert.equal(out.ok, false)
  const err = out.queries[0]?.error
  assert.equal(err?.code, 'DLQ_UNDELIVERED')
  assert.equal(err?.details.pending, deadLetters())
  assert.match(err?.message ?? '', new RegExp(`^${deadLetters()} dead-letter/late record\\(s\\) not published to Kafka within 3 s \\(${deadLetters()} in ${dlqTopic}\\)`))
  // The connection's own error, not only "failed N times".
  assert.match(err?.message ?? '', /ECONNREFUSED|Connection refused|connect/i)
  assert.equal(await outboxRows(s), deadLetters(), 'the rows wait in the outbox')

  const status = await runSluice(['status', file, '--json'])
  assert.equal(status.code, 0, status.stderr)
  const st = JSON.parse(status.stdout) as { outbox: { pending: number; topics: Record<string, number>; oldest: string | null } }
  assert.equal(st.outbox.pending, deadLetters())
  assert.deepEqual(st.outbox.topics, { [dlqTopic]: deadLetters() })
  assert.ok(st.outbox.oldest !== null)
  const human = await runSluice(['status', file])
  assert.match(human.stdout, new RegExp(`outbox +${deadLetters()} dead-letter/late record\\(s\\) not yet published to Kafka \\(${deadLetters()} for ${dlqTopic}\\)`))

  // Kafka reachable: a run with trigger once and nothing new to read still publishes the backlog.
  await writeFile(file, JSON.stringify(config(dir, undefined, 'once'), null, 2))
  const fixed = await runSluice(['run', file, '--json'])
  assert.equal(fixed.code, 0, fixed.stderr.slice(-3000))
  assert.equal((JSON.parse(fixed.stdout) as RunJson).ok, true)
  assert.equal(await outboxRows(s), 0, 'outbox drained')
  const dlq = await dlqTopicRecords(dlqTopic, mixed.topic, `bad-${s.schema}`)
  assertDestinations(mixed, await tableOffsets(s), dlq, 'dropped')
  const after = JSON.parse((await runSluice(['status', file, '--json'])).stdout) as { outbox: { pending: number } }
  assert.equal(after.outbox.pending, 0)
})

test('mode batch: a broker refusal (record larger than the topic\'s max.message.bytes) exits 1 with the broker\'s error', async () => {
  const s = await freshSchema()
  // The one test with an existing DLQ topic: a limit set on it by its owner is what is tested.
  const dlqTopic = uniqueTopic('dlq-small')
  await createTopic(dlqTopic, 1, { 'max.message.bytes': '300' })
  const { file } = await writePipeline(
    (dir: string) => {
      const c = badDataPipeline(s, mixed.topic, dir, { dlq: 'kafka', strategy: 'drop', dlqTopic, maxOffsets: mixed.phaseA, outbox: { drainTimeoutSeconds: 2 } })
      return { ...c, mode: 'batch' }
    },
    { 'event.json': EVENT_SCHEMA },
  )
  const failed = await runSluice(['run', file, '--json'])
  assert.equal(failed.code, 1, failed.stderr.slice(-3000))
  const err = (JSON.parse(failed.stdout) as RunJson).queries[0]?.error
  assert.equal(err?.code, 'DLQ_UNDELIVERED')
  assert.equal(err?.details.pending, deadLetters())
  assert.match(err?.message ?? '', /MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE|larger than the max/i)
  assert.equal(await outboxRows(s), deadLetters())
})

test('a replication factor the cluster cannot give is not worked around: exit 1 with the broker\'s INVALID_REPLICATION_FACTOR, no topic', async () => {
  const s = await freshSchema()
  const dlqTopic = uniqueTopic('dlq-rf')
  const { file } = await writePipeline(
    (dir: string) => {
      const c = badDataPipeline(s, mixed.topic, dir, { dlq: 'kafka', strategy: 'drop', dlqTopic, maxOffsets: mixed.phaseA, outbox: { drainTimeoutSeconds: 1 } }) as { errorHandlingConfig: { dlqConfig: Record<string, unknown> } }
      c.errorHandlingConfig.dlqConfig.replicationFactor = 3 // the test cluster has one broker
      return c
    },
    { 'event.json': EVENT_SCHEMA },
  )
  const failed = await runSluice(['run', file, '--json'])
  assert.equal(failed.code, 1, failed.stderr.slice(-3000))
  const err = (JSON.parse(failed.stdout) as RunJson).queries[0]?.error
  assert.equal(err?.code, 'DLQ_UNDELIVERED')
  assert.equal(err?.details.pending, deadLetters())
  assert.match(err?.message ?? '', /INVALID_REPLICATION_FACTOR|replication factor/i)
  assert.equal(await topicPartitions(dlqTopic), null, 'not auto-created with other settings')
})
