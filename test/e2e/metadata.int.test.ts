/**
 * Record metadata is data (issue 9.3): the Kafka key, topic, partition, offset, timestamp and headers,
 * and a file's name and line, can be filtered, renamed, cast, selected and grouped on like any field,
 * through the CLI as the README runs it, with a real broker and a real PostgreSQL. The target
 * tables have no column named like a metadata field, so only the steps can ask for them.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createTestSchema, pgSettings, type TestSchema } from '../helpers/pg.ts'
import { createTopic, kafkaBootstrap, produce, uniqueTopic, type TestMessage } from '../helpers/kafka.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'

const schemas: TestSchema[] = []
after(async () => {
  await Promise.all(schemas.map((s) => s.drop()))
})

function load(s: TestSchema, table: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const pg = pgSettings()
  return { sinkType: 'postgresql', table, writeMode: 'append', connectionParams: { host: pg.host, port: pg.port, database: pg.database, user: pg.user, currentSchema: s.schema }, ...extra }
}

const T0 = Date.UTC(2026, 0, 1, 12)

test('Kafka metadata through filter, rename, cast, select and aggregate groupBy; a payload field of the same name wins', async () => {
  const s = await createTestSchema('meta')
  schemas.push(s)
  const topic = uniqueTopic('meta')
  await createTopic(topic, 2)
  const messages: TestMessage[] = []
  for (let i = 0; i < 40; i++) {
    // Every fifth record has no key (filtered out); odd ones carry their own "timestamp" field.
    const value = i % 2 === 1 ? { id: i, timestamp: `payload-${i}` } : { id: i }
    messages.push({ key: i % 5 === 0 ? null : `user-${i % 3}`, value: JSON.stringify(value), headers: { origin: 'meta-test', seq: String(i) }, partition: i % 2, timestamp: T0 + i * 1000 })
  }
  await produce(topic, messages)
  await s.pool.query(`CREATE TABLE events (
    id bigint PRIMARY KEY, kafka_key text, kafka_time timestamptz, kafka_partition int, kafka_offset bigint,
    kafka_headers jsonb, src text, ts_type int, payload_ts text)`)
  await s.pool.query('CREATE TABLE per_key (user_key text PRIMARY KEY, n bigint)')
  const extract = { sourceType: 'kafka', topic, connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, startingOffsets: 'earliest' } }
  const { file } = await writePipeline((d: string) => ({
    pipelineId: `meta-${s.schema}`,
    extract,
    transform: [
      { type: 'filter', field: 'key', op: 'notnull' },
      { type: 'filter', field: '_metadata.partition', op: 'in', value: [0, 1] },
      {
        type: 'rename',
        mapping: { key: 'kafka_key', '_metadata.timestamp': 'kafka_time', partition: 'kafka_partition', offset: 'kafka_offset', headers: 'kafka_headers', topic: 'src', timestampType: 'ts_type', timestamp: 'payload_ts' },
      },
      { type: 'cast', columns: { kafka_offset: 'int' } },
      { type: 'select', columns: ['id', 'kafka_key', 'kafka_time', 'kafka_partition', 'kafka_offset', 'kafka_headers', 'src', 'ts_type', 'payload_ts'] },
    ],
    load: load(s, 'events'),
    streamingConfigJson: { checkpointLocation: join(d, 'cp'), queryName: 'meta', triggerMode: 'availablenow' },
  }))
  const run = await runSluice(['run', file, '--json'])
  assert.equal(run.code, 0, run.stderr.slice(-3000))

  const { rows } = await s.pool.query<{ id: string; kafka_key: string; kafka_time: Date; kafka_partition: number; kafka_offset: string; kafka_headers: Record<string, string>; src: string; ts_type: number; payload_ts: string | null }>(
    'SELECT * FROM events ORDER BY id',
  )
  const kept = messages.map((m, i) => ({ m, i })).filter(({ m }) => m.key !== null)
  assert.equal(rows.length, kept.length, 'records without a key were filtered on the key')
  const offsets = new Map<number, number>()
  const offsetOf = messages.map((m) => {
    const o = offsets.get(m.partition as number) ?? 0
    offsets.set(m.partition as number, o + 1)
    return o
  })
  for (const r of rows) {
    const i = Number(r.id)
    const m = messages[i] as TestMessage
    assert.equal(r.kafka_key, m.key, `key of ${i}`)
    assert.equal(r.kafka_time.getTime(), m.timestamp, `Kafka timestamp of ${i}, though some payloads have their own "timestamp"`)
    assert.equal(r.kafka_partition, m.partition)
    assert.equal(Number(r.kafka_offset), offsetOf[i], `offset of ${i}`)
    assert.deepEqual(r.kafka_headers, { origin: 'meta-test', seq: String(i) })
    assert.equal(r.src, topic)
    assert.equal(r.ts_type, 0, 'create time')
    assert.equal(r.payload_ts, i % 2 === 1 ? `payload-${i}` : new Date(m.timestamp as number).toISOString(), `payload field wins over the metadata of the same name at ${i}`)
  }

  // The aggregate step groups on a metadata field (renamed first: the table has no "key" column).
  const agg = await writePipeline((d: string) => ({
    pipelineId: `meta-agg-${s.schema}`,
    extract,
    transform: [
      { type: 'rename', mapping: { key: 'user_key' } },
      { type: 'filter', field: 'user_key', op: 'notnull' },
      { type: 'aggregate', groupBy: ['user_key'], aggregations: { n: { fn: 'count' } } },
    ],
    load: load(s, 'per_key', { writeMode: 'upsert', upsertKeys: ['user_key'] }),
    streamingConfigJson: { checkpointLocation: join(d, 'cp'), queryName: 'meta-agg', triggerMode: 'availablenow', outputMode: 'update' },
  }))
  const aggRun = await runSluice(['run', agg.file, '--json'])
  assert.equal(aggRun.code, 0, aggRun.stderr.slice(-3000))
  const perKey = await s.pool.query<{ user_key: string; n: string }>('SELECT user_key, n FROM per_key ORDER BY user_key')
  const expected = new Map<string, number>()
  for (const { m } of kept) expected.set(m.key as string, (expected.get(m.key as string) ?? 0) + 1)
  assert.deepEqual(
    perKey.rows.map((r) => [r.user_key, Number(r.n)]),
    [...expected].sort(([a], [b]) => a.localeCompare(b)),
  )
})

test('file metadata: _metadata.file_name and _metadata.line into columns of other names', async () => {
  const s = await createTestSchema('fmeta')
  schemas.push(s)
  await s.pool.query('CREATE TABLE lines (id bigint, source_file text, line_no int, read_from text)')
  const { file, dir } = await writePipeline((d: string) => ({
    pipelineId: `fmeta-${s.schema}`,
    extract: { sourceType: 'file', path: join(d, 'in'), format: 'json', stableMs: 0 },
    transform: [
      { type: 'rename', mapping: { '_metadata.file_name': 'source_file', '_metadata.line': 'line_no', topic: 'read_from' } },
      { type: 'filter', field: 'line_no', op: 'ne', value: 2 },
    ],
    load: load(s, 'lines'),
    streamingConfigJson: { checkpointLocation: join(d, 'cp'), queryName: 'fmeta', triggerMode: 'availablenow' },
  }))
  await mkdir(join(dir, 'in'))
  // A blank line keeps line numbers physical: id 3 is on line 4.
  await writeFile(join(dir, 'in', 'a.ndjson'), '{"id": 1}\n{"id": 2}\n\n{"id": 3}\n')
  await writeFile(join(dir, 'in', 'b.ndjson'), '{"id": 4}\n')
  const run = await runSluice(['run', file, '--json'])
  assert.equal(run.code, 0, run.stderr.slice(-3000))
  const { rows } = await s.pool.query('SELECT id::int AS id, source_file, line_no, read_from FROM lines ORDER BY id')
  assert.deepEqual(rows, [
    { id: 1, source_file: 'a.ndjson', line_no: 1, read_from: 'a.ndjson' },
    { id: 3, source_file: 'a.ndjson', line_no: 4, read_from: 'a.ndjson' },
    { id: 4, source_file: 'b.ndjson', line_no: 1, read_from: 'b.ndjson' },
  ])
})

test("the Kafka timestamp as event time: watermark on `timestamp` (Spark's column), late records by it", async () => {
  const s = await createTestSchema('tmeta')
  schemas.push(s)
  const topic = uniqueTopic('tmeta')
  await createTopic(topic, 1)
  // Batch 1 (5 records) moves the watermark to T0+4s - 1 minute; in batch 2 the record stamped
  // ten minutes before T0 is late, the other one is not. The payloads carry no time of their own.
  const stamps = [0, 1, 2, 3, 4, -600, 10].map((sec) => T0 + sec * 1000)
  await produce(topic, stamps.map((timestamp, id) => ({ value: JSON.stringify({ id }), timestamp, partition: 0 })))
  await s.pool.query('CREATE TABLE events (id bigint)')
  const { file } = await writePipeline((d: string) => ({
    pipelineId: `tmeta-${s.schema}`,
    mode: 'streaming',
    extract: { sourceType: 'kafka', topic, connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, startingOffsets: 'earliest', maxOffsetsPerTrigger: 5 } },
    load: load(s, 'events'),
    streamingConfigJson: {
      checkpointLocation: join(d, 'cp'),
      queryName: 'tmeta',
      triggerMode: 'availablenow',
      watermark: { eventTimeColumn: 'timestamp', delayThreshold: '1 minute' },
      lateDataConfig: { strategy: 'separatestream', separateTable: 'events_late' },
    },
  }))
  const run = await runSluice(['run', file, '--json'])
  assert.equal(run.code, 0, run.stderr.slice(-3000))
  assert.deepEqual((await s.pool.query('SELECT id::int AS id FROM events ORDER BY id')).rows.map((r: { id: number }) => r.id), [0, 1, 2, 3, 4, 6])
  const late = await s.pool.query<{ value: Buffer }>('SELECT value FROM events_late')
  assert.deepEqual(late.rows.map((r) => JSON.parse(r.value.toString()).id), [5])
})

test("the primary key from the record key (Connect's pk.mode=record_key): a struct key in Connect's envelope by field path, updates and tombstone deletes by it", async () => {
  const s = await createTestSchema('kmeta')
  schemas.push(s)
  const topic = uniqueTopic('kmeta')
  const keySchema = { type: 'struct', fields: [{ field: 'id', type: 'int64' }, { field: 'region', type: 'string' }] }
  const key = (id: number | string, region: string): string => JSON.stringify({ schema: keySchema, payload: { id, region } })
  // The values carry no id: the key is the only place it is. 9007199254740993 is past 2^53.
  const messages: TestMessage[] = [
    { key: key(1, 'eu'), value: JSON.stringify({ name: 'a' }), partition: 0 },
    { key: key('9007199254740993', 'us'), value: JSON.stringify({ name: 'b' }), partition: 0 },
    { key: key(3, 'eu'), value: JSON.stringify({ name: 'c' }), partition: 0 },
    { key: key(1, 'eu'), value: JSON.stringify({ name: 'a2' }), partition: 0 },
    { key: key(3, 'eu'), value: null, partition: 0 },
  ]
  await produce(topic, messages, { autocreateTopics: true })
  await s.pool.query('CREATE TABLE accounts (id bigint PRIMARY KEY, region text, name text)')
  const { file } = await writePipeline((d: string) => ({
    pipelineId: `kmeta-${s.schema}`,
    extract: { sourceType: 'kafka', topic, connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, startingOffsets: 'earliest', maxOffsetsPerTrigger: 2 } },
    load: load(s, 'accounts', { writeMode: 'upsert', upsertKeys: ['id'], deleteOnTombstone: true, columnMapping: { id: 'keyJson.id', region: 'keyJson.region' } }),
    streamingConfigJson: { checkpointLocation: join(d, 'cp'), queryName: 'kmeta', triggerMode: 'availablenow' },
  }))
  const run = await runSluice(['run', file, '--json'])
  assert.equal(run.code, 0, run.stderr.slice(-3000))
  const rows = await s.pool.query<{ id: string; region: string; name: string }>('SELECT id::text AS id, region, name FROM accounts ORDER BY id')
  assert.deepEqual(rows.rows, [
    { id: '1', region: 'eu', name: 'a2' },
    { id: '9007199254740993', region: 'us', name: 'b' },
  ])
})
