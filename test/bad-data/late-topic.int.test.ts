/**
 * The seed's streaming example: `sendtodlq` with a `dlqTopic` and no Kafka DLQ configured. The late
 * records go to that Kafka topic (on the source's cluster, through the outbox), the bad records to
 * the PostgreSQL DLQ table, and each record to exactly one place.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { uniqueTopic } from '../helpers/kafka.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'
import { EVENT_SCHEMA, TABLE_DDL, assertDestinations, badDataPipeline, dlqTableRows, dlqTopicRecords, mixedTopic, tableOffsets, topicPartitions } from './fixtures.ts'

const schemas: TestSchema[] = []
after(async () => {
  await Promise.all(schemas.map((s) => s.drop()))
})

test('late records with sendtodlq and a dlqTopic land in that Kafka topic; bad ones in the DLQ table', async () => {
  const mixed = await mixedTopic('late-topic')
  // Not created beforehand: the relay creates it (broker defaults: no Kafka DLQ to take options from).
  const lateTopic = uniqueTopic('late')
  const s = await createTestSchema('late')
  schemas.push(s)
  await s.pool.query(TABLE_DDL)
  const { file } = await writePipeline(
    (dir: string) => {
      const config = badDataPipeline(s, mixed.topic, dir, { dlq: 'postgresql', strategy: 'sendtodlq', maxOffsets: mixed.phaseA }) as {
        streamingConfigJson: { lateDataConfig: Record<string, unknown> }
      }
      config.streamingConfigJson.lateDataConfig.dlqTopic = lateTopic
      return config
    },
    { 'event.json': EVENT_SCHEMA },
  )
  const run = await runSluice(['run', file, '--json'])
  assert.equal(run.code, 0, run.stderr.slice(-3000))
  const dlq = await dlqTableRows(s, 'events_dlq')
  assert.equal(dlq.filter((d) => d.code === 'LATE_DATA').length, 0, 'no late record in the DLQ table')
  const late = await dlqTopicRecords(lateTopic, mixed.topic, `bad-${s.schema}`)
  assert.equal(await topicPartitions(lateTopic), 1, 'created with the broker\'s num.partitions')
  assert.ok(late.length > 0, 'late records were published')
  assert.ok(late.every((l) => l.code === 'LATE_DATA'))
  assertDestinations(mixed, await tableOffsets(s), dlq, late)
})

test("the seed's separatestream with only dlqTopic: late records in that Kafka topic, not created beforehand; validate names it", async () => {
  const mixed = await mixedTopic('late-sep')
  const lateTopic = uniqueTopic('late-events') // not created: the first run's relay meets a topic that does not exist yet
  const s = await createTestSchema('latesep')
  schemas.push(s)
  await s.pool.query(TABLE_DDL)
  const { file } = await writePipeline(
    (dir: string) => {
      const config = badDataPipeline(s, mixed.topic, dir, { dlq: 'postgresql', strategy: 'sendtodlq', maxOffsets: mixed.phaseA }) as {
        streamingConfigJson: { lateDataConfig: Record<string, unknown> }
      }
      config.streamingConfigJson.lateDataConfig = { strategy: 'separatestream', dlqTopic: lateTopic }
      return config
    },
    { 'event.json': EVENT_SCHEMA },
  )
  const validate = await runSluice(['validate', file])
  assert.equal(validate.code, 0, validate.stdout + validate.stderr)
  assert.match(validate.stdout, new RegExp(`late data separatestream to kafka topic ${lateTopic} on `))
  assert.match(validate.stdout, /dlq table events_dlq\n/)
  const run = await runSluice(['run', file, '--json'])
  assert.equal(run.code, 0, run.stderr.slice(-3000))
  const dlq = await dlqTableRows(s, 'events_dlq')
  assert.equal(dlq.filter((d) => d.code === 'LATE_DATA').length, 0, 'no late record in the DLQ table')
  const late = await dlqTopicRecords(lateTopic, mixed.topic, `bad-${s.schema}`)
  assert.ok(late.length > 0, 'late records were published')
  assertDestinations(mixed, await tableOffsets(s), dlq, late)
})
