/**
 * Debezium change events applied to a mirror table (issue 14, item 1: the decode part), through
 * the CLI as the README runs it, with a real broker and a real PostgreSQL. The events are written
 * by hand exactly as Debezium's PostgreSQL connector writes them with JsonConverter, once with
 * schemas.enable=false and once with schemas.enable=true (the Connect wrapper on value and key),
 * to topics that do not exist beforehand: a snapshot, inserts, updates, deletes each followed by
 * its tombstone, a key deleted and created again, many updates of one key split across batches
 * (maxOffsetsPerTrigger 2) and across two runs, a number past 2^53, and a truncate (a dead letter).
 * The mirror must equal the source table's final state row for row.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createTestSchema, pgSettings, type TestSchema } from '../helpers/pg.ts'
import { kafkaBootstrap, produce, uniqueTopic, type TestMessage } from '../helpers/kafka.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'
import { assertTrackerContiguous } from './fixtures.ts'

const schemas: TestSchema[] = []
after(async () => {
  await Promise.all(schemas.map((s) => s.drop()))
})

interface Customer {
  id: number
  name: string | null
  email: string | null
  /** int64 text: a JS number would round a value past 2^53. */
  points: string | null
}

const ROW_FIELDS = [
  { type: 'int64', optional: false, default: 0, field: 'id' },
  { type: 'string', optional: true, field: 'name' },
  { type: 'string', optional: true, field: 'email' },
  { type: 'int64', optional: true, field: 'points' },
]

/** The envelope schema Debezium 3 writes for public.customers (schemas.enable=true). */
const VALUE_SCHEMA = {
  type: 'struct',
  fields: [
    { type: 'struct', fields: ROW_FIELDS, optional: true, name: 'shop.public.customers.Value', field: 'before' },
    { type: 'struct', fields: ROW_FIELDS, optional: true, name: 'shop.public.customers.Value', field: 'after' },
    {
      type: 'struct',
      fields: [
        { type: 'string', optional: false, field: 'version' },
        { type: 'string', optional: false, field: 'connector' },
        { type: 'string', optional: false, field: 'name' },
        { type: 'int64', optional: false, field: 'ts_ms' },
        { type: 'string', optional: true, name: 'io.debezium.data.Enum', version: 1, parameters: { allowed: 'true,first,first_in_data_collection,last_in_data_collection,last,false,incremental' }, default: 'false', field: 'snapshot' },
        { type: 'string', optional: false, field: 'db' },
        { type: 'string', optional: true, field: 'sequence' },
        { type: 'int64', optional: true, field: 'ts_us' },
        { type: 'int64', optional: true, field: 'ts_ns' },
        { type: 'string', optional: false, field: 'schema' },
        { type: 'string', optional: false, field: 'table' },
        { type: 'int64', optional: true, field: 'txId' },
        { type: 'int64', optional: true, field: 'lsn' },
        { type: 'int64', optional: true, field: 'xmin' },
      ],
      optional: false,
      name: 'io.debezium.connector.postgresql.Source',
      version: 1,
      field: 'source',
    },
    {
      type: 'struct',
      fields: [
        { type: 'string', optional: false, field: 'id' },
        { type: 'int64', optional: false, field: 'total_order' },
        { type: 'int64', optional: false, field: 'data_collection_order' },
      ],
      optional: true,
      name: 'event.block',
      version: 1,
      field: 'transaction',
    },
    { type: 'string', optional: false, field: 'op' },
    { type: 'int64', optional: true, field: 'ts_ms' },
    { type: 'int64', optional: true, field: 'ts_us' },
    { type: 'int64', optional: true, field: 'ts_ns' },
  ],
  optional: false,
  name: 'shop.public.customers.Envelope',
  version: 2,
}
const KEY_SCHEMA = { type: 'struct', fields: [{ type: 'int64', optional: false, default: 0, field: 'id' }], optional: false, name: 'shop.public.customers.Key' }

/** One source-table change, in source order. */
type Change = { op: 'r' | 'c' | 'u'; row: Customer } | { op: 'd'; id: number; before: 'key' | 'none' } | { op: 't' }

let lsn = 24_023_128

/** JSON text of a row, points as an int64 literal. */
function rowJson(c: Customer): string {
  return `{"id":${c.id},"name":${JSON.stringify(c.name)},"email":${JSON.stringify(c.email)},"points":${c.points ?? 'null'}}`
}

/** The Kafka records Debezium writes for one change: key and value, and after a delete its tombstone. */
function records(change: Change, withSchemas: boolean): TestMessage[] {
  lsn += 56
  const tsMs = 1_767_225_600_000 + lsn
  const snapshot = change.op === 'r' ? 'true' : 'false'
  const source = `{"version":"3.1.2.Final","connector":"postgresql","name":"shop","ts_ms":${tsMs - 7},"snapshot":"${snapshot}","db":"shop","sequence":"[null,\\"${lsn}\\"]","ts_us":${(tsMs - 7) * 1000},"ts_ns":${(tsMs - 7) * 1_000_000},"schema":"public","table":"customers","txId":${700 + (lsn % 97)},"lsn":${lsn},"xmin":null}`
  const tail = `"source":${source},"transaction":null,"op":"${change.op}","ts_ms":${tsMs},"ts_us":${tsMs * 1000},"ts_ns":${tsMs * 1_000_000}`
  let payload: string
  let id: number | null
  if (change.op === 't') {
    // A truncate has no key: Debezium writes it with a null key.
    payload = `{"before":null,"after":null,${tail}}`
    id = null
  } else if (change.op === 'd') {
    // REPLICA IDENTITY DEFAULT: before holds the key, the other columns null; "none": no before at all.
    const before = change.before === 'key' ? `{"id":${change.id},"name":null,"email":null,"points":null}` : 'null'
    payload = `{"before":${before},"after":null,${tail}}`
    id = change.id
  } else {
    payload = `{"before":null,"after":${rowJson(change.row)},${tail}}`
    id = change.row.id
  }
  const value = withSchemas ? `{"schema":${JSON.stringify(VALUE_SCHEMA)},"payload":${payload}}` : payload
  const key = id === null ? null : withSchemas ? `{"schema":${JSON.stringify(KEY_SCHEMA)},"payload":{"id":${id}}}` : `{"id":${id}}`
  const out: TestMessage[] = [{ key, value }]
  if (change.op === 'd') out.push({ key, value: null })
  return out
}

const BIG = '9007199254740993'

/** The changes of the first run, then of the second; applied in order to a table, they give FINAL. */
const FIRST: Change[] = [
  { op: 'r', row: { id: 1, name: 'Ann', email: 'ann@x.io', points: '10' } },
  { op: 'r', row: { id: 2, name: 'Bob', email: null, points: '0' } },
  { op: 'c', row: { id: 3, name: 'Cy', email: 'cy@x.io', points: '1' } },
  { op: 'u', row: { id: 1, name: 'Ann', email: 'ann@y.io', points: '11' } },
  { op: 'd', id: 2, before: 'key' },
  { op: 'c', row: { id: 4, name: 'Di', email: null, points: BIG } },
  ...Array.from({ length: 7 }, (_, i): Change => ({ op: 'u', row: { id: 3, name: 'Cy', email: 'cy@x.io', points: String(2 + i) } })),
  { op: 't' },
  { op: 'd', id: 4, before: 'none' },
  { op: 'c', row: { id: 2, name: 'Bob again', email: 'bob@x.io', points: null } },
]
const SECOND: Change[] = [
  { op: 'u', row: { id: 3, name: 'Cy', email: 'cy@z.io', points: '100' } },
  { op: 'd', id: 1, before: 'key' },
  { op: 'c', row: { id: 5, name: 'Eve', email: null, points: '5' } },
  { op: 'u', row: { id: 3, name: 'Cy', email: 'cy@z.io', points: '101' } },
  { op: 'd', id: 5, before: 'key' },
  { op: 'c', row: { id: 4, name: 'Di', email: 'di@x.io', points: BIG } },
]

/** The source table after the changes: what the mirror must hold. */
function finalState(changes: readonly Change[]): Customer[] {
  const table = new Map<number, Customer>()
  for (const c of changes) {
    if (c.op === 'd') table.delete(c.id)
    else if (c.op !== 't') table.set(c.row.id, c.row)
  }
  return [...table.values()].sort((a, b) => a.id - b.id)
}

for (const withSchemas of [false, true]) {
  test(`Debezium change events ${withSchemas ? 'with' : 'without'} schemas: the mirror equals the source table, across batches and runs`, async () => {
    const s = await createTestSchema('wp_debezium')
    schemas.push(s)
    const topic = uniqueTopic(withSchemas ? 'dbz-schemas' : 'dbz-plain')
    const pipelineId = `debezium-${s.schema}`
    await s.pool.query('CREATE TABLE customers (id bigint PRIMARY KEY, name text, email text, points bigint, last_op text, src_table text, changed_ms bigint)')
    const pg = pgSettings()
    const { file } = await writePipeline((d: string) => ({
      pipelineId,
      extract: { sourceType: 'kafka', topic, envelope: 'debezium', connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, startingOffsets: 'earliest', maxOffsetsPerTrigger: 2 } },
      load: {
        sinkType: 'postgresql',
        table: 'customers',
        writeMode: 'upsert',
        upsertKeys: ['id'],
        columnMapping: { last_op: '__op', src_table: '__source.table', changed_ms: '__ts_ms' },
        connectionParams: { host: pg.host, port: pg.port, database: pg.database, user: pg.user, currentSchema: s.schema },
      },
      streamingConfigJson: { checkpointLocation: join(d, 'cp'), queryName: 'debezium', triggerMode: 'availablenow' },
      errorHandlingConfig: { dlqConfig: { dlqType: 'postgresql', table: 'debezium_dlq' } },
    }))
    const check = async (changes: readonly Change[]): Promise<void> => {
      const { rows } = await s.pool.query<Customer & { last_op: string; src_table: string; changed_ms: string }>('SELECT id::int AS id, name, email, points::text AS points, last_op, src_table, changed_ms::text FROM customers ORDER BY id')
      assert.deepEqual(rows.map(({ id, name, email, points }) => ({ id, name, email, points })), finalState(changes))
      for (const r of rows) {
        assert.match(r.last_op, /^[rcu]$/)
        assert.equal(r.src_table, 'customers')
        assert.match(r.changed_ms, /^17672\d{8}$/)
      }
    }

    const first = FIRST.flatMap((c) => records(c, withSchemas))
    await produce(topic, first, { autocreateTopics: true })
    const run1 = await runSluice(['run', file, '--json'])
    assert.equal(run1.code, 0, run1.stderr.slice(-3000))
    await check(FIRST)
    const batches = await assertTrackerContiguous(s, pipelineId, first.length)
    assert.ok(batches >= Math.ceil(first.length / 2), `maxOffsetsPerTrigger 2: ${batches} batches`)

    const second = SECOND.flatMap((c) => records(c, withSchemas))
    await produce(topic, second)
    const run2 = await runSluice(['run', file, '--json'])
    assert.equal(run2.code, 0, run2.stderr.slice(-3000))
    await check([...FIRST, ...SECOND])
    await assertTrackerContiguous(s, pipelineId, first.length + second.length)
    const { rows: last } = await s.pool.query<{ id: number; last_op: string }>('SELECT id::int AS id, last_op FROM customers ORDER BY id')
    assert.deepEqual(last, [{ id: 2, last_op: 'c' }, { id: 3, last_op: 'u' }, { id: 4, last_op: 'c' }])

    // The truncate is the only dead letter, with its reason; deletes and tombstones are no dead letters.
    const { rows: dead } = await s.pool.query<{ code: string; reason: string }>('SELECT "sluice.error.code" AS code, "sluice.error.reason" AS reason FROM debezium_dlq')
    assert.equal(dead.length, 1)
    assert.equal(dead[0]?.code, 'RECORD_DECODE')
    assert.match(dead[0]?.reason ?? '', /^Debezium op "t" \(truncate\) is not applied/)
  })
}
