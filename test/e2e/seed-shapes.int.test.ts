/**
 * The seed's own config shapes (issue 9.5, 9.6), through the CLI with a real broker and PostgreSQL:
 * `writeMode: upsert` without `upsertKeys` upserts on the table's primary key (and stops at start
 * naming the table when it has none); `separatestream` with only the seed's `dlqTopic` sends late
 * records there (a table when there is no Kafka); and what `validate` prints is where `run` puts
 * the records.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createTestSchema, pgSettings, type TestSchema } from '../helpers/pg.ts'
import { createTopic, kafkaBootstrap, produce, uniqueTopic } from '../helpers/kafka.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'

const schemas: TestSchema[] = []
after(async () => {
  await Promise.all(schemas.map((s) => s.drop()))
})

function pgLoad(s: TestSchema, table: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const pg = pgSettings()
  return { sinkType: 'postgresql', table, connectionParams: { host: pg.host, port: pg.port, database: pg.database, user: pg.user, currentSchema: s.schema }, ...extra }
}

async function tableExists(s: TestSchema, table: string): Promise<boolean> {
  const r = await s.pool.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [s.schema, table])
  return r.rowCount === 1
}

test("upsert without upsertKeys upserts on the table's primary key; validate says so and names the DLQ run uses", async () => {
  const s = await createTestSchema('seedup')
  schemas.push(s)
  const topic = uniqueTopic('seedup')
  await createTopic(topic, 1)
  await s.pool.query('CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL)')
  const { file } = await writePipeline((d: string) => ({
    pipelineId: `seedup-${s.schema}`,
    extract: { sourceType: 'kafka', topic, connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, startingOffsets: 'earliest' } },
    load: pgLoad(s, 'users', { writeMode: 'upsert' }),
    streamingConfigJson: { checkpointLocation: join(d, 'cp'), queryName: 'seedup', triggerMode: 'availablenow' },
  }))

  const validate = await runSluice(['validate', file])
  assert.equal(validate.code, 0, validate.stdout + validate.stderr)
  assert.match(validate.stdout, /table \w+\.users \(upsert on the table's primary key or its one unique constraint, looked up at start\)/)
  assert.match(validate.stdout, /dlq table users_dlq\n/, 'validate names the DLQ table run writes to')

  await produce(topic, [...Array.from({ length: 20 }, (_, i) => ({ value: JSON.stringify({ id: i, name: `a-${i}` }) })), { value: '{"id": 99, "name": ' }])
  const first = await runSluice(['run', file, '--json'])
  assert.equal(first.code, 0, first.stderr.slice(-3000))
  await produce(topic, Array.from({ length: 20 }, (_, i) => ({ value: JSON.stringify({ id: i + 10, name: `b-${i + 10}` }) })))
  const second = await runSluice(['run', file, '--json'])
  assert.equal(second.code, 0, second.stderr.slice(-3000))

  const { rows } = await s.pool.query<{ id: string; name: string }>('SELECT id, name FROM users ORDER BY id')
  assert.deepEqual(
    rows.map((r) => [Number(r.id), r.name]),
    Array.from({ length: 30 }, (_, i) => [i, i < 10 ? `a-${i}` : `b-${i}`]),
    'ids 10-19 were updated in place, not added twice',
  )
  const dlq = await s.pool.query<{ code: string; value: Buffer }>('SELECT "sluice.error.code" AS code, value FROM users_dlq')
  assert.deepEqual(dlq.rows.map((r) => [r.code, r.value.toString()]), [['RECORD_DECODE', '{"id": 99, "name": ']], 'the bad record is where validate said')
})

test('upsert without upsertKeys into a table with no primary key or unique constraint: run stops at start naming the table', async () => {
  const s = await createTestSchema('seednokey')
  schemas.push(s)
  const topic = uniqueTopic('seednokey')
  await createTopic(topic, 1)
  await produce(topic, [{ value: JSON.stringify({ id: 1, name: 'x' }) }])
  await s.pool.query('CREATE TABLE nokey (id bigint, name text)')
  const { file } = await writePipeline((d: string) => ({
    pipelineId: `seednokey-${s.schema}`,
    extract: { sourceType: 'kafka', topic, connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, startingOffsets: 'earliest' } },
    load: pgLoad(s, 'nokey', { writeMode: 'upsert' }),
    streamingConfigJson: { checkpointLocation: join(d, 'cp'), queryName: 'seednokey', triggerMode: 'availablenow' },
  }))
  const run = await runSluice(['run', file])
  assert.notEqual(run.code, 0, 'not ok')
  const out = run.stdout + run.stderr
  assert.match(out, /CONFIG_INVALID/)
  assert.match(out, new RegExp(`table ${s.schema}\\.nokey has neither a primary key nor a unique constraint`))
  assert.equal((await s.pool.query('SELECT count(*)::int AS n FROM nokey')).rows[0].n, 0)
  assert.equal((await s.pool.query('SELECT count(*)::int AS n FROM batch_tracker')).rows[0].n, 0, 'no batch ran')
})

test("separatestream with the seed's dlqTopic and no Kafka: late records in that table, as validate says", async () => {
  const s = await createTestSchema('seedlate')
  schemas.push(s)
  await s.pool.query('CREATE TABLE events (id bigint, event_time timestamptz)')
  const { file, dir } = await writePipeline((d: string) => ({
    pipelineId: `seedlate-${s.schema}`,
    mode: 'streaming',
    extract: { sourceType: 'file', path: join(d, 'in'), format: 'json', stableMs: 0 },
    load: pgLoad(s, 'events', { writeMode: 'append' }),
    streamingConfigJson: {
      checkpointLocation: join(d, 'cp'),
      queryName: 'seedlate',
      triggerMode: 'availablenow',
      maxFilesPerTrigger: 1,
      watermark: { eventTimeColumn: 'event_time', delayThreshold: '10 minutes' },
      lateDataConfig: { strategy: 'separatestream', dlqTopic: 'late_events' },
    },
  }))
  const validate = await runSluice(['validate', file])
  assert.equal(validate.code, 0, validate.stdout + validate.stderr)
  assert.match(validate.stdout, /late data separatestream to table late_events/)
  assert.match(validate.stdout, /dlq table events_dlq/)
  await mkdir(join(dir, 'in'))
  await writeFile(join(dir, 'in', 'a.ndjson'), '{"id": 1, "event_time": "2026-01-01T12:00:00Z"}\n')
  // The second file's batch runs behind the watermark of the first: id 2 is late, id 3 is not.
  await writeFile(join(dir, 'in', 'b.ndjson'), '{"id": 2, "event_time": "2026-01-01T11:00:00Z"}\n{"id": 3, "event_time": "2026-01-01T12:05:00Z"}\n')
  const run = await runSluice(['run', file, '--json'])
  assert.equal(run.code, 0, run.stderr.slice(-3000))
  assert.deepEqual((await s.pool.query('SELECT id::int AS id FROM events ORDER BY id')).rows, [{ id: 1 }, { id: 3 }])
  const late = await s.pool.query<{ code: string; value: Buffer }>('SELECT "sluice.error.code" AS code, value FROM late_events')
  assert.deepEqual(late.rows.map((r) => [r.code, JSON.parse(r.value.toString()).id]), [['LATE_DATA', 2]])
  assert.equal(await tableExists(s, 'events_dlq'), false, 'no bad record, no DLQ table')
})
