/**
 * Routing and schema evolution together, the Kafka Connect way (`table.name.format=${topic}`,
 * `auto.create`, `auto.evolve`): five topics with `.` and `-` in their names, none of them existing
 * before the first produce, read with `subscribePattern` into `"table": "{topic}"` with autoEvolve and
 * no load schema. Each table is created from its topic's first records (types from the JSON values,
 * the upsert key as primary key); a field that appears later adds its column; a value that would need
 * a narrower column (an id that is not a number for a bigint key) is a RECORD_COLUMN dead letter.
 * Table rows + dead letters = records produced, and the run says so.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { createTestSchema, pgSettings, type TestSchema } from '../helpers/pg.ts'
import { deleteTopics, kafkaBootstrap, produce } from '../helpers/kafka.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'

const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`
const topics = ['shop.orders-eu', 'shop.orders.v1-us', 'shop.users', 'shop.pay-ments', 'shop.a-b.c'].map((t) => `rtev${run}.${t}`)
const tableOf = (topic: string): string => topic.replace(/[.-]/g, '_')
const schemas: TestSchema[] = []
after(async () => {
  await Promise.all(schemas.map((s) => s.drop()))
  await deleteTopics(...topics)
})

interface Summary {
  readonly ok: boolean
  readonly queries: ReadonlyArray<{ readonly summary: { recordsRead: number; written: number; dlq: number } }>
}

async function columns(s: TestSchema, table: string): Promise<string[]> {
  const { rows } = await s.pool.query<{ c: string }>(
    "SELECT attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END AS c FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
    [`"${s.schema}"."${table}"`],
  )
  return rows.map((r) => r.c)
}

test('five new topics into five tables created from their first records; a new field adds its column; a narrowing value is a dead letter', async () => {
  const s = await createTestSchema('rtev')
  schemas.push(s)
  const pg = pgSettings()
  const { file } = await writePipeline((d: string) => ({
    pipelineId: `rtev-${s.schema}`,
    extract: {
      sourceType: 'kafka',
      connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, subscribePattern: `rtev${run}\\.shop\\..*`, startingOffsets: 'earliest', maxOffsetsPerTrigger: 40 },
    },
    load: {
      sinkType: 'postgresql',
      table: '{topic}',
      writeMode: 'upsert',
      upsertKeys: ['id'],
      autoEvolve: true,
      connectionParams: { host: pg.host, port: pg.port, database: pg.database, user: pg.user, currentSchema: s.schema },
    },
    streamingConfigJson: { checkpointLocation: join(d, 'cp'), queryName: 'rtev', triggerMode: 'availablenow' },
    errorHandlingConfig: { dlqConfig: { dlqType: 'postgresql', table: 'rtev_dlq' } },
  }))
  const runOnce = async (): Promise<Summary> => {
    const r = await runSluice(['run', file, '--json'])
    assert.equal(r.code, 0, r.stderr.slice(-3000))
    return JSON.parse(r.stdout) as Summary
  }

  // First wave: {id, name, amount} (amount integral in some topics, fractional in others).
  for (const [t, topic] of topics.entries()) {
    await produce(topic, Array.from({ length: 30 }, (_, i) => ({ key: String(i), value: JSON.stringify({ id: t * 1000 + i, name: `n${i}`, amount: t % 2 === 0 ? i : i + 0.5 }) })), { autocreateTopics: true })
  }
  const first = await runOnce()
  assert.equal(first.ok, true)
  for (const [t, topic] of topics.entries()) {
    assert.deepEqual(await columns(s, tableOf(topic)), ['id bigint not null', 'name text', `amount ${t % 2 === 0 ? 'bigint' : 'numeric'}`], `${tableOf(topic)} created from its records`)
  }

  // Second wave: a new field `score` in every topic, updates of earlier ids, and per topic one id that is not a number.
  for (const [t, topic] of topics.entries()) {
    const wave = Array.from({ length: 20 }, (_, i) => ({ key: String(i), value: JSON.stringify({ id: t * 1000 + 20 + i, name: `m${i}`, amount: 1, score: i / 4 }) }))
    wave.push({ key: 'bad', value: JSON.stringify({ id: `not-a-number-${t}`, name: 'bad', amount: 1 }) })
    await produce(topic, wave)
  }
  const second = await runOnce()
  assert.equal(second.ok, true)
  const dead = await s.pool.query<{ code: string; topic: string }>('SELECT "sluice.error.code" AS code, "sluice.source.topic" AS topic FROM rtev_dlq ORDER BY 2')
  assert.deepEqual(dead.rows.map((r) => r.code), topics.map(() => 'RECORD_COLUMN'), 'one dead letter per topic, the narrowing id')
  assert.deepEqual(dead.rows.map((r) => r.topic).sort(), [...topics].sort())
  let rows = 0
  for (const [t, topic] of topics.entries()) {
    const table = tableOf(topic)
    assert.deepEqual(await columns(s, table), ['id bigint not null', 'name text', `amount ${t % 2 === 0 ? 'bigint' : 'numeric'}`, 'score numeric'], `${table} evolved`)
    const r = await s.pool.query<{ n: string; ids: string; min: string; max: string; scored: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS ids, min(id) AS min, max(id) AS max, count(score) AS scored FROM "${table}"`)
    const got = r.rows[0]
    assert.ok(got)
    // Ids 0..29 from the first wave, 20..39 from the second (20..29 updated): 40 rows.
    assert.deepEqual([Number(got.n), Number(got.ids), Number(got.min), Number(got.max), Number(got.scored)], [40, 40, t * 1000, t * 1000 + 39, 20], `${table} rows`)
    rows += Number(got.n)
  }
  const read = [first, second].flatMap((x) => x.queries).reduce((n, q) => n + q.summary.recordsRead, 0)
  assert.equal(read, topics.length * (30 + 21), 'every record produced was read')
  const summed = [first, second].flatMap((x) => x.queries).reduce((n, q) => n + q.summary.written + q.summary.dlq, 0)
  assert.equal(summed, read, 'written (upserts included) + dead letters = records read')
  assert.equal(rows + dead.rows.length, topics.length * 40 + topics.length, 'distinct rows + dead letters account for the ids produced')
})
