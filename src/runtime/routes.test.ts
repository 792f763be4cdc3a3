/** The dead-letter and late destinations of a pipeline, as `run` uses them and `validate` prints them. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parsePipeline, type PipelineConfig } from '../config/index.ts'
import { filePipeline, kafkaPipeline, setAt, type JsonObject } from '../config/fixtures.testkit.ts'
import { describeDestination, describeLate, pipelineRoutes } from './routes.ts'

function parsed(raw: JsonObject): PipelineConfig {
  const r = parsePipeline(raw, { env: {} })
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues))
  return r.config
}

const watermarked = (raw: JsonObject, late: JsonObject): JsonObject => {
  setAt(raw, 'streamingConfigJson.watermark', { eventTimeColumn: 'ts', delayThreshold: '1 minute' })
  return setAt(raw, 'streamingConfigJson.lateDataConfig', late)
}

test('without a dlqConfig bad records go to <table>_dlq, and that is what is described', () => {
  const routes = pipelineRoutes(parsed(kafkaPipeline()))
  assert.deepEqual(routes.dlq, { kind: 'table', table: 'orders_dlq' })
  assert.equal(describeDestination(routes.dlq, routes.kafkaServers), 'table orders_dlq')
  assert.equal(routes.late, null)
  assert.equal(describeLate(routes), 'late data dropped')
})

test("the seed's separatestream with dlqTopic: a Kafka topic on the source's cluster, a table without Kafka", () => {
  const kafka = pipelineRoutes(parsed(watermarked(kafkaPipeline(), { strategy: 'separatestream', dlqTopic: 'late-events' })))
  assert.deepEqual(kafka.late, { kind: 'topic', topic: 'late-events' })
  assert.equal(describeLate(kafka), 'late data separatestream to kafka topic late-events on 127.0.0.1:9092')
  const file = filePipeline()
  setAt(file, 'mode', 'streaming')
  setAt(file, 'streamingConfigJson', { checkpointLocation: './cp', queryName: 'q' })
  const files = pipelineRoutes(parsed(watermarked(file, { strategy: 'separatestream', dlqTopic: 'late_events' })))
  assert.deepEqual(files.late, { kind: 'table', table: 'late_events' })
  assert.equal(describeLate(files), 'late data separatestream to table late_events')
})

test('separatestream prefers separateTable, then separateTopic, then dlqTopic; sendtodlq without dlqTopic uses the DLQ', () => {
  const both = pipelineRoutes(parsed(watermarked(kafkaPipeline(), { strategy: 'separate', dlqTopic: 'a', separateTopic: 'b' })))
  assert.deepEqual(both.late, { kind: 'topic', topic: 'b' })
  const table = pipelineRoutes(parsed(watermarked(kafkaPipeline(), { strategy: 'separate', dlqTopic: 'a', separateTable: 'late_rows' })))
  assert.deepEqual(table.late, { kind: 'table', table: 'late_rows' })
  const raw = watermarked(kafkaPipeline(), { strategy: 'dlq' })
  setAt(raw, 'errorHandlingConfig', { dlqConfig: { dlqType: 'kafka', bootstrapServers: 'k1:9092', topic: 'bad' } })
  const dlq = pipelineRoutes(parsed(raw))
  assert.deepEqual(dlq.late, { kind: 'topic', topic: 'bad' })
  assert.equal(describeLate(dlq), 'late data sendtodlq to kafka topic bad on k1:9092')
})
