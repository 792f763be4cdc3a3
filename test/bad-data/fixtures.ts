/**
 * Shared set-up of the bad-data tests: a topic mixing good records with every kind of bad one, the
 * expected destination of each offset, pipelines with each DLQ type and late-data strategy, and
 * readers for the three destinations (table, DLQ, late) keyed by source offset.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { SourceRecord } from '../../src/api/record.ts'
import { nullLogger } from '../../src/api/component.ts'
import { KafkaClient } from '../../src/components/sources/kafka/client.ts'
import { readPartitions } from '../../src/components/sources/kafka/reader.ts'
import { plaintextConnection } from '../../src/components/kafka/connection.ts'
import { relayReadSettings } from '../../src/components/kafka/outbox/tail.ts'
import { bootstrapBrokers, createAdmin, createTopic, kafkaBootstrap, produce, uniqueTopic, waitForStableOffsets, type TestMessage } from '../helpers/kafka.ts'
import { pgSettings, type TestSchema } from '../helpers/pg.ts'

/** The target table: a NOT NULL column, a varchar(10), a CHECK, and the source offset. */
export const TABLE_DDL = `CREATE TABLE events (
  id bigint NOT NULL,
  code varchar(10),
  amount numeric CHECK (amount >= 0),
  label text NOT NULL,
  event_time timestamptz NOT NULL,
  note text,
  "offset" bigint NOT NULL
)`

/** The extract schema (schemas/event.json): types only; lengths, NULLs and CHECKs are the table's business. */
export const EVENT_SCHEMA = JSON.stringify({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['id', 'event_time'],
  properties: {
    id: { type: 'integer' },
    code: { type: 'string' },
    amount: { type: 'number' },
    label: { type: ['string', 'null'] },
    event_time: { type: 'string', format: 'date-time' },
  },
})

/** Where a record must end: the table, the DLQ / late destination with this code, or nowhere (filtered out). */
export type Expected = 'table' | 'RECORD_DECODE' | 'RECORD_SCHEMA' | 'RECORD_COLUMN' | 'LATE_DATA' | 'FILTERED'

export interface MixedTopic {
  readonly topic: string
  /** Expected destination by offset (one partition, so the offset is the index). */
  readonly expected: readonly Expected[]
  /** The produced messages, by offset. */
  readonly messages: readonly TestMessage[]
  /** Records of the first phase: a batch of this size ends exactly where the late records start. */
  readonly phaseA: number
}

const T0 = Date.UTC(2026, 0, 1)
const iso = (ms: number): string => new Date(ms).toISOString()

function good(id: number, timeMs: number): Record<string, unknown> {
  return { id, code: `c${id % 100}`, amount: id % 50, label: `label-${id}`, event_time: iso(timeMs), note: 'ok' }
}

/**
 * Phase A: good records and every kind of bad record, event times rising one minute per record.
 * Phase B (a later batch): more good records after phase A's times, and late records one hour
 * before T0, which every watermark after phase A's first batch puts behind (delay 10 minutes).
 */
export function mixedMessages(): { messages: TestMessage[]; expected: Expected[]; phaseA: number } {
  const messages: TestMessage[] = []
  const expected: Expected[] = []
  const add = (value: string | Buffer | null, exp: Expected): void => {
    const i = messages.length
    messages.push({ key: `k-${i}`, value, headers: { origin: 'bad-data-test', seq: String(i) } })
    expected.push(exp)
  }
  for (let round = 0; round < 5; round++) {
    const base = round * 10
    const t = (k: number): number => T0 + (base + k) * 60_000
    add(JSON.stringify(good(base, t(0))), 'table')
    add(JSON.stringify(good(base + 1, t(1))), 'table')
    add(`{"id": ${base + 2}, "event_time": "${iso(t(2))}", `, 'RECORD_DECODE') // invalid JSON
    add(Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, round]), 'RECORD_DECODE') // not UTF-8
    add(JSON.stringify({ ...good(base + 4, t(4)), id: 'not-a-number' }), 'RECORD_SCHEMA')
    add(JSON.stringify({ ...good(base + 5, t(5)), code: 'much-too-long-for-ten' }), 'RECORD_COLUMN') // varchar(10)
    const { label: _label, ...noLabel } = good(base + 6, t(6))
    add(JSON.stringify(noLabel), 'RECORD_COLUMN') // NOT NULL
    add(JSON.stringify({ ...good(base + 7, t(7)), amount: -5 }), 'RECORD_COLUMN') // CHECK
    add(JSON.stringify(good(base + 8, t(8))), 'table')
    add(JSON.stringify(good(base + 9, t(9))), 'table')
  }
  const phaseA = messages.length
  for (let i = 0; i < 20; i++) {
    const id = 1000 + i
    if (i % 3 === 0) add(JSON.stringify(good(id, T0 - 3_600_000 + i * 1000)), 'LATE_DATA')
    else add(JSON.stringify(good(id, T0 + (100 + i) * 60_000)), 'table')
  }
  return { messages, expected, phaseA }
}

/** Creates a one-partition topic with the mixed records. */
export async function mixedTopic(prefix = 'bad'): Promise<MixedTopic> {
  const topic = uniqueTopic(prefix)
  await createTopic(topic, 1)
  const { messages, expected, phaseA } = mixedMessages()
  await produce(topic, messages.map((m) => ({ ...m, partition: 0 })))
  return { topic, expected, messages, phaseA }
}

export type LateStrategy = 'drop' | 'loganddrop' | 'sendtodlq' | 'separatestream'

export interface PipelineOptions {
  readonly dlq: 'postgresql' | 'kafka'
  readonly strategy: LateStrategy
  readonly dlqTopic?: string
  readonly lateTopic?: string
  readonly maxOffsets?: number
  readonly failFast?: boolean
  readonly pgPort?: number
  readonly retry?: Record<string, unknown>
  readonly breaker?: Record<string, unknown>
  readonly trigger?: string
  /** dlqConfig.partitions (Kafka DLQ): partitions of the DLQ and late topics Sluice creates. */
  readonly dlqPartitions?: number
  /** dlqConfig.bootstrapServers of a Kafka DLQ (default: the test broker). */
  readonly dlqBootstrap?: string
  /** errorHandlingConfig.outboxConfig. */
  readonly outbox?: Record<string, unknown>
  /** transform steps. */
  readonly transform?: unknown[]
}

/** The pipeline reading `topic` into events with the extract schema, a watermark and the options. */
export function badDataPipeline(s: TestSchema, topic: string, dir: string, o: PipelineOptions): Record<string, unknown> {
  const pg = pgSettings()
  const lateDataConfig: Record<string, unknown> = { strategy: o.strategy }
  if (o.strategy === 'separatestream') {
    if (o.dlq === 'kafka') lateDataConfig.separateTopic = o.lateTopic
    else lateDataConfig.separateTable = 'events_late'
  }
  return {
    pipelineId: `bad-${s.schema}`,
    name: 'bad data test pipeline',
    mode: 'streaming',
    schemaDir: '.',
    ...(o.transform ? { transform: o.transform } : {}),
    extract: {
      sourceType: 'kafka',
      topic,
      schemaName: 'event',
      connectionParams: {
        'kafka.bootstrap.servers': kafkaBootstrap,
        startingOffsets: 'earliest',
        ...(o.maxOffsets ? { maxOffsetsPerTrigger: o.maxOffsets } : {}),
      },
    },
    load: {
      sinkType: 'postgresql',
      table: 'events',
      writeMode: 'append',
      connectionParams: { host: pg.host, port: o.pgPort ?? pg.port, database: pg.database, user: pg.user, currentSchema: s.schema },
    },
    streamingConfigJson: {
      checkpointLocation: join(dir, 'checkpoint'),
      queryName: 'bad',
      triggerMode: o.trigger ?? 'availablenow',
      enableIdempotence: true,
      watermark: { eventTimeColumn: 'event_time', delayThreshold: '10 minutes' },
      lateDataConfig,
    },
    errorHandlingConfig: {
      retryConfig: o.retry ?? { strategy: 'exponential', maxAttempts: 5, initialDelaySeconds: 0.2, maxDelaySeconds: 2 },
      circuitBreakerConfig: o.breaker ?? { enabled: true, failureThreshold: 20, resetTimeoutSeconds: 1 },
      dlqConfig:
        o.dlq === 'kafka'
          ? { dlqType: 'kafka', bootstrapServers: o.dlqBootstrap ?? kafkaBootstrap, topic: o.dlqTopic, ...(o.dlqPartitions === undefined ? {} : { partitions: o.dlqPartitions }) }
          : { dlqType: 'postgresql', table: 'events_dlq' },
      failFast: o.failFast ?? false,
      ...(o.outbox ? { outboxConfig: o.outbox } : {}),
    },
  }
}

/** A record as found in a destination, by its source offset. */
export interface Landed {
  readonly offset: number
  readonly code: string | null
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: ReadonlyArray<readonly [string, Buffer]>
}

/** Source offsets of the rows in the target table. */
export async function tableOffsets(s: TestSchema): Promise<number[]> {
  const { rows } = await s.pool.query<{ offset: string }>('SELECT "offset" FROM events ORDER BY "offset"')
  return rows.map((r) => Number(r.offset))
}

/** Rows of a DLQ-format table (missing table: none). */
export async function dlqTableRows(s: TestSchema, table: string): Promise<Landed[]> {
  const exists = await s.pool.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [s.schema, table])
  if (exists.rowCount === 0) return []
  const { rows } = await s.pool.query<{ offset: string; code: string; key: Buffer | null; value: Buffer | null; headers: { name: string; value?: string; base64?: string }[]; topic: string; pipeline: string }>(
    `SELECT "sluice.source.offset" AS offset, "sluice.error.code" AS code, key, value, headers, "sluice.source.topic" AS topic, "sluice.pipeline.id" AS pipeline FROM "${table}"`,
  )
  return rows.map((r) => ({
    offset: Number(r.offset),
    code: r.code,
    key: r.key,
    value: r.value,
    headers: r.headers.map((h): readonly [string, Buffer] => [h.name, h.value !== undefined ? Buffer.from(h.value) : Buffer.from(h.base64 ?? '', 'base64')]),
  }))
}

/** Partitions of `topic`, or null when it does not exist. */
export async function topicPartitions(topic: string): Promise<number | null> {
  const admin = createAdmin()
  try {
    if (!(await admin.listTopics()).includes(topic)) return null
    const md = await admin.metadata({ topics: [topic], forceUpdate: true })
    return md.topics.get(topic)?.partitionsCount ?? null
  } finally {
    await admin.close()
  }
}

/**
 * Every committed record of a topic (read_committed, all partitions); none when it does not exist.
 * It first waits until no transaction is open on the topic: EndTxn returns before the commit
 * markers are written, so right after a relay's last commit the last stable offset can still stand
 * before that transaction's records, and a read up to it would miss them.
 */
export async function readTopic(topic: string): Promise<SourceRecord[]> {
  if ((await topicPartitions(topic)) === null) return []
  await waitForStableOffsets(topic)
  const client = new KafkaClient(relayReadSettings(plaintextConnection(bootstrapBrokers()), 'sluice-test-reader'))
  try {
    const parts = await client.describeTopics([topic])
    const [earliest, latest] = await Promise.all([client.offsets(parts, 'earliest'), client.offsets(parts, 'latest')])
    const reads = parts.map((info) => ({ info, next: earliest.get(info.key) ?? 0n, to: latest.get(info.key) ?? 0n, idle: 0 })).filter((p) => p.next < p.to)
    const out: SourceRecord[] = []
    for await (const chunk of readPartitions(client, reads, { failOnDataLoss: true, logger: nullLogger, signal: new AbortController().signal })) out.push(...chunk)
    return out
  } finally {
    await client.close()
  }
}

/** The header value as text (last one of the name), or undefined. */
export function header(headers: ReadonlyArray<readonly [string, Buffer]>, name: string): string | undefined {
  let v: string | undefined
  for (const [n, b] of headers) if (n === name) v = b.toString('utf8')
  return v
}

/** Records of a DLQ topic, by source offset, with their headers checked for the pipeline and topic. */
export async function dlqTopicRecords(dlqTopic: string, sourceTopic: string, pipelineId: string): Promise<Landed[]> {
  const records = await readTopic(dlqTopic)
  return records.map((r) => {
    assert.equal(header(r.headers, 'sluice.source.topic'), sourceTopic)
    assert.equal(header(r.headers, 'sluice.source.partition'), '0')
    assert.equal(header(r.headers, 'sluice.pipeline.id'), pipelineId)
    assert.match(header(r.headers, 'sluice.batch.id') ?? '', /^\d+$/)
    assert.ok(!Number.isNaN(Date.parse(header(r.headers, 'sluice.failed.at') ?? '')), 'sluice.failed.at is a time')
    assert.ok((header(r.headers, 'sluice.error.reason') ?? '').length > 0, 'sluice.error.reason is set')
    assert.match(header(r.headers, 'sluice.outbox.id') ?? '', /^\d+:\d+$/)
    return { offset: Number(header(r.headers, 'sluice.source.offset')), code: header(r.headers, 'sluice.error.code') ?? null, key: r.key, value: r.value, headers: r.headers }
  })
}

/** Counts of a list of offsets (for duplicate detection). */
function assertNoDuplicates(offsets: readonly number[], where: string): void {
  const seen = new Set<number>()
  for (const o of offsets) {
    assert.ok(!seen.has(o), `offset ${o} appears twice in ${where}`)
    seen.add(o)
  }
}

/**
 * Checks that every offset is in exactly one destination with its expected code, that original
 * key, value and headers were kept, and that dropped late records are nowhere.
 */
export function assertDestinations(
  mixed: MixedTopic,
  table: readonly number[],
  dlq: readonly Landed[],
  late: readonly Landed[] | 'dropped',
): void {
  assertNoDuplicates(table, 'the table')
  assertNoDuplicates(dlq.map((d) => d.offset), 'the DLQ')
  if (late !== 'dropped') assertNoDuplicates(late.map((d) => d.offset), 'the late destination')
  const where = new Map<number, string>()
  for (const o of table) where.set(o, 'table')
  for (const d of [...dlq, ...(late === 'dropped' ? [] : late)]) {
    assert.ok(!where.has(d.offset), `offset ${d.offset} is in two destinations`)
    where.set(d.offset, d.code ?? 'null')
    const m = mixed.messages[d.offset]
    assert.ok(m, `offset ${d.offset} was produced`)
    assert.deepEqual(d.key, Buffer.from(m.key as string), `original key kept at offset ${d.offset}`)
    assert.deepEqual(d.value, typeof m.value === 'string' ? Buffer.from(m.value) : m.value, `original value kept at offset ${d.offset}`)
    assert.equal(header(d.headers, 'origin'), 'bad-data-test', `original headers kept at offset ${d.offset}`)
    assert.equal(header(d.headers, 'seq'), String(d.offset))
  }
  for (const d of late === 'dropped' ? [] : late) assert.equal(d.code, 'LATE_DATA', `late offset ${d.offset}`)
  mixed.expected.forEach((exp, offset) => {
    const got = where.get(offset)
    if (exp === 'LATE_DATA' && late === 'dropped') assert.equal(got, undefined, `late offset ${offset} dropped`)
    else if (exp === 'FILTERED') assert.equal(got, undefined, `filtered offset ${offset} is nowhere`)
    else assert.equal(got, exp, `offset ${offset} expected in ${exp}`)
  })
  const lateCount = mixed.expected.filter((e) => e === 'LATE_DATA').length
  const filtered = mixed.expected.filter((e) => e === 'FILTERED').length
  const total = table.length + dlq.length + (late === 'dropped' ? lateCount : late.length) + filtered
  assert.equal(total, mixed.messages.length, 'the destinations add up to what was produced')
}

/** A small seeded generator (mulberry32), so a failing sequence can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
