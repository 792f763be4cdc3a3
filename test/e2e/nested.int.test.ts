/**
 * Nested JSON into flat columns, and Kafka Connect's JsonConverter envelope (issue 14, item 4),
 * through the CLI as the README runs it, with a real broker and a real PostgreSQL. The records are
 * produced to topics that do not exist beforehand (the broker creates them, as for a user's first
 * producer). Field paths in cast, filter, rename and the load's columnMapping; an array index; the
 * literal-dot rule (a top-level key "a.b" wins over the path a -> b, which is followed only for a
 * record without one); envelope payloads read as records; an envelope without payload in the DLQ
 * with its reason.
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

function load(s: TestSchema, table: string, extra: Record<string, unknown>): Record<string, unknown> {
  const pg = pgSettings()
  return { sinkType: 'postgresql', table, writeMode: 'append', connectionParams: { host: pg.host, port: pg.port, database: pg.database, user: pg.user, currentSchema: s.schema }, ...extra }
}

/** Writes the pipeline, runs `sluice run <file>` to the end of the topic, and checks it succeeded. */
async function runPipeline(s: TestSchema, name: string, topic: string, config: { extract?: Record<string, unknown>; transform?: unknown[]; load: Record<string, unknown> }): Promise<void> {
  const { file } = await writePipeline((d: string) => ({
    pipelineId: `${name}-${s.schema}`,
    extract: { sourceType: 'kafka', topic, connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, startingOffsets: 'earliest' }, ...config.extract },
    ...(config.transform === undefined ? {} : { transform: config.transform }),
    load: config.load,
    streamingConfigJson: { checkpointLocation: join(d, 'cp'), queryName: name, triggerMode: 'availablenow' },
    errorHandlingConfig: { dlqConfig: { dlqType: 'postgresql', table: `${name}_dlq` } },
  }))
  const run = await runSluice(['run', file, '--json'])
  assert.equal(run.code, 0, run.stderr.slice(-3000))
}

async function deadLetters(s: TestSchema, table: string): Promise<{ code: string; reason: string; value: string }[]> {
  // The DLQ table is created with the first dead letter.
  const exists = await s.pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table])
  if (exists.rows[0]?.t === null) return []
  const { rows } = await s.pool.query<{ code: string; reason: string; value: Buffer }>(
    `SELECT "sluice.error.code" AS code, "sluice.error.reason" AS reason, value FROM ${table} ORDER BY "sluice.source.offset"::bigint`,
  )
  return rows.map((r) => ({ code: r.code, reason: r.reason, value: r.value.toString('utf8') }))
}

test('nested JSON flattened into columns: paths in cast, filter, rename and columnMapping, an array index, the literal-dot rule', async () => {
  const s = await createTestSchema('wp_nested')
  schemas.push(s)
  const topic = uniqueTopic('nested')
  const values = [
    { id: 1, customer: { name: 'Ada', address: { city: 'Oslo' } }, items: [{ sku: 'S1', qty: '2' }, { sku: 'S2', qty: '1' }], order: { total: '9.5' }, 'a.b': 'literal-1', a: { b: 'nested-1' } },
    // No city, an empty array, no literal "a.b": the path a -> b is followed.
    { id: 2, customer: { name: 'Bo' }, items: [], order: { total: '3' }, a: { b: 'nested-2' } },
    // Filtered: order.total (cast to a float) is below 1.
    { id: 3, customer: { name: 'Cy' }, items: [{ sku: 'S3', qty: '4' }], order: { total: '0.5' } },
    // A literal "a.b" holding null wins too: null is its value.
    { id: 4, customer: { name: 'Di', address: { city: 'Rome' } }, items: [{ sku: 'S4' }], order: { total: '12' }, 'a.b': null, a: { b: 'not-this' } },
    // Not resolvable paths (a string where an object is expected) are NULL, as missing fields.
    { id: 5, customer: 'just text', items: 'not a list', order: { total: '1' } },
  ]
  await produce(topic, values.map((v) => ({ key: `k${v.id}`, value: JSON.stringify(v) })), { autocreateTopics: true })
  await s.pool.query('CREATE TABLE orders (id bigint PRIMARY KEY, customer_name text, city text, first_sku text, first_qty int, second_sku text, total double precision, ab text, kafka_key text)')
  await runPipeline(s, 'nested', topic, {
    transform: [
      { type: 'cast', columns: { 'order.total': 'float', 'items[0].qty': 'int' } },
      { type: 'filter', field: 'order.total', op: 'gte', value: 1 },
      { type: 'rename', mapping: { 'customer.name': 'customer_name' } },
    ],
    load: load(s, 'orders', {
      columnMapping: { city: 'customer.address.city', first_sku: 'items[0].sku', first_qty: 'items[0].qty', second_sku: 'items[1].sku', total: 'order.total', ab: 'a.b', kafka_key: 'key' },
    }),
  })
  const { rows } = await s.pool.query('SELECT * FROM orders ORDER BY id')
  assert.deepEqual(rows, [
    { id: '1', customer_name: 'Ada', city: 'Oslo', first_sku: 'S1', first_qty: 2, second_sku: 'S2', total: 9.5, ab: 'literal-1', kafka_key: 'k1' },
    { id: '2', customer_name: 'Bo', city: null, first_sku: null, first_qty: null, second_sku: null, total: 3, ab: 'nested-2', kafka_key: 'k2' },
    { id: '4', customer_name: 'Di', city: 'Rome', first_sku: 'S4', first_qty: null, second_sku: null, total: 12, ab: null, kafka_key: 'k4' },
    { id: '5', customer_name: null, city: null, first_sku: null, first_qty: null, second_sku: null, total: 1, ab: null, kafka_key: 'k5' },
  ])
  assert.deepEqual(await deadLetters(s, 'nested_dlq'), [])
})

const SCHEMA = {
  type: 'struct',
  name: 'shop.customers.Value',
  optional: false,
  fields: [
    { type: 'int64', optional: false, field: 'id' },
    { type: 'string', optional: true, field: 'name' },
    { type: 'struct', optional: true, field: 'address', fields: [{ type: 'string', optional: true, field: 'city' }] },
  ],
}

/** A record key as Debezium's key converter writes it with schemas.enable=true. */
const keyOf = (id: number | string): string => `{"schema": {"type": "struct", "optional": false, "fields": [{"type": "int64", "optional": false, "field": "id"}]}, "payload": {"id": ${id}}}`

test('Kafka Connect envelope: payloads are the records, keys too; a value without payload is a dead letter with its reason', async () => {
  const s = await createTestSchema('wp_nested')
  schemas.push(s)
  const topic = uniqueTopic('connect')
  const values = [
    { schema: SCHEMA, payload: { id: 10, name: 'Ana', address: { city: 'Lima' } } },
    // schemas.enable=true with an optional schema Connect left out: schema null.
    { schema: null, payload: { id: 11, name: 'Ben', address: null, schema: 'a payload field named schema is data' } },
    // Claims the envelope (the option says so) but has no payload: a dead letter.
    { schema: SCHEMA, id: 12, name: 'No payload' },
    // A payload that is no record.
    { schema: { type: 'string', optional: false }, payload: 'just a string' },
  ]
  // Exact numbers survive the unwrapping (JSON text: a JS number would round the id).
  const big = `{"schema": ${JSON.stringify(SCHEMA)}, "payload": {"id": 9007199254740993, "name": "Big"}}`
  // Upsert by id; the last record, a tombstone whose key is in the envelope, deletes 11.
  const ids = [10, 11, 12, 13]
  await produce(
    topic,
    [...values.map((v, i) => ({ key: keyOf(ids[i] as number), value: JSON.stringify(v) })), { key: keyOf('9007199254740993'), value: big }, { key: keyOf(11), value: null }],
    { autocreateTopics: true },
  )
  await s.pool.query('CREATE TABLE customers (id bigint PRIMARY KEY, name text, city text, schema text)')
  await runPipeline(s, 'connect', topic, {
    extract: { envelope: 'connect' },
    load: load(s, 'customers', { writeMode: 'upsert', upsertKeys: ['id'], deleteOnTombstone: true, columnMapping: { city: 'address.city' } }),
  })
  // 11 was loaded (its payload has a field named schema, which is data), then deleted by the tombstone.
  const { rows } = await s.pool.query('SELECT id::text, name, city, schema FROM customers ORDER BY id')
  assert.deepEqual(rows, [
    { id: '10', name: 'Ana', city: 'Lima', schema: null },
    { id: '9007199254740993', name: 'Big', city: null, schema: null },
  ])
  const dead = await deadLetters(s, 'connect_dlq')
  assert.deepEqual(
    dead.map((d) => [d.code, d.reason]),
    [
      ['RECORD_DECODE', 'value is not a Kafka Connect envelope (extract.envelope "connect"): it has no "payload" field (its fields: "schema", "id", "name")'],
      ['RECORD_DECODE', "the Kafka Connect envelope's payload is a string, not an object (a record's fields)"],
    ],
  )
  assert.deepEqual(JSON.parse(dead[0]?.value ?? 'null'), values[2], 'the dead letter keeps the original bytes')
})
