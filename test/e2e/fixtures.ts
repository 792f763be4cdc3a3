/** Shared set-up of the Kafka -> PostgreSQL end-to-end tests: topics with events, pipelines, checks. */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createTopic, kafkaBootstrap, produce, uniqueTopic } from '../helpers/kafka.ts'
import { pgSettings, type TestSchema } from '../helpers/pg.ts'
import { writePipeline } from '../helpers/cli.ts'

/** Six-column JSON events of ~200 bytes, ids from `from`. */
export function events(count: number, from = 0): { key: string; value: string; partition?: number }[] {
  const out = []
  for (let i = from; i < from + count; i++) {
    out.push({
      key: String(i),
      value: JSON.stringify({ id: i, user_id: `user-${i % 97}`, kind: ['click', 'view', 'buy'][i % 3], amount: (i % 1000) / 10, event_time: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(), note: 'x'.repeat(40) }),
    })
  }
  return out
}

/** Creates a topic with `partitions` and produces `count` events spread over them. */
export async function topicWithEvents(count: number, partitions = 3): Promise<string> {
  const topic = uniqueTopic('e2e')
  await createTopic(topic, partitions)
  await produce(topic, events(count).map((m, i) => ({ ...m, partition: i % partitions })))
  return topic
}

export const EVENTS_DDL = `CREATE TABLE events (id bigint, user_id text, kind text, amount numeric, event_time timestamptz, note text)`

/** A pipeline config reading `topic` into `table` of the test schema. */
export function kafkaPipeline(s: TestSchema, topic: string, dir: string, overrides: { trigger?: string; maxOffsets?: number; maxBytes?: string; writeMode?: string; upsertKeys?: string[]; idempotence?: boolean; table?: string } = {}): Record<string, unknown> {
  const pg = pgSettings()
  return {
    pipelineId: `e2e-${s.schema}`,
    name: 'end-to-end test pipeline',
    mode: 'streaming',
    extract: {
      sourceType: 'kafka',
      topic,
      connectionParams: {
        'kafka.bootstrap.servers': kafkaBootstrap,
        startingOffsets: 'earliest',
        ...(overrides.maxOffsets ? { maxOffsetsPerTrigger: overrides.maxOffsets } : {}),
        ...(overrides.maxBytes ? { maxBytesPerTrigger: overrides.maxBytes } : {}),
      },
    },
    load: {
      sinkType: 'postgresql',
      table: overrides.table ?? 'events',
      writeMode: overrides.writeMode ?? 'append',
      ...(overrides.upsertKeys ? { upsertKeys: overrides.upsertKeys } : {}),
      connectionParams: { host: pg.host, port: pg.port, database: pg.database, user: pg.user, currentSchema: s.schema },
    },
    streamingConfigJson: {
      checkpointLocation: join(dir, 'checkpoint'),
      queryName: 'e2e',
      triggerMode: overrides.trigger ?? 'availablenow',
      enableIdempotence: overrides.idempotence ?? true,
    },
    errorHandlingConfig: {
      retryConfig: { strategy: 'exponential', maxAttempts: 5, initialDelaySeconds: 0.2, maxDelaySeconds: 2 },
      circuitBreakerConfig: { enabled: true, failureThreshold: 20, resetTimeoutSeconds: 1 },
    },
  }
}

/** Writes the pipeline file for a schema/topic pair. */
export async function pipelineFile(s: TestSchema, topic: string, overrides: Parameters<typeof kafkaPipeline>[3] = {}): Promise<{ file: string; dir: string }> {
  return writePipeline((dir: string) => kafkaPipeline(s, topic, dir, overrides))
}

/** Asserts every produced id 0..count-1 is in the table exactly once. */
export async function assertExactlyOnce(s: TestSchema, count: number, table = 'events'): Promise<void> {
  const { rows } = await s.pool.query<{ n: string; d: string; min: string; max: string }>(
    `SELECT count(*) AS n, count(DISTINCT id) AS d, min(id) AS min, max(id) AS max FROM ${table}`,
  )
  const r = rows[0]
  assert.ok(r)
  assert.equal(Number(r.n), count, `rows in ${table}`)
  assert.equal(Number(r.d), count, `distinct ids in ${table}`)
  assert.equal(Number(r.min), 0)
  assert.equal(Number(r.max), count - 1)
}

/** Asserts batch_tracker ids of the pipeline are 0..n-1 without gaps, and their record counts sum to `records`. */
export async function assertTrackerContiguous(s: TestSchema, pipelineId: string, records: number): Promise<number> {
  const { rows } = await s.pool.query<{ batch_id: string; record_count: string }>(
    'SELECT batch_id, record_count FROM batch_tracker WHERE pipeline_id = $1 ORDER BY batch_id',
    [pipelineId],
  )
  assert.ok(rows.length > 0, 'tracker has rows')
  rows.forEach((r, i) => assert.equal(Number(r.batch_id), i, 'batch ids are contiguous from 0'))
  assert.equal(rows.reduce((a, r) => a + Number(r.record_count), 0), records, 'tracker record counts add up')
  return rows.length
}
