/**
 * Exactly-once across the table, the DLQ and the late destination when the process is killed with
 * SIGKILL at failpoints of the commit protocol and of the outbox relay, then restarted until it
 * exits 0. The Kafka DLQ topic must hold each dead letter once (read_committed).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { uniqueTopic } from '../helpers/kafka.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'
import {
  EVENT_SCHEMA,
  TABLE_DDL,
  assertDestinations,
  badDataPipeline,
  dlqTableRows,
  dlqTopicRecords,
  mixedTopic,
  prng,
  tableOffsets,
  type MixedTopic,
} from './fixtures.ts'

/** Engine, sink and relay failpoints; a point the build does not have is simply not hit. */
const POINTS = [
  'after-plan',
  'mid-fetch',
  'mid-copy',
  'before-commit',
  'after-commit',
  'before-commit-file',
  'after-commit-file',
  'relay-before-kafka-commit',
  'relay-after-kafka-commit',
]
const MAX_OFFSETS = 10

let mixed: MixedTopic
const schemas: TestSchema[] = []
before(async () => {
  mixed = await mixedTopic('crash')
})
after(async () => {
  await Promise.all(schemas.map((s) => s.drop()))
})

/** Runs with random kill failpoints until a run exits 0; returns the runs' outputs. */
async function runUntilDone(file: string, seed: number, kills: number): Promise<string> {
  const random = prng(seed)
  const batches = Math.ceil(mixed.messages.length / MAX_OFFSETS)
  let output = ''
  for (let run = 0; run < kills + 5; run++) {
    const env: Record<string, string> = {}
    if (run < kills) {
      const point = POINTS[Math.floor(random() * POINTS.length)] as string
      const batch = Math.floor(random() * batches)
      env.SLUICE_FAILPOINTS = `${point}@${batch}=kill`
    }
    const r = await runSluice(['run', file], env)
    output += `\n--- run ${run} ${env.SLUICE_FAILPOINTS ?? '(clean)'}: code ${r.code} signal ${r.signal}\n${r.stdout}${r.stderr}`
    if (r.signal === null) {
      assert.equal(r.code, 0, output.slice(-4000))
      if (run >= kills) {
        if (kills > 0) assert.ok(/signal SIGKILL/.test(output), `at least one run was killed (seed ${seed})`)
        return output
      }
    }
  }
  assert.fail(`no clean exit after ${kills + 5} runs (seed ${seed})\n${output.slice(-4000)}`)
}

async function kafkaCase(seed: number, kills: number, fixedPoint?: string): Promise<string> {
  const s = await createTestSchema('crash')
  schemas.push(s)
  await s.pool.query(TABLE_DDL)
  // Topics that do not exist yet (the relay creates them, 2 partitions from dlqConfig).
  const dlqTopic = uniqueTopic('dlq')
  const lateTopic = uniqueTopic('late')
  const { file } = await writePipeline(
    (dir: string) => badDataPipeline(s, mixed.topic, dir, { dlq: 'kafka', strategy: 'separatestream', dlqTopic, lateTopic, maxOffsets: MAX_OFFSETS, dlqPartitions: 2 }),
    { 'event.json': EVENT_SCHEMA },
  )
  let output = ''
  if (fixedPoint) {
    const crashed = await runSluice(['run', file], { SLUICE_FAILPOINTS: fixedPoint })
    assert.equal(crashed.signal, 'SIGKILL', `the failpoint ${fixedPoint} killed the process\n${crashed.stderr.slice(-2000)}`)
    output += crashed.stdout + crashed.stderr
  }
  output += await runUntilDone(file, seed, kills)
  const pipelineId = `bad-${s.schema}`
  const dlq = await dlqTopicRecords(dlqTopic, mixed.topic, pipelineId)
  const late = await dlqTopicRecords(lateTopic, mixed.topic, pipelineId)
  assertDestinations(mixed, await tableOffsets(s), dlq, late)
  const { rows } = await s.pool.query<{ n: string }>('SELECT count(*) AS n FROM sluice_dlq_outbox')
  assert.equal(Number(rows[0]?.n), 0, 'outbox drained')
  return output
}

describe('SIGKILL and restart: exactly-once across table, DLQ and late destination', () => {
  test('the relay dies between its Kafka commit and the outbox delete: the restart finds the rows in Kafka and does not send them again', async () => {
    const output = await kafkaCase(1, 0, 'relay-after-kafka-commit@1=kill')
    assert.match(output, /already in Kafka/)
  })

  test('the relay dies before its Kafka commit: the open transaction is aborted, the rows are sent once', async () => {
    await kafkaCase(2, 0, 'relay-before-kafka-commit@2=kill')
  })

  for (const seed of [11, 12, 13]) {
    test(`Kafka DLQ, random failpoints (seed ${seed})`, async () => {
      await kafkaCase(seed, 4)
    })
  }

  test('PostgreSQL DLQ, random failpoints', async () => {
    const s = await createTestSchema('crash')
    schemas.push(s)
    await s.pool.query(TABLE_DDL)
    const { file } = await writePipeline(
      (dir: string) => badDataPipeline(s, mixed.topic, dir, { dlq: 'postgresql', strategy: 'separatestream', maxOffsets: MAX_OFFSETS }),
      { 'event.json': EVENT_SCHEMA },
    )
    await runUntilDone(file, 21, 5)
    assertDestinations(mixed, await tableOffsets(s), await dlqTableRows(s, 'events_dlq'), await dlqTableRows(s, 'events_late'))
  })
})
