/**
 * Schema evolution (`load.autoEvolve`, issue 14 item 3) through the CLI as the README runs it, with a
 * real broker and a real PostgreSQL; the topic does not exist before the first produce. Records
 * {id, name} first, then records that bring `score` (numbers) and `tags` (arrays) in later batches
 * (maxOffsetsPerTrigger cuts the backlog into batches): the columns are added with their types and
 * the values land; a record whose id does not fit the bigint column is a RECORD_COLUMN dead letter
 * and the column keeps its type. With autoEvolve off a new field is not loaded and a warning names it.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createTestSchema, pgSettings, type TestSchema } from '../helpers/pg.ts'
import { kafkaBootstrap, produce, uniqueTopic } from '../helpers/kafka.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'

const schemas: TestSchema[] = []
after(async () => {
  await Promise.all(schemas.map((s) => s.drop()))
})

interface Summary {
  readonly ok: boolean
  readonly queries: ReadonlyArray<{ readonly ok: boolean; readonly summary: { batches: number; recordsRead: number; written: number; dlq: number } }>
}

/** Runs the pipeline to the end of the topic (batches of 3 records); returns the --json summary and the logs. */
async function run(s: TestSchema, name: string, topic: string, load: Record<string, unknown>): Promise<{ summary: Summary; logs: string }> {
  const pg = pgSettings()
  const { file } = await writePipeline((d: string) => ({
    pipelineId: `${name}-${s.schema}`,
    extract: { sourceType: 'kafka', topic, connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, startingOffsets: 'earliest', maxOffsetsPerTrigger: 3 } },
    load: { sinkType: 'postgresql', table: 'items', writeMode: 'append', connectionParams: { host: pg.host, port: pg.port, database: pg.database, user: pg.user, currentSchema: s.schema }, ...load },
    streamingConfigJson: { checkpointLocation: join(d, 'cp'), queryName: name, triggerMode: 'availablenow' },
    errorHandlingConfig: { dlqConfig: { dlqType: 'postgresql', table: `${name}_dlq` } },
  }))
  const result = await runSluice(['run', file, '--json'])
  assert.equal(result.code, 0, result.stderr.slice(-3000))
  return { summary: JSON.parse(result.stdout) as Summary, logs: result.stderr }
}

async function columns(s: TestSchema, table: string): Promise<string[]> {
  const { rows } = await s.pool.query<{ c: string }>(
    "SELECT attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END AS c FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
    [table],
  )
  return rows.map((r) => r.c)
}

test('autoEvolve: new fields mid-stream add typed nullable columns; a value that does not fit is a dead letter, the column keeps its type', async () => {
  const s = await createTestSchema('evolve')
  schemas.push(s)
  const topic = uniqueTopic('evolve')
  const values: Record<string, unknown>[] = [
    // Batch 1: the table's own columns.
    { id: 1, name: 'a' },
    { id: 2, name: 'b' },
    { id: 3, name: 'c' },
    // Batch 2: score and tags arrive; a field that is null only adds no column.
    { id: 4, name: 'd', score: 9.5 },
    { id: 5, name: 'e', score: 7.25, tags: ['x', 'y'], later: null },
    { id: 6, name: 'f', tags: [] },
    // Batch 3: an id that does not fit bigint; the others still land.
    { id: 'not-a-number', name: 'g', score: 1.5 },
    { id: 8, name: 'h', score: 12, tags: ['z'] },
    { id: 9, name: 'Name with "quotes"', 'odd "field" name': true },
  ]
  await produce(topic, values.map((v, i) => ({ key: `k${i}`, value: JSON.stringify(v), partition: 0 })), { autocreateTopics: true })
  await s.pool.query('CREATE TABLE items (id bigint NOT NULL, name text)')

  const { summary, logs } = await run(s, 'evolve', topic, { autoEvolve: true })

  assert.deepEqual(await columns(s, 'items'), ['id bigint not null', 'name text', 'score numeric', 'tags jsonb', 'odd "field" name boolean'])
  const { rows } = await s.pool.query('SELECT id::int AS id, name, score::text AS score, tags, "odd ""field"" name" AS odd FROM items ORDER BY id')
  assert.deepEqual(rows, [
    { id: 1, name: 'a', score: null, tags: null, odd: null },
    { id: 2, name: 'b', score: null, tags: null, odd: null },
    { id: 3, name: 'c', score: null, tags: null, odd: null },
    { id: 4, name: 'd', score: '9.5', tags: null, odd: null },
    { id: 5, name: 'e', score: '7.25', tags: ['x', 'y'], odd: null },
    { id: 6, name: 'f', score: null, tags: [], odd: null },
    { id: 8, name: 'h', score: '12', tags: ['z'], odd: null },
    { id: 9, name: 'Name with "quotes"', score: null, tags: null, odd: true },
  ])
  const dead = await s.pool.query<{ code: string; reason: string; value: Buffer }>('SELECT "sluice.error.code" AS code, "sluice.error.reason" AS reason, value FROM evolve_dlq')
  assert.equal(dead.rows.length, 1)
  assert.equal(dead.rows[0]?.code, 'RECORD_COLUMN')
  // The server's reason without the value (the record itself is beside it): the column's type stands.
  assert.equal(dead.rows[0]?.reason, 'invalid input syntax for type bigint; column id')
  assert.deepEqual(JSON.parse(dead.rows[0]?.value.toString('utf8') ?? 'null'), values[6])

  // Every record is in exactly one place, and the run says so.
  assert.equal(rows.length + dead.rows.length, values.length)
  assert.equal(summary.ok, true)
  const q = summary.queries[0]?.summary
  assert.equal(q?.recordsRead, values.length)
  assert.equal(q?.written, rows.length)
  assert.equal(q?.dlq, dead.rows.length)
  assert.ok((q?.batches ?? 0) >= 3, `the backlog came in batches (got ${q?.batches})`)
  for (const c of ['score', 'tags']) assert.match(logs, new RegExp(`"column":"${c}".*column added \\(autoEvolve\\)`))
})

test('autoEvolve off: a field without a column is not loaded, and a warning names it once', async () => {
  const s = await createTestSchema('evolve')
  schemas.push(s)
  const topic = uniqueTopic('evolve-off')
  const values = [{ id: 1, name: 'a' }, { id: 2, name: 'b', score: 3 }, { id: 3, name: 'c', score: 4 }, { id: 4, name: 'd', score: 5 }]
  await produce(topic, values.map((v, i) => ({ key: `k${i}`, value: JSON.stringify(v), partition: 0 })), { autocreateTopics: true })
  await s.pool.query('CREATE TABLE items (id bigint, name text)')

  const { summary, logs } = await run(s, 'evolveoff', topic, {})

  assert.deepEqual(await columns(s, 'items'), ['id bigint', 'name text'])
  const { rows } = await s.pool.query('SELECT id::int AS id, name FROM items ORDER BY id')
  assert.deepEqual(rows, values.map(({ id, name }) => ({ id, name })))
  assert.equal(summary.ok, true)
  assert.equal(summary.queries[0]?.summary.written, values.length)
  const warnings = logs.split('\n').filter((l) => l.includes('has no column in') && l.includes('"field":"score"'))
  assert.equal(warnings.length, 1, logs.slice(-3000))
  assert.match(warnings[0] ?? '', /set load\.autoEvolve/)
})

test('autoEvolve with the Connect envelope: the record schema types the new columns', async () => {
  const s = await createTestSchema('evolve')
  schemas.push(s)
  const topic = uniqueTopic('evolve-connect')
  const schema = {
    type: 'struct',
    optional: false,
    fields: [
      { field: 'id', type: 'int64', optional: false },
      { field: 'name', type: 'string', optional: true },
      { field: 'qty', type: 'int32', optional: true },
      // Integral values: from the values alone it would be bigint.
      { field: 'ratio', type: 'float64', optional: true },
      { field: 'at', type: 'int64', optional: true, name: 'org.apache.kafka.connect.data.Timestamp' },
    ],
  }
  const payloads = [{ id: 1, name: 'a' }, { id: 2, name: 'b', qty: 3, ratio: 2, at: 1764748800000 }, { id: 3, name: 'c', qty: 4, ratio: 1 }]
  await produce(topic, payloads.map((payload, i) => ({ key: `k${i}`, value: JSON.stringify({ schema, payload }), partition: 0 })), { autocreateTopics: true })
  await s.pool.query('CREATE TABLE items (id bigint, name text)')

  const pg = pgSettings()
  const { file } = await writePipeline((d: string) => ({
    pipelineId: `evolveconnect-${s.schema}`,
    extract: { sourceType: 'kafka', topic, envelope: 'connect', connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, startingOffsets: 'earliest' } },
    load: { sinkType: 'postgresql', table: 'items', writeMode: 'append', autoEvolve: 'true', connectionParams: { host: pg.host, port: pg.port, database: pg.database, user: pg.user, currentSchema: s.schema } },
    streamingConfigJson: { checkpointLocation: join(d, 'cp'), queryName: 'evolveconnect', triggerMode: 'availablenow' },
  }))
  const result = await runSluice(['run', file])
  assert.equal(result.code, 0, result.stderr.slice(-3000))

  assert.deepEqual(await columns(s, 'items'), ['id bigint', 'name text', 'qty integer', 'ratio double precision', 'at timestamp with time zone'])
  const { rows } = await s.pool.query(`SELECT id::int AS id, qty, ratio, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS at FROM items ORDER BY id`)
  assert.deepEqual(rows, [
    { id: 1, qty: null, ratio: null, at: null },
    { id: 2, qty: 3, ratio: 2, at: '2025-12-03T08:00:00' },
    { id: 3, qty: 4, ratio: 1, at: null },
  ])
})
