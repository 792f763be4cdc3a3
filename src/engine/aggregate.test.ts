import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Row, RowValues } from '../api/record.ts'
import { type AggregateSpec, aggregateColumnTypes, aggregateKey, aggregateRows, mergeRules } from './aggregate.ts'
import { addDecimal, compareDecimal, decimalText, toDecimal } from './decimal.ts'
import { parseJson } from './exact-number.ts'

function rows(list: readonly RowValues[]): Row[] {
  return list.map((values, i) => ({
    values,
    source: { partition: 't/0', topic: 't', partitionNumber: 0, offset: String(i), key: null, value: Buffer.from(JSON.stringify(values, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))), timestamp: 0, headers: [] },
  }))
}

const ALL: AggregateSpec = {
  groupBy: ['k'],
  aggregations: { n: { fn: 'count' }, nv: { fn: 'count', field: 'v' }, s: { fn: 'sum', field: 'v' }, lo: { fn: 'min', field: 'v' }, hi: { fn: 'max', field: 'v' }, mean: { fn: 'avg', field: 'v' } },
}

test('decimals: parse, add exactly, compare, print', () => {
  const sum = [0.1, 0.2, '1e-3', -5n, '  7.50 '].map((v) => toDecimal(v)).reduce((a, b) => (a && b ? addDecimal(a, b) : null))
  assert.ok(sum)
  assert.equal(decimalText(sum), '2.801')
  assert.equal(decimalText(toDecimal(1e21) ?? { digits: 0n, scale: 0 }), '1000000000000000000000')
  assert.equal(decimalText(toDecimal('-0.50') ?? { digits: 0n, scale: 0 }), '-0.5')
  for (const bad of ['abc', '', '.', '1e99999', Number.NaN, Infinity, true, null, {}]) assert.equal(toDecimal(bad), null, String(bad))
  assert.ok(compareDecimal(toDecimal('9') as never, toDecimal('10') as never) < 0)
})

test('each function per group, in first-seen order; the first record represents its group', () => {
  const input = rows([
    { k: 'a', v: 1 },
    { k: 'b', v: 10 },
    { k: 'a', v: 2.5 },
    { k: 'a', v: null },
    { k: 'b', v: '4' },
    { k: 'a' },
  ])
  const out = aggregateRows(input, ALL)
  assert.deepEqual(out.dead, [])
  assert.deepEqual(
    out.rows.map((r) => r.values),
    [
      { k: 'a', n: 4, nv: 2, s: '3.5', lo: 1, hi: 2.5, mean: 1.75, mean__sum: '3.5', mean__count: 2 },
      { k: 'b', n: 2, nv: 2, s: '14', lo: '4', hi: 10, mean: 7, mean__sum: '14', mean__count: 2 },
    ],
  )
  assert.equal(out.rows[0]?.source, input[0]?.source)
  assert.equal(out.rows[1]?.source, input[1]?.source)
  assert.deepEqual(out.members.get(out.rows[0] as Row)?.map((s) => s.offset), ['0', '2', '3', '5'])
  assert.deepEqual(out.members.get(out.rows[1] as Row)?.map((s) => s.offset), ['1', '4'])
})

test('nulls: a group whose values are all null has count 0 and null sum/min/max/avg', () => {
  const out = aggregateRows(rows([{ k: 'x', v: null }, { k: 'x' }]), ALL)
  assert.deepEqual(out.rows.map((r) => r.values), [{ k: 'x', n: 2, nv: 0, s: null, lo: null, hi: null, mean: null, mean__sum: null, mean__count: 0 }])
})

test('sums are exact decimals (no floating drift), bigints included', () => {
  const spec: AggregateSpec = { groupBy: ['k'], aggregations: { s: { fn: 'sum', field: 'v' } } }
  const out = aggregateRows(rows([{ k: 1, v: 0.1 }, { k: 1, v: 0.2 }, { k: 1, v: 9007199254740993n }]), spec)
  assert.equal(out.rows[0]?.values.s, '9007199254740993.3')
})

test('min/max compare numbers numerically and text as text', () => {
  const spec: AggregateSpec = { groupBy: ['k'], aggregations: { lo: { fn: 'min', field: 'v' }, hi: { fn: 'max', field: 'v' } } }
  const out = aggregateRows(rows([{ k: 1, v: 9 }, { k: 1, v: 10 }, { k: 2, v: 'pear' }, { k: 2, v: 'apple' }]), spec)
  assert.deepEqual(out.rows.map((r) => r.values), [
    { k: 1, lo: 9, hi: 10 },
    { k: 2, lo: 'apple', hi: 'pear' },
  ])
})

test('groups by several columns; values of different JSON types are different groups', () => {
  const spec: AggregateSpec = { groupBy: ['a', 'b'], aggregations: { n: { fn: 'count' } } }
  const out = aggregateRows(rows([{ a: 1, b: 'x' }, { a: 1, b: 'y' }, { a: 1, b: 'x' }, { a: '1', b: 'x' }]), spec)
  assert.deepEqual(out.rows.map((r) => r.values), [
    { a: 1, b: 'x', n: 2 },
    { a: 1, b: 'y', n: 1 },
    { a: '1', b: 'x', n: 1 },
  ])
})

test('tumbling windows: epoch-aligned [start, end) per group', () => {
  const spec: AggregateSpec = { groupBy: ['k'], aggregations: { n: { fn: 'count' } }, window: { column: 'ts', duration: 60_000 } }
  const out = aggregateRows(
    rows([
      { k: 'a', ts: '2026-01-01T00:00:00Z' },
      { k: 'a', ts: '2026-01-01T00:00:59.999Z' },
      { k: 'a', ts: '2026-01-01T00:01:00Z' },
      { k: 'b', ts: Date.UTC(2026, 0, 1, 0, 0, 30) },
    ]),
    spec,
  )
  const t = (iso: string) => new Date(iso)
  assert.deepEqual(out.rows.map((r) => r.values), [
    { k: 'a', window_start: t('2026-01-01T00:00:00Z'), window_end: t('2026-01-01T00:01:00Z'), n: 2 },
    { k: 'a', window_start: t('2026-01-01T00:01:00Z'), window_end: t('2026-01-01T00:02:00Z'), n: 1 },
    { k: 'b', window_start: t('2026-01-01T00:00:00Z'), window_end: t('2026-01-01T00:01:00Z'), n: 1 },
  ])
  assert.deepEqual(aggregateKey(spec), ['k', 'window_start'])
})

test('rows that cannot be aggregated are dead letters and count nowhere else', () => {
  const spec: AggregateSpec = { groupBy: ['k'], aggregations: { s: { fn: 'sum', field: 'v' }, hi: { fn: 'max', field: 'v' } }, window: { column: 'ts', duration: 1000 } }
  const out = aggregateRows(
    rows([
      { k: 'a', v: 1, ts: 5 },
      { v: 1, ts: 5 },
      { k: null, v: 1, ts: 5 },
      { k: 'a', v: 'lots', ts: 5 },
      { k: 'a', v: 2 },
      { k: 'a', v: { x: 1 }, ts: 5 },
    ]),
    spec,
  )
  assert.deepEqual(out.rows.map((r) => r.values.s), ['1'])
  assert.deepEqual(
    out.dead.map((d) => [d.record.offset, d.code]),
    [
      ['1', 'RECORD_TRANSFORM'],
      ['2', 'RECORD_TRANSFORM'],
      ['3', 'RECORD_TRANSFORM'],
      ['4', 'RECORD_EVENT_TIME'],
      ['5', 'RECORD_TRANSFORM'],
    ],
  )
  assert.match(out.dead[0]?.reason ?? '', /group column "k" is missing/)
  assert.match(out.dead[2]?.reason ?? '', /sum of "v" needs a number, got "lots"/)
})

test('merge rules and the created table columns name the hidden avg pair', () => {
  assert.deepEqual(mergeRules(ALL), { n: 'count', nv: 'count', s: 'sum', lo: 'min', hi: 'max', mean__sum: 'sum', mean__count: 'count', mean: 'avg' })
  assert.deepEqual(aggregateColumnTypes({ ...ALL, window: { column: 'ts', duration: 1000 } }), {
    window_start: 'timestamptz',
    window_end: 'timestamptz',
    n: 'bigint',
    nv: 'bigint',
    s: 'numeric',
    mean: 'double precision',
    mean__sum: 'numeric',
    mean__count: 'bigint',
  })
  assert.deepEqual(aggregateKey(ALL), ['k'])
  assert.deepEqual(aggregateRows([], ALL), { rows: [], members: new Map(), dead: [] })
})

test('exact numbers: sums, min/max and group keys keep every digit', () => {
  const values = [
    parseJson('{"id": 9007199254740993, "amount": 12345678901234567890.12345678901234567890}'),
    parseJson('{"id": 9007199254740993, "amount": 0.00000000000000000001}'),
    parseJson('{"id": 9007199254740992, "amount": 1}'),
  ] as RowValues[]
  const spec: AggregateSpec = { groupBy: ['id'], aggregations: { total: { fn: 'sum', field: 'amount' }, top: { fn: 'max', field: 'amount' }, n: { fn: 'count' } } }
  const out = aggregateRows(rows(values), spec)
  assert.equal(out.dead.length, 0)
  assert.deepEqual(
    out.rows.map((r) => [JSON.stringify(r.values.id), r.values.total, JSON.stringify(r.values.top), r.values.n]),
    [
      ['9007199254740993', '12345678901234567890.12345678901234567891', '12345678901234567890.12345678901234567890', 2],
      ['9007199254740992', '1', '1', 1],
    ],
  )
})

test('sliding windows: a record is in every window that covers it; windows the watermark may have closed are left out', () => {
  const spec: AggregateSpec = { groupBy: ['k'], aggregations: { n: { fn: 'count' } }, window: { column: 't', duration: 10_000, slide: 5_000 } }
  const iso = (ms: number): string => new Date(ms).toISOString()
  const batch = rows([{ k: 'a', t: iso(7_000) }, { k: 'a', t: iso(12_000) }])
  const at = (r: Row): string => `${(r.values.window_start as Date).getTime()}:${String(r.values.n)}`
  assert.deepEqual(aggregateRows(batch, spec).rows.map(at), ['0:1', '5000:2', '10000:1'])
  // Update mode under a watermark of 10 s: [0, 10 s) may be closed; the record at 7 s counts only in [5 s, 15 s).
  assert.deepEqual(aggregateRows(batch, spec, 10_000).rows.map(at), ['5000:2', '10000:1'])
  const agg = aggregateRows(batch, spec)
  assert.deepEqual([...new Set([...agg.members.values()].flat())].length, 2, 'two records, in three rows')
})

test('sessions within a batch (what sluice test shows): overlapping or touching sessions of a group merge', () => {
  const spec: AggregateSpec = { groupBy: ['k'], aggregations: { n: { fn: 'count' } }, session: { column: 't', gap: 5_000 } }
  const iso = (ms: number): string => new Date(ms).toISOString()
  const batch = rows([{ k: 'a', t: iso(20_000) }, { k: 'a', t: iso(0) }, { k: 'b', t: iso(1_000) }, { k: 'a', t: iso(5_000) }, { k: 'a', t: iso(11_000) }])
  const got = aggregateRows(batch, spec).rows.map((r) => `${String(r.values.k)} ${(r.values.window_start as Date).getTime()}-${(r.values.window_end as Date).getTime()} ${String(r.values.n)}`)
  // a: 0 and 5 s touch ([0, 5 s) and [5 s, 10 s)): [0, 10 s); 11 s alone; 20 s alone. b: [1 s, 6 s).
  assert.deepEqual(got, ['a 0-10000 2', 'a 11000-16000 1', 'a 20000-25000 1', 'b 1000-6000 1'])
})

test('group, input and window columns may be field paths; a group column is named by its path', () => {
  const spec: AggregateSpec = { groupBy: ['order.customer'], aggregations: { n: { fn: 'count' }, total: { fn: 'sum', field: 'order.lines[0].amount' } }, window: { column: 'meta.at', duration: 60_000 } }
  const at = '2026-01-01T00:00:30Z'
  const out = aggregateRows(
    rows([
      { order: { customer: 'a', lines: [{ amount: 2 }] }, meta: { at } },
      { order: { customer: 'a', lines: [{ amount: 3 }] }, meta: { at } },
      { order: { customer: 'b', lines: [] }, meta: { at } },
      { order: {}, meta: { at } },
    ]),
    spec,
  )
  assert.deepEqual(
    out.rows.map((r) => [r.values['order.customer'], r.values['n'], r.values['total']]),
    [
      ['a', 2, '5'],
      ['b', 1, null],
    ],
  )
  assert.deepEqual(out.dead.map((d) => d.reason), ['aggregate: group column "order.customer" is missing (a null key cannot be merged into the table)'])
})
