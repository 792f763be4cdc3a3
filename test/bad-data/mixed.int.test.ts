/**
 * A topic mixing good records, invalid JSON, non-UTF-8 bytes, schema violations, values too long
 * for their column, NOT NULL and CHECK violations, and late events, run through the real CLI under
 * each late-data strategy with a PostgreSQL DLQ and with a Kafka DLQ (through the outbox relay).
 * Every record must end in exactly one destination with the right error code.
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
  tableOffsets,
  topicPartitions,
  type LateStrategy,
  type MixedTopic,
} from './fixtures.ts'

const STRATEGIES: LateStrategy[] = ['drop', 'loganddrop', 'sendtodlq', 'separatestream']

let mixed: MixedTopic
const schemas: TestSchema[] = []

before(async () => {
  mixed = await mixedTopic()
})
after(async () => {
  await Promise.all(schemas.map((s) => s.drop()))
})

async function freshSchema(): Promise<TestSchema> {
  const s = await createTestSchema('bad')
  schemas.push(s)
  await s.pool.query(TABLE_DDL)
  return s
}

interface Summary {
  ok: boolean
  queries: { summary: { recordsRead: number; written: number; dlq: number; late: number } }[]
}

function checkSummary(stdout: string): Summary['queries'][number]['summary'] {
  const summary = JSON.parse(stdout) as Summary
  assert.equal(summary.ok, true)
  const q = summary.queries[0]?.summary
  assert.ok(q)
  const count = (e: string): number => mixed.expected.filter((x) => x === e).length
  assert.equal(q.recordsRead, mixed.messages.length, 'every record read')
  assert.equal(q.written, count('table'), 'rows written')
  assert.equal(q.dlq, mixed.messages.length - count('table') - count('LATE_DATA'), 'records dead-lettered')
  assert.equal(q.late, count('LATE_DATA'), 'late records counted')
  return q
}

const lateOffsets = (): number[] => mixed.expected.flatMap((e, i) => (e === 'LATE_DATA' ? [i] : []))

describe('bad data with a PostgreSQL DLQ', () => {
  for (const strategy of STRATEGIES) {
    test(`lateDataConfig.strategy ${strategy}`, async () => {
      const s = await freshSchema()
      const { file } = await writePipeline((dir: string) => badDataPipeline(s, mixed.topic, dir, { dlq: 'postgresql', strategy, maxOffsets: mixed.phaseA }), { 'event.json': EVENT_SCHEMA })
      const run = await runSluice(['run', file, '--json'])
      assert.equal(run.code, 0, run.stderr.slice(-3000))
      checkSummary(run.stdout)
      const dlqAll = await dlqTableRows(s, 'events_dlq')
      const dlq = dlqAll.filter((d) => d.code !== 'LATE_DATA')
      const lateInDlq = dlqAll.filter((d) => d.code === 'LATE_DATA')
      let late: Awaited<ReturnType<typeof dlqTableRows>> | 'dropped' = 'dropped'
      if (strategy === 'sendtodlq') late = lateInDlq
      else assert.equal(lateInDlq.length, 0, 'no late record in the DLQ')
      if (strategy === 'separatestream') late = await dlqTableRows(s, 'events_late')
      assertDestinations(mixed, await tableOffsets(s), dlq, late)
      if (strategy === 'loganddrop') {
        for (const offset of lateOffsets()) {
          assert.match(run.stderr, new RegExp(`"offset":"${offset}"[^\\n]*late record dropped`), `a warning names offset ${offset}`)
        }
      }
      if (strategy === 'drop') assert.doesNotMatch(run.stderr, /late record dropped/)
      // Nothing new: a second run changes nothing.
      const again = await runSluice(['run', file])
      assert.equal(again.code, 0, again.stderr.slice(-2000))
      assert.equal((await dlqTableRows(s, 'events_dlq')).length, dlqAll.length)
    })
  }
})

describe('bad data with a Kafka DLQ (transactional outbox)', () => {
  for (const strategy of STRATEGIES) {
    test(`lateDataConfig.strategy ${strategy}`, async () => {
      const s = await freshSchema()
      // Topics that do not exist yet, as on a user's first run.
      const dlqTopic = uniqueTopic('dlq')
      const lateTopic = uniqueTopic('late')
          const pipelineId = `bad-${s.schema}`
      const { file } = await writePipeline(
        (dir: string) => badDataPipeline(s, mixed.topic, dir, { dlq: 'kafka', strategy, dlqTopic, lateTopic, maxOffsets: mixed.phaseA, dlqPartitions: 2 }),
        { 'event.json': EVENT_SCHEMA },
      )
      const run = await runSluice(['run', file, '--json'])
      assert.equal(run.code, 0, run.stderr.slice(-3000))
      checkSummary(run.stdout)
      // Neither topic existed: the relay created the DLQ topic with dlqConfig.partitions, and the
      // late topic (used by separatestream only) the same way.
      assert.equal(await topicPartitions(dlqTopic), 2, 'the DLQ topic was created with dlqConfig.partitions')
      assert.equal(await topicPartitions(lateTopic), strategy === 'separatestream' ? 2 : null)
      const dlqAll = await dlqTopicRecords(dlqTopic, mixed.topic, pipelineId)
      const dlq = dlqAll.filter((d) => d.code !== 'LATE_DATA')
      const lateInDlq = dlqAll.filter((d) => d.code === 'LATE_DATA')
      let late: typeof dlq | 'dropped' = 'dropped'
      if (strategy === 'sendtodlq') late = lateInDlq
      else assert.equal(lateInDlq.length, 0, 'no late record in the DLQ topic')
      const inLateTopic = await dlqTopicRecords(lateTopic, mixed.topic, pipelineId)
      if (strategy === 'separatestream') late = inLateTopic
      else assert.equal(inLateTopic.length, 0, 'nothing in the late topic')
      assertDestinations(mixed, await tableOffsets(s), dlq, late)
      // The outbox is empty once relayed, and nothing went to a DLQ table.
      const { rows } = await s.pool.query<{ n: string }>('SELECT count(*) AS n FROM sluice_dlq_outbox')
      assert.equal(Number(rows[0]?.n), 0, 'outbox drained')
      assert.equal((await dlqTableRows(s, 'events_dlq')).length, 0)
      const again = await runSluice(['run', file])
      assert.equal(again.code, 0, again.stderr.slice(-2000))
      assert.equal((await dlqTopicRecords(dlqTopic, mixed.topic, pipelineId)).length, dlqAll.length, 'a second run publishes nothing again')
    })
  }
})
