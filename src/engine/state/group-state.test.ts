import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exactNumber, isExactNumber, parseJson } from '../exact-number.ts'
import { foldWindowedBatch, type TimedRow } from './fold-batch.ts'
import { type AggregationSpec, type GroupState, parseGroupKeyText, emptyGroupState, foldRow, groupKeyText, groupValues, groupStateFromJson, groupStateToJson, mergeGroupStates, mergeStateMaps, stateKey, stateRow } from './group-state.ts'

const AGGS: AggregationSpec[] = [
  { name: 'n', fn: 'count' },
  { name: 'total', fn: 'sum', field: 'amount' },
  { name: 'mean', fn: 'avg', field: 'amount' },
  { name: 'lo', fn: 'min', field: 'amount' },
  { name: 'hi', fn: 'max', field: 'at' },
]
const W = { start: 0, end: 300_000 }

test('state keys are canonical text of the group values and the window', () => {
  assert.equal(stateKey(['a', 1], W), '["a",1]@0/300000')
  assert.equal(stateKey(['a', 1], null), '["a",1]')
  const odd = [new Date(0), 5n, exactNumber('9007199254740993'), null, '5n', { a: [1] }, true]
  assert.equal(stateKey(odd, { start: -300_000, end: 0 }), '[{"time":"1970-01-01T00:00:00.000Z"},{"bigint":"5"},9007199254740993,null,"5n",{"json":"{\\"a\\":[1]}"},true]@-300000/0')
  assert.deepEqual(parseGroupKeyText(groupKeyText(odd)), odd, 'the key text reads back to the same values')
  const exact = parseGroupKeyText(groupKeyText([exactNumber('9007199254740993')]))[0]
  assert.ok(isExactNumber(exact) && exact.rawJSON === '9007199254740993')
  assert.notEqual(groupKeyText([1]), groupKeyText(['1']), 'a number and a string are different groups')
  assert.notEqual(groupKeyText([5n]), groupKeyText(['5n']), 'a bigint and its text too')
  assert.deepEqual(parseGroupKeyText(groupKeyText([undefined])), [null])
})

test('a state round-trips through JSON text exactly, and its row has the group, window and results', () => {
  let s = emptyGroupState(['eu'], W, AGGS)
  s = foldRow(s, { amount: exactNumber('12345678901234567890.5'), at: new Date('2026-01-01T00:00:01Z') }, AGGS)
  s = foldRow(s, { amount: '0.5', at: new Date('2026-01-01T00:00:00Z') }, AGGS)
  s = foldRow(s, { amount: null }, AGGS)
  const back = groupStateFromJson(parseJson(JSON.stringify(groupStateToJson(s))))
  assert.deepEqual(groupStateToJson(back), groupStateToJson(s))
  const row = stateRow(back, ['region'], AGGS)
  assert.deepEqual(row, {
    region: 'eu',
    window_start: new Date(0),
    window_end: new Date(300_000),
    n: 3,
    total: '12345678901234567891',
    mean: 12345678901234567891 / 2,
    lo: '0.5',
    hi: new Date('2026-01-01T00:00:01Z'),
  })
  assert.throws(() => groupStateFromJson({ group: '["eu"]', window: 'nope', partials: [] }), /unreadable window/)
  assert.throws(() => groupStateFromJson({ group: '["eu"]', window: null }), /partials list/)
})

test('a group column named __proto__ is a column, not the prototype', () => {
  const row = stateRow(emptyGroupState(['x'], null, [{ name: 'n', fn: 'count' }]), ['__proto__'], [{ name: 'n', fn: 'count' }])
  assert.ok(Object.hasOwn(row, '__proto__'))
  assert.equal(Object.getPrototypeOf(row), Object.prototype)
})

test('states of different keys do not merge', () => {
  assert.throws(() => mergeGroupStates(emptyGroupState(['a'], W, AGGS), emptyGroupState(['b'], W, AGGS)), /different keys/)
})

test('two workers: partitions folded separately, in any assignment, merge to the state of one worker folding all', () => {
  const spec = { groupBy: ['k'], aggregations: AGGS, window: { durationMs: 10, slideMs: 5 } }
  let seed = 3
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  }
  const all: TimedRow<number>[] = Array.from({ length: 200 }, (_, i) => ({
    record: i,
    values: { k: ['a', 'b', 'c'][rand(3)], amount: rand(4) === 0 ? null : (rand(2000) - 1000) / 100, at: new Date(rand(100)) },
    eventTimeMs: rand(60) - 20,
  }))
  const toJson = (m: Map<string, GroupState>) => Object.fromEntries([...m].map(([k, s]) => [k, groupStateToJson(s)]).sort(([a], [b]) => String(a).localeCompare(String(b))))
  const whole = toJson(foldWindowedBatch(all, spec, 10, 'update').states)
  for (let round = 0; round < 20; round++) {
    // Four partitions; each batch of a partition runs on worker 1 or 2; the store merges what each commits.
    const store = new Map<string, GroupState>()
    const partitions = [0, 1, 2, 3].map((p) => all.filter((r) => r.record % 4 === p))
    for (const part of partitions) {
      const cut = rand(part.length + 1)
      for (const slice of [part.slice(0, cut), part.slice(cut)]) {
        const viaJson = new Map([...foldWindowedBatch(slice, spec, 10, 'update').states].map(([k, s]) => [k, groupStateFromJson(parseJson(JSON.stringify(groupStateToJson(s))))]))
        mergeStateMaps(store, viaJson)
      }
    }
    assert.deepEqual(toJson(store), whole)
  }
})

test('group values and folded inputs may be field paths (append mode and sessions read them per row)', () => {
  const row = { order: { customer: 'a', total: 5 }, 'x.y': 'literal', x: { y: 'nested' } }
  assert.deepEqual(groupValues(row, ['order.customer', 'x.y', 'order.none']), ['a', 'literal', undefined])
  const aggregations: AggregationSpec[] = [{ name: 'total', fn: 'sum', field: 'order.total' }]
  const folded = foldRow(emptyGroupState(['a'], null, aggregations), row, aggregations)
  assert.deepEqual(stateRow(folded, ['customer'], aggregations), { customer: 'a', total: '5' })
})
