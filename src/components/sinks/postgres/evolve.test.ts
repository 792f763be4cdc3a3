/** autoEvolve's choice of new columns and their types (evolve.ts). */
import { recordConverter } from '../../../engine/connect-logical.ts'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Row, RowValues } from '../../../api/record.ts'
import { exactNumber } from '../../../engine/exact-number.ts'
import type { TableColumn, TableInfo } from './columns.ts'
import { addColumnsSql, columnNameProblem, planEvolution, typeForKinds, valueKind, type ValueKind } from './evolve.ts'
import { row } from './testing.ts'

const col = (name: string, type = 'text', udt = 'text', category = 'S'): TableColumn => ({ name, type, udt, category, hasDefault: false, notNull: false, generated: false })
const table: TableInfo = { schema: 's', name: 't', quoted: '"s"."t"', columns: [col('id', 'bigint', 'int8', 'N'), col('Name')] }

const kinds = (...values: unknown[]): Set<ValueKind> => new Set(values.map(valueKind).filter((k): k is ValueKind => k !== null))
const plan = (values: RowValues[], options: Partial<Parameters<typeof planEvolution>[2]> = {}) =>
  planEvolution(table, values.map((v, i) => row(v, i)), { envelope: 'none', ...options })
const added = (p: ReturnType<typeof plan>): Array<[string, string, string]> => p.add.map((c) => [c.name, c.type, c.from])

test('value kinds: integers within bigint, other numbers, exact numbers by their digits', () => {
  assert.equal(valueKind(1), 'integer')
  assert.equal(valueKind(-0), 'integer')
  assert.equal(valueKind(1.5), 'number')
  assert.equal(valueKind(1e20), 'number', 'beyond bigint')
  assert.equal(valueKind(9007199254740992), 'integer', 'a double that is an integer within bigint')
  assert.equal(valueKind(exactNumber('9223372036854775807')), 'integer')
  assert.equal(valueKind(exactNumber('9223372036854775808')), 'number', 'one past bigint')
  assert.equal(valueKind(exactNumber('12345678901234567.0')), 'integer', 'an integral value written with a fraction')
  assert.equal(valueKind(exactNumber('0.1000000000000000055511151231257827')), 'number')
  assert.equal(valueKind(10n), 'integer')
  assert.equal(valueKind(Infinity), 'number')
  assert.equal(valueKind('7'), 'string')
  assert.equal(valueKind(false), 'boolean')
  assert.equal(valueKind([1]), 'json')
  assert.equal(valueKind({ a: 1 }), 'json')
  assert.equal(valueKind(new Date(0)), 'time')
  assert.equal(valueKind(new Uint8Array(1)), 'bytes')
  assert.equal(valueKind(null), null)
  assert.equal(valueKind(undefined), null)
})

test('JSON types: one kind its type; integers with numbers numeric; any other mix text', () => {
  assert.equal(typeForKinds(kinds(1, 2)), 'bigint')
  assert.equal(typeForKinds(kinds(1.5)), 'numeric')
  assert.equal(typeForKinds(kinds(1, 2.5)), 'numeric')
  assert.equal(typeForKinds(kinds('a')), 'text')
  assert.equal(typeForKinds(kinds(true)), 'boolean')
  assert.equal(typeForKinds(kinds([1], { a: 1 })), 'jsonb')
  assert.equal(typeForKinds(kinds(1, 'a')), 'text')
  assert.equal(typeForKinds(kinds(1.5, 'a', [1])), 'text')
  assert.equal(typeForKinds(kinds(true, 1)), 'text')
  assert.equal(typeForKinds(kinds({ a: 1 }, 1)), 'text')
  assert.equal(typeForKinds(kinds(null)), undefined)
})

test('new fields: across the batch, not known columns (either case), null-only ones wait', () => {
  const p = plan([{ id: 1, name: 'a' }, { id: 2, NAME: 'b', score: 1, tags: ['x'], empty: null }, { id: 3, score: 2.5, tags: [], empty: null }])
  assert.deepEqual(added(p), [['score', 'numeric', 'values'], ['tags', 'jsonb', 'values']])
  assert.deepEqual(p.refused, [])
  assert.deepEqual(added(plan([{ id: 1, name: 'a' }])), [])
})

test('the load schema declares the type (NOT NULL dropped); undeclared fields by their values', () => {
  const loadSchema = { columns: { id: 'bigint', score: 'numeric(10,2) NOT NULL' } }
  assert.deepEqual(added(plan([{ id: 1, score: 3, other: 'x' }], { loadSchema })), [['score', 'numeric(10,2)', 'load schema'], ['other', 'text', 'values']])
})

test('with a column mapping only the mapped columns are added', () => {
  assert.deepEqual(added(plan([{ id: 1, city: 'Oslo', customer: { city: 'Oslo' } }], { only: new Set(['city']) })), [['city', 'text', 'values']])
})

/** A row as the record path makes it from a Connect-enveloped record: values are the payload, the bytes the whole envelope. */
/** A row of a Connect-envelope record as the decoder gives it: the payload, its logical types converted by the schema. */
function enveloped(schema: unknown, payload: RowValues, offset = 0): Row {
  const r = row((recordConverter(schema)?.(payload) ?? payload) as RowValues, offset)
  return { ...r, source: { ...r.source, value: Buffer.from(JSON.stringify({ schema, payload })) } }
}

const STRUCT = {
  type: 'struct',
  fields: [
    { field: 'id', type: 'int64' },
    { field: 'n', type: 'int32' },
    { field: 'ratio', type: 'float64' },
    { field: 'at', type: 'int64', name: 'org.apache.kafka.connect.data.Timestamp' },
    { field: 'day', type: 'int32', name: 'io.debezium.time.Date' },
    { field: 'price', type: 'bytes', name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '2' } },
    { field: 'uid', type: 'string', name: 'io.debezium.data.Uuid' },
    { field: 'cast', type: 'int64' },
  ],
}

test('the Connect schema gives the type when the values are what it says, logical types converted by the decoder', () => {
  const payload = { id: 1, n: 7, ratio: 2, at: 1700000000000, day: 19000, price: 'AfE=', uid: '1b4e28ba-2fa1-11d2-883f-0016d3cca427', cast: 'seven', loose: true }
  const p = planEvolution(table, [enveloped(STRUCT, payload)], { envelope: 'connect' })
  assert.deepEqual(added(p), [
    ['n', 'integer', 'Connect schema'],
    ['ratio', 'double precision', 'Connect schema'],
    ['at', 'timestamptz', 'Connect schema'],
    // Days and base64 bytes arrive converted (a date, exact numeric text): the schema's types.
    ['day', 'date', 'Connect schema'],
    ['price', 'numeric', 'Connect schema'],
    ['uid', 'uuid', 'Connect schema'],
    // A step made a string of it: the schema no longer describes the value.
    ['cast', 'text', 'values'],
    ['loose', 'boolean', 'values'],
  ])
  // The same bytes without the envelope configured: the schema is not looked at.
  assert.deepEqual(added(planEvolution(table, [enveloped(STRUCT, { n: 7 })], { envelope: 'none' })), [['n', 'bigint', 'values']])
})

test('a Debezium event with its schema: the after struct describes the row', () => {
  const schema = { type: 'struct', fields: [{ field: 'before', type: 'struct', optional: true, fields: [] }, { field: 'after', type: 'struct', optional: true, fields: [{ field: 'qty', type: 'int16' }] }, { field: 'op', type: 'string' }] }
  const r = row({ qty: 3 })
  const event: Row = { ...r, source: { ...r.source, value: Buffer.from(JSON.stringify({ schema, payload: { before: null, after: { qty: 3 }, op: 'c' } })) } }
  assert.deepEqual(added(planEvolution(table, [event], { envelope: 'debezium' })), [['qty', 'smallint', 'Connect schema']])
})

test('field names no column can have: their rows are refused with RECORD_COLUMN, the rest still evolves', () => {
  const long = 'x'.repeat(64)
  assert.equal(columnNameProblem('x'.repeat(63)), undefined)
  assert.match(columnNameProblem(long) ?? '', /64 bytes long/)
  assert.match(columnNameProblem('é'.repeat(32)) ?? '', /64 bytes/)
  assert.match(columnNameProblem('') ?? '', /empty/)
  assert.match(columnNameProblem('a\u0000b') ?? '', /NUL/)
  const p = plan([{ id: 1, [long]: 1, ok: 1 }, { id: 2, ok: 2 }])
  assert.deepEqual(added(p), [['ok', 'bigint', 'values']])
  assert.equal(p.refused.length, 1)
  assert.equal(p.refused[0]?.error.code, 'RECORD_COLUMN')
  assert.equal(p.refused[0]?.row.source.offset, '0')
  assert.match(p.refused[0]?.error.message ?? '', /cannot become a column \(autoEvolve\)/)
})

test('the ALTER quotes every name and adds only missing columns, nullable', () => {
  const sql = addColumnsSql('"s"."t"', [{ name: 'a"b c', type: 'jsonb', from: 'values' }, { name: 'Score', type: 'numeric', from: 'values' }])
  assert.equal(sql, 'ALTER TABLE "s"."t" ADD COLUMN IF NOT EXISTS "a""b c" jsonb, ADD COLUMN IF NOT EXISTS "Score" numeric')
})
