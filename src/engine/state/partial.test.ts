import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exactNumber, isExactNumber, parseJson } from '../exact-number.ts'
import { type AggregateFn, type Partial, compareValues, emptyPartial, foldValue, mergePartial, partialFromJson, partialResult, partialToJson } from './partial.ts'

const FNS: AggregateFn[] = ['count', 'sum', 'min', 'max', 'avg']

function foldAll(fn: AggregateFn, values: readonly unknown[], countRows = false): Partial {
  return values.reduce<Partial>((p, v) => foldValue(p, v, countRows || (v !== undefined && v !== null)), emptyPartial(fn))
}

/** JSON round trip through text, as the state table stores it (parseJson keeps long numbers exact). */
function roundTrip(p: Partial): Partial {
  return partialFromJson(parseJson(JSON.stringify(partialToJson(p))))
}

test('SQL semantics: count counts non-null values (or rows), sum/avg/min/max ignore nulls and are null when all are', () => {
  const values = [3, null, 1, undefined, 2]
  assert.equal(partialResult(foldAll('count', values)), 3)
  assert.equal(partialResult(foldAll('count', [undefined, undefined], true)), 2, 'a count without a field counts rows')
  assert.equal(partialResult(foldAll('sum', values)), '6')
  assert.equal(partialResult(foldAll('avg', values)), 2)
  assert.equal(partialResult(foldAll('min', values)), 1)
  assert.equal(partialResult(foldAll('max', values)), 3)
  for (const fn of ['sum', 'avg', 'min', 'max'] as const) assert.equal(partialResult(foldAll(fn, [null, undefined])), null, fn)
})

test('sums are exact: 0.1 + 0.2 is 0.3, and digits past 2^53 are kept through merge and JSON', () => {
  assert.equal(partialResult(foldAll('sum', [0.1, 0.2])), '0.3')
  const big = parseJson('[9007199254740993, 12345678901234567890.123456789]') as unknown[]
  assert.ok(isExactNumber(big[0]))
  const a = foldAll('sum', [big[0]])
  const b = foldAll('sum', [big[1], 1])
  const merged = roundTrip(mergePartial(roundTrip(a), roundTrip(b)))
  assert.equal(partialResult(merged), '12354686100489308884.123456789')
  assert.deepEqual(partialToJson(merged), { fn: 'sum', sum: '12354686100489308884.123456789', n: 3 })
  const avg = roundTrip(foldAll('avg', ['1.5', 2]))
  assert.deepEqual(partialToJson(avg), { fn: 'avg', sum: '3.5', n: 2 })
  assert.equal(partialResult(avg), 1.75)
})

test('min/max keep the type of their value through JSON: numbers, exact numbers, bigints, text, booleans, times', () => {
  const t1 = new Date('2026-01-01T12:00:00.123Z')
  const t2 = new Date('2026-01-01T12:00:01Z')
  assert.deepEqual(partialResult(roundTrip(foldAll('min', [t2, t1]))), t1)
  assert.equal(partialResult(roundTrip(foldAll('max', [1n, 12345678901234567890n]))), 12345678901234567890n)
  const exact = exactNumber('9007199254740993')
  const back = partialResult(roundTrip(foldAll('max', [9007199254740992, exact])))
  assert.ok(isExactNumber(back) && back.rawJSON === '9007199254740993', 'an exact number stays exact and beats its double neighbour')
  assert.equal(partialResult(roundTrip(foldAll('min', [2.5, -0.25]))), -0.25)
  assert.equal(partialResult(roundTrip(foldAll('max', ['b', 'a', 'c']))), 'c')
  assert.equal(partialResult(roundTrip(foldAll('max', [false, true]))), true)
  assert.equal(partialResult(roundTrip(foldAll('min', ['10', '9']))), '9', 'numeric text compares numerically, as aggregate.ts does')
})

test('compareValues is a total order on equal-looking values: 1, 1.0 as text and "1" are tie-broken, not equal', () => {
  assert.ok(compareValues(1, '1') !== 0)
  assert.equal(Math.sign(compareValues(1, '1')), -Math.sign(compareValues('1', 1)))
  assert.equal(compareValues(1, 1), 0)
  assert.equal(partialResult(mergePartial(foldAll('min', [1]), foldAll('min', ['1']))), partialResult(mergePartial(foldAll('min', ['1']), foldAll('min', [1]))))
})

test('merge is commutative and associative, the empty partial its identity: any split of the input gives the same result', () => {
  let seed = 7
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  }
  const pool: unknown[] = [null, 0, -3, 7, '2.5', 1e-7, exactNumber('123456789012345678901'), '0.1', 42, -0.5]
  for (let round = 0; round < 60; round++) {
    const values = Array.from({ length: 1 + rand(12) }, () => pool[rand(pool.length)])
    for (const fn of FNS) {
      const whole = partialToJson(foldAll(fn, values))
      // Split into three parts at random points, fold each, merge in several orders and groupings.
      const i = rand(values.length + 1)
      const j = i + rand(values.length - i + 1)
      const [a, b, c] = [values.slice(0, i), values.slice(i, j), values.slice(j)].map((part) => foldAll(fn, part)) as [Partial, Partial, Partial]
      const orders = [
        mergePartial(mergePartial(a, b), c),
        mergePartial(a, mergePartial(b, c)),
        mergePartial(mergePartial(c, a), b),
        mergePartial(b, mergePartial(c, a)),
        mergePartial(emptyPartial(fn), mergePartial(mergePartial(b, emptyPartial(fn)), mergePartial(a, c))),
        roundTrip(mergePartial(roundTrip(c), roundTrip(mergePartial(roundTrip(b), roundTrip(a))))),
      ]
      for (const p of orders) assert.deepEqual(partialToJson(p), whole, `${fn} of ${JSON.stringify(values)}`)
    }
  }
})

test('partials of different functions do not merge; unreadable state is refused', () => {
  assert.throws(() => mergePartial(emptyPartial('sum'), emptyPartial('avg')), /cannot merge/)
  assert.throws(() => partialFromJson({ fn: 'sum', sum: 'abc', n: 1 }), /not decimal text/)
  assert.throws(() => partialFromJson({ fn: 'sum', sum: null, n: 2 }), /null exactly when n is 0/)
  assert.throws(() => partialFromJson({ fn: 'count', n: -1 }), /count n/)
  assert.throws(() => partialFromJson({ fn: 'max', best: { t: 'time', v: 'not a time' } }), /unreadable/)
  assert.throws(() => partialFromJson({ fn: 'median' }), /unknown partial fn/)
  assert.throws(() => partialFromJson(null), /must be an object/)
  assert.throws(() => foldValue(emptyPartial('sum'), 'x', true), /needs a number/)
  assert.throws(() => foldValue(emptyPartial('min'), { a: 1 }, true), /number, text or time/)
})
