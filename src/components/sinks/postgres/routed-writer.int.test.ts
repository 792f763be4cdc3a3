// Topic-to-table routing on a real server: the rows of a batch go to one table per topic, all in the
// one batch transaction with its single tracker row; a rollback forgets the tables it created.
import { afterEach, beforeEach, test } from 'node:test'
import assert from 'node:assert/strict'
import type pg from 'pg'
import type { RowValues } from '../../../api/record.ts'
import { isSluiceError } from '../../../errors.ts'
import type { LoadSchema } from './columns.ts'
import type { PostgresLoadConfig } from './config.ts'
import { TestSink, adminClient, batch, freshSchema, pgLoadConfig, testContext, type TestBatch } from './testing.ts'

let admin: pg.Client
let schema: string
const sinks: TestSink[] = []
const loadSchema: LoadSchema = { columns: { id: 'bigint', v: 'text NOT NULL' }, primaryKey: ['id'] }

beforeEach(async () => {
  admin = await adminClient()
  schema = await freshSchema(admin, 'route')
  await admin.query(`SET search_path TO "${schema}"`)
})

afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close()
  await admin.query(`DROP SCHEMA "${schema}" CASCADE`)
  await admin.end()
})

async function open(overrides: Partial<PostgresLoadConfig>, withSchema = true): Promise<TestSink> {
  const sink = new TestSink(pgLoadConfig(schema, { table: 'raw_{topic}', ...overrides }), testContext(), withSchema ? { loadSchema } : {})
  sinks.push(sink)
  await sink.open(AbortSignal.timeout(10_000))
  return sink
}

/** Batch `n` whose rows come from the given topics. */
function routed(n: number, rows: ReadonlyArray<readonly [string, RowValues]>): TestBatch {
  const b = batch(n, rows.map(([, v]) => v))
  return { ...b, rows: b.rows.map((r, i) => ({ ...r, source: { ...r.source, topic: (rows[i] as readonly [string, RowValues])[0] } })) }
}

async function tables(): Promise<string[]> {
  const r = await admin.query<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE 'raw%' ORDER BY 1", [schema])
  return r.rows.map((x) => x.t)
}

async function contents(table: string): Promise<Array<[number, string]>> {
  return (await admin.query<{ id: string; v: string }>(`SELECT id, v FROM "${table}" ORDER BY id`)).rows.map((r) => [Number(r.id), r.v])
}

test('upsert: one table per topic, created in the batch transaction, one tracker row per batch', async () => {
  const sink = await open({ writeMode: 'upsert', upsertKeys: ['id'] })
  const first = await sink.write(routed(1, [['orders.v1-eu', { id: 1, v: 'a' }], ['Users', { id: 1, v: 'u' }], ['orders.v1-eu', { id: 2, v: 'b' }]]))
  assert.equal(first.status, 'committed')
  assert.equal(first.written, 3)
  assert.deepEqual(await tables(), ['raw_Users', 'raw_orders_v1_eu'], 'case kept, . and - as _')
  const second = await sink.write(routed(2, [['orders.v1-eu', { id: 1, v: 'a2' }], ['Users', { id: 2, v: 'u2' }], ['orders.v1-eu', { id: 1, v: 'a3' }]]))
  assert.equal(second.status, 'committed')
  assert.deepEqual(await contents('raw_orders_v1_eu'), [[1, 'a3'], [2, 'b']], 'the last record of a key in the batch wins, per table')
  assert.deepEqual(await contents('raw_Users'), [[1, 'u'], [2, 'u2']])
  const tracker = await admin.query<{ b: number; n: number }>('SELECT batch_id::int AS b, record_count::int AS n FROM batch_tracker ORDER BY 1')
  assert.deepEqual(tracker.rows.map((r) => [r.b, r.n]), [[1, 3], [2, 3]], 'one row per batch, not per table')
})

test('deletes (tombstones, Debezium d events) go to the table of their topic, after its rows', async () => {
  const sink = await open({ writeMode: 'upsert', upsertKeys: ['id'], deleteOnTombstone: true })
  await sink.write(routed(1, [['a', { id: 1, v: 'a1' }], ['b-b', { id: 1, v: 'b1' }], ['a', { id: 2, v: 'a2' }]]))
  const deleting = { ...routed(2, [['b-b', { id: 2, v: 'b2' }]]), deletes: [{ id: 1 }, { id: 2 }], deleteTopics: ['a', 'b-b'] }
  assert.equal((await sink.write(deleting)).status, 'committed')
  assert.deepEqual(await contents('raw_a'), [[2, 'a2']], "a's key 1 deleted; its key 2 is b-b's delete, not a's")
  assert.deepEqual(await contents('raw_b_b'), [[1, 'b1']], "b-b's key 2 written by the batch, then deleted by it (the record path drops a delete a later row voids)")
  // A delete whose topic has no table yet: the table is created from the load schema, empty.
  assert.equal((await sink.write({ ...routed(3, []), deletes: [{ id: 9 }], deleteTopics: ['c'] })).status, 'committed')
  assert.deepEqual(await contents('raw_c'), [])
})

test('a batch that fails rolls back every table, the ones it created too; its retry writes them once', async () => {
  const sink = await open({})
  await sink.write(routed(1, [['a', { id: 1, v: 'x' }]]))
  const failing = routed(2, [['a', { id: 2, v: 'y' }], ['new.topic', { id: 3, v: 'z' }], ['z', { id: 4, v: null }]])
  await assert.rejects(sink.write(failing), (e: unknown) => isSluiceError(e, 'RECORD_COLUMN'))
  assert.deepEqual(await tables(), ['raw_a'], 'raw_new_topic and raw_z were created inside the rolled-back transaction')
  assert.deepEqual(await contents('raw_a'), [[1, 'x']])
  const retry = routed(2, [['a', { id: 2, v: 'y' }], ['new.topic', { id: 3, v: 'z' }], ['z', { id: 4, v: 'w' }]])
  assert.equal((await sink.write(retry)).status, 'committed')
  assert.deepEqual(await tables(), ['raw_a', 'raw_new_topic', 'raw_z'])
  assert.deepEqual([await contents('raw_a'), await contents('raw_new_topic'), await contents('raw_z')], [[[1, 'x'], [2, 'y']], [[3, 'z']], [[4, 'w']]])
  assert.equal((await sink.write(retry)).status, 'duplicate')
  assert.deepEqual(await contents('raw_z'), [[4, 'w']])
})

test('a topic whose table name is over 63 bytes: its records are refused as RECORD_ROUTE, the rest land', async () => {
  const sink = await open({})
  const long = `t${'x'.repeat(59)}`
  let refused: string[] = []
  const r = await sink.write(routed(1, [['ok', { id: 1, v: 'a' }], [long, { id: 2, v: 'b' }]]), (rejected) => {
    refused = rejected.map((x) => `${x.error.code} ${x.row.source.topic}`)
    return []
  })
  assert.equal(r.status, 'committed')
  assert.deepEqual(refused, [`RECORD_ROUTE ${long}`])
  assert.deepEqual(await tables(), ['raw_ok'])
  // Without a reject handler (failFast) the record fails the batch instead.
  await assert.rejects(sink.write(routed(2, [[long, { id: 3, v: 'c' }]])), (e: unknown) => isSluiceError(e, 'RECORD_ROUTE'))
})

test('an upsert without upsertKeys nor a primaryKey in the load schema stops at open', async () => {
  await assert.rejects(open({ writeMode: 'upsert' }, false), (e: unknown) => isSluiceError(e, 'CONFIG_INVALID') && /load\.upsertKeys/.test(e.message))
})

test('without a load schema the tables must exist: rows land in an existing one, a missing one is SINK_SCHEMA naming it', async () => {
  await admin.query('CREATE TABLE "raw_a_b" (id bigint, v text, extra text)')
  const sink = await open({}, false)
  assert.deepEqual(await sink.targetColumns(), null, 'unknown: every metadata field is offered, each table takes the ones it has')
  assert.equal((await sink.write(routed(1, [['a.b', { id: 1, v: 'x', ignored: true }]]))).status, 'committed')
  assert.deepEqual(await contents('raw_a_b'), [[1, 'x']])
  await assert.rejects(sink.write(routed(2, [['a.b', { id: 2, v: 'y' }], ['missing', { id: 3, v: 'z' }]])), (e: unknown) => isSluiceError(e, 'SINK_SCHEMA') && /raw_missing does not exist/.test(e.message))
  assert.deepEqual(await contents('raw_a_b'), [[1, 'x']], 'the batch rolled back whole')
})
