/**
 * Topic-to-table routing end to end (issue 14 item 2): `sluice run` with `subscribePattern` is
 * started before any of its five topics exists (names with `.` and `-`, one with capitals), then
 * the topics are created and written; `"table": "raw_{topic}"` with autoCreateTable makes one
 * table per topic from the load schema. The process dies twice mid-stream (a SIGKILL at a
 * failpoint with every table of a batch written but not committed, then a SIGKILL from outside
 * while records still arrive) and is restarted: each table ends with exactly its topic's records,
 * and batch_tracker has one row per committed batch.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { createTestSchema, pgSettings, type TestSchema } from '../helpers/pg.ts'
import { createTopic, deleteTopics, kafkaBootstrap, produce, type TestMessage } from '../helpers/kafka.ts'
import { runSluice, startSluice, waitForOutput, waitUntil, writePipeline, type RunningCli } from '../helpers/cli.ts'
import { assertTrackerContiguous } from './fixtures.ts'

const PER_TOPIC = 1000
const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`
const topics = ['orders-eu', 'orders.v1-us', 'Users-V2', 'pay.ments', 'a-b.c-d'].map((t) => `route.${run}.${t}`)
/** The table each topic names: `raw_` + the topic with `.` and `-` as `_`, case kept. */
const tableOf = (topic: string): string => `raw_${topic.replace(/[.-]/g, '_')}`
/** Debezium's topics `<server>.<schema>.<table>`, one mirror table per topic. */
const server = `route${run}`
const cdcTopics = [`${server}.inventory.customers`, `${server}.inventory.orders`]
const schemas: TestSchema[] = []
const running: RunningCli[] = []

after(async () => {
  for (const r of running) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL')
  await Promise.all(schemas.map((s) => s.drop()))
  await deleteTopics(...topics, ...cdcTopics)
})

/** Records `from`..`from + count - 1` of topic number `t`: ids are unique across topics, so a record in the wrong table shows. */
function records(t: number, from: number, count: number): { key: string; value: string; partition: number }[] {
  return Array.from({ length: count }, (_, i) => {
    const id = t * 1_000_000 + from + i
    return { key: String(id), value: JSON.stringify({ id, kind: ['click', 'view', 'buy'][id % 3] }), partition: id % 2 }
  })
}

async function produceWave(from: number, count: number): Promise<void> {
  await Promise.all(topics.map((topic, t) => produce(topic, records(t, from, count))))
}

async function trackerRows(s: TestSchema): Promise<number> {
  const r = await s.pool.query<{ n: string }>("SELECT count(*) AS n FROM batch_tracker WHERE pipeline_id = 'route-e2e'")
  return Number(r.rows[0]?.n ?? 0)
}

async function rowsIn(s: TestSchema, table: string): Promise<number> {
  const exists = await s.pool.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`"${s.schema}"."${table}"`])
  if (exists.rows[0]?.t === null) return 0
  return Number((await s.pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`)).rows[0]?.n ?? 0)
}

test('subscribePattern into one table per topic, created on first records, exactly once across SIGKILLs', async () => {
  const s = await createTestSchema('route')
  schemas.push(s)
  const pg = pgSettings()
  const pattern = `route\\.${run}\\..*`
  const { file } = await writePipeline(
    (dir: string) => ({
      pipelineId: 'route-e2e',
      mode: 'streaming',
      extract: {
        sourceType: 'kafka',
        connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, subscribePattern: pattern, startingOffsets: 'earliest', maxOffsetsPerTrigger: 400, groupMembership: false },
      },
      load: {
        sinkType: 'postgresql',
        table: 'raw_{topic}',
        schemaName: 'route_event',
        autoCreateTable: true,
        connectionParams: { host: pg.host, port: pg.port, database: pg.database, user: pg.user, currentSchema: s.schema },
      },
      schemaDir: '.',
      streamingConfigJson: { checkpointLocation: join(dir, 'checkpoint'), queryName: 'route', triggerMode: 'processingtime=200 milliseconds', enableIdempotence: true },
      errorHandlingConfig: {
        retryConfig: { strategy: 'exponential', maxAttempts: 5, initialDelaySeconds: 0.2, maxDelaySeconds: 2 },
        circuitBreakerConfig: { enabled: true, failureThreshold: 20, resetTimeoutSeconds: 1 },
      },
    }),
    // `topic`, `partition` and `offset` are record metadata: the table has them, so they are filled.
    { 'route_event.json': JSON.stringify({ columns: { id: 'bigint', kind: 'text', topic: 'text', partition: 'integer', offset: 'bigint' } }) },
  )

  // 1. Started before any topic exists; dies with every table of batch 4 written, before COMMIT.
  const first = startSluice(['run', file], { SLUICE_FAILPOINTS: 'before-commit@4=kill' })
  running.push(first)
  await waitForOutput(first, (o) => o.includes('query resumed'))
  for (const topic of topics) await createTopic(topic, 2)
  await produceWave(0, PER_TOPIC / 2)
  const crashed = await first.done
  assert.equal(crashed.signal, 'SIGKILL', `the failpoint killed the process\n${crashed.stderr.slice(-3000)}`)
  assert.match(crashed.stderr, /failpoint before-commit@4: SIGKILL/)
  assert.equal(await trackerRows(s), 4, 'batches 0-3 committed, batch 4 rolled back')

  // 2. Restarted while the second half arrives, and killed from outside once it committed more.
  const second = startSluice(['run', file])
  running.push(second)
  const producing = produceWave(PER_TOPIC / 2, PER_TOPIC / 2)
  await waitUntil('batches after the restart', async () => (await trackerRows(s)) >= 7, [second], 30_000)
  second.child.kill('SIGKILL')
  assert.equal((await second.done).signal, 'SIGKILL')
  await producing

  // 3. Restarted again: it finishes, and stops cleanly on SIGTERM.
  const third = startSluice(['run', file])
  running.push(third)
  await waitUntil('every record in its table', async () => (await Promise.all(topics.map((t) => rowsIn(s, tableOf(t))))).every((n) => n >= PER_TOPIC), [third], 30_000)
  third.child.kill('SIGTERM')
  const stopped = await third.done
  assert.equal(stopped.code, 0, stopped.stderr.slice(-3000))

  const tables = await s.pool.query<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE 'raw%' ORDER BY 1", [s.schema])
  assert.deepEqual(tables.rows.map((r) => r.t), topics.map(tableOf).sort(), 'one table per topic (no DLQ table: nothing was refused)')
  for (const [t, topic] of topics.entries()) {
    const table = tableOf(topic)
    const { rows } = await s.pool.query<{ n: string; ids: string; min: string; max: string; topics: string[]; places: string }>(
      `SELECT count(*) AS n, count(DISTINCT id) AS ids, min(id) AS min, max(id) AS max, array_agg(DISTINCT topic) AS topics, count(DISTINCT (partition, "offset")) AS places FROM "${table}"`,
    )
    const r = rows[0]
    assert.ok(r)
    assert.equal(Number(r.n), PER_TOPIC, `rows in ${table}`)
    assert.equal(Number(r.ids), PER_TOPIC, `distinct ids in ${table}`)
    assert.deepEqual([Number(r.min), Number(r.max)], [t * 1_000_000, t * 1_000_000 + PER_TOPIC - 1], `${table} holds its own topic's ids`)
    assert.deepEqual(r.topics, [topic], `${table} holds only records of ${topic}`)
    assert.equal(Number(r.places), PER_TOPIC, `every record of ${topic} once`)
  }
  // One tracker row per committed batch, not per table: the batches' record counts add up to what was produced.
  await assertTrackerContiguous(s, 'route-e2e', PER_TOPIC * topics.length)
})

/** A Debezium change event (schemas.enable=false) of `table`, and after a delete its tombstone. */
function change(table: string, op: 'c' | 'u' | 'd', id: number, name?: string): TestMessage[] {
  const source = `{"connector":"postgresql","name":"${server}","db":"shop","schema":"inventory","table":"${table}"}`
  const row = `{"id":${id},"name":${JSON.stringify(name ?? null)}}`
  const value = `{"before":${op === 'd' ? `{"id":${id},"name":null}` : 'null'},"after":${op === 'd' ? 'null' : row},"source":${source},"op":"${op}","ts_ms":1767225600000}`
  const key = `{"id":${id}}`
  return op === 'd' ? [{ key, value }, { key, value: null }] : [{ key, value }]
}

test('Debezium topics server.schema.table into one mirror table per topic: upserts and deletes per table, the same key in both', async () => {
  const s = await createTestSchema('route')
  schemas.push(s)
  const pg = pgSettings()
  const { file } = await writePipeline(
    (dir: string) => ({
      pipelineId: 'route-cdc',
      extract: {
        sourceType: 'kafka',
        envelope: 'debezium',
        connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, subscribe: cdcTopics.join(','), startingOffsets: 'earliest', maxOffsetsPerTrigger: 3 },
      },
      load: {
        sinkType: 'postgresql',
        table: '{topic}',
        writeMode: 'upsert',
        upsertKeys: ['id'],
        schemaName: 'mirror',
        connectionParams: { host: pg.host, port: pg.port, database: pg.database, user: pg.user, currentSchema: s.schema },
      },
      schemaDir: '.',
      streamingConfigJson: { checkpointLocation: join(dir, 'checkpoint'), queryName: 'route-cdc', triggerMode: 'availablenow' },
    }),
    { 'mirror.json': JSON.stringify({ columns: { id: 'bigint', name: 'text' }, primaryKey: ['id'] }) },
  )
  const [customers, orders] = cdcTopics as [string, string]
  await produce(customers, [...change('customers', 'c', 1, 'Ann'), ...change('customers', 'c', 2, 'Bob'), ...change('customers', 'u', 1, 'Ann B'), ...change('customers', 'd', 2)], { autocreateTopics: true })
  await produce(orders, [...change('orders', 'c', 1, 'order 1'), ...change('orders', 'c', 2, 'order 2'), ...change('orders', 'd', 1), ...change('orders', 'c', 3, 'order 3')], { autocreateTopics: true })
  const first = await runSluice(['run', file])
  assert.equal(first.code, 0, first.stderr.slice(-3000))
  // Second run: key 2 of customers (deleted) comes back; key 2 of orders goes; customers' key 1 stays.
  await produce(customers, change('customers', 'c', 2, 'Bob again'))
  await produce(orders, change('orders', 'd', 2))
  const second = await runSluice(['run', file])
  assert.equal(second.code, 0, second.stderr.slice(-3000))

  const mirror = async (topic: string): Promise<Array<[number, string]>> =>
    (await s.pool.query<{ id: string; name: string }>(`SELECT id, name FROM "${topic.replace(/\./g, '_')}" ORDER BY id`)).rows.map((r) => [Number(r.id), r.name])
  assert.deepEqual(await mirror(customers), [[1, 'Ann B'], [2, 'Bob again']])
  assert.deepEqual(await mirror(orders), [[3, 'order 3']])
  // Each topic 4 events + 1 tombstone, then 1 event, and 1 event + 1 tombstone: every record read once.
  await assertTrackerContiguous(s, 'route-cdc', 5 + 5 + 1 + 2)
})
