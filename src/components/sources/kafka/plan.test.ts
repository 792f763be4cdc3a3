import { test } from 'node:test'
import assert from 'node:assert/strict'
import { nullLogger } from '../../../api/component.ts'
import { isSluiceError } from '../../../errors.ts'
import { checkStart, fitBytes, grantBytes, parseOffset, parsePartitionKey, partitionKey, planEnd, shareLimit, startOffset } from './plan.ts'

const m = (o: Record<string, number>): Map<string, bigint> => new Map(Object.entries(o).map(([k, v]) => [k, BigInt(v)]))
const obj = (g: Map<string, bigint>): Record<string, number> => Object.fromEntries([...g].map(([k, v]) => [k, Number(v)]))
const sum = (g: Map<string, bigint>): number => [...g.values()].reduce((a, b) => a + Number(b), 0)

test('partition keys round-trip, topic names may contain dots and dashes', () => {
  assert.equal(partitionKey('orders.v1-eu', 12), 'orders.v1-eu/12')
  assert.deepEqual(parsePartitionKey('orders.v1-eu/12'), { topic: 'orders.v1-eu', partition: 12 })
  for (const bad of ['nopartition', '/3', 't/x', 't/-1', 't/1.5']) {
    assert.throws(() => parsePartitionKey(bad), (e) => isSluiceError(e, 'CHECKPOINT_CORRUPT'))
  }
})

test('stored offsets must be non-negative decimal integers', () => {
  assert.equal(parseOffset('t/0', '9007199254740993'), 9007199254740993n)
  for (const bad of ['', '-1', '1e3', ' 1', 'done']) assert.throws(() => parseOffset('t/0', bad), (e) => isSluiceError(e, 'CHECKPOINT_CORRUPT'))
})

test('startingOffsets: earliest, latest (first resolution only), JSON with -2/-1', () => {
  const b = { earliest: 5n, latest: 50n }
  assert.equal(startOffset('earliest', 't', 0, b, true), 5n)
  assert.equal(startOffset('latest', 't', 0, b, true), 50n)
  assert.equal(startOffset('latest', 't', 0, b, false), 5n, 'a partition that appears later is read from its start')
  const json = { t: { '0': -2, '1': -1, '2': 17 } }
  assert.equal(startOffset(json, 't', 0, b, true), 5n)
  assert.equal(startOffset(json, 't', 1, b, true), 50n)
  assert.equal(startOffset(json, 't', 2, b, false), 17n)
  assert.equal(startOffset(json, 't', 3, b, true), 5n, 'unlisted partitions start at the earliest offset')
  assert.equal(startOffset(json, 'other', 0, b, true), 5n)
})

test('checkStart: inside the log is kept; lost records fail or warn', () => {
  const b = { earliest: 10n, latest: 20n }
  assert.equal(checkStart('t/0', 10n, b, true, nullLogger), 10n)
  assert.equal(checkStart('t/0', 20n, b, true, nullLogger), 20n)
  assert.throws(() => checkStart('t/0', 9n, b, true, nullLogger), (e) => isSluiceError(e, 'SOURCE_DATA_LOSS') && !e.retryable)
  assert.throws(() => checkStart('t/0', 21n, b, true, nullLogger), (e) => isSluiceError(e, 'SOURCE_DATA_LOSS'))
  const warned: string[] = []
  const logger = { ...nullLogger, warn: (_o: object, msg?: string) => void warned.push(msg ?? '') }
  assert.equal(checkStart('t/0', 3n, b, false, logger), 10n)
  assert.equal(checkStart('t/0', 99n, b, false, logger), 10n)
  assert.equal(warned.length, 2)
})

test('shareLimit: proportional like Spark, small lags rounded up, never above the limit', () => {
  assert.deepEqual(obj(shareLimit(m({ a: 90, b: 9, c: 1 }), 20)), { a: 18, b: 1, c: 1 })
  assert.deepEqual(obj(shareLimit(m({ a: 90, b: 9, c: 1 }), 5)), { a: 3, b: 1, c: 1 })
  assert.deepEqual(obj(shareLimit(m({ a: 10, b: 10, c: 10 }), 10)), { a: 4, b: 3, c: 3 })
  assert.deepEqual(obj(shareLimit(m({ a: 1, b: 1, c: 1, d: 5 }), 2)), { d: 1, a: 1 })
  assert.deepEqual(obj(shareLimit(m({ a: 3, b: 0 }), 10)), { a: 3 }, 'under the limit: everything')
  assert.deepEqual(obj(shareLimit(m({ a: 5 }), 0)), {})
})

test('shareLimit: the total is exactly min(limit, total lag) on many shapes', () => {
  let seed = 7
  const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % n
  for (let i = 0; i < 500; i++) {
    const lags: Record<string, number> = {}
    const parts = 1 + rnd(12)
    for (let p = 0; p < parts; p++) lags[`t/${p}`] = rnd(4) === 0 ? 0 : 1 + rnd(rnd(2) ? 10 : 100000)
    const limit = 1 + rnd(300)
    const g = shareLimit(m(lags), limit)
    const totalLag = Object.values(lags).reduce((a, b) => a + b, 0)
    assert.equal(sum(g), Math.min(limit, totalLag))
    for (const [k, v] of g) assert.ok(v >= 1n && v <= BigInt(lags[k] ?? 0), `${k}: ${v} within 1..lag`)
    const lagging = Object.values(lags).filter((l) => l > 0).length
    if (limit >= lagging) assert.equal(g.size, lagging, 'every lagging partition gets something when the limit allows')
  }
})

test('planEnd: null without lag; lists every partition; respects the limit', () => {
  assert.equal(planEnd(m({ a: 5, b: 7 }), m({ a: 5, b: 7 }), undefined), null)
  assert.deepEqual(planEnd(m({ a: 5, b: 7 }), m({ a: 9, b: 7 }), undefined), { a: '9', b: '7' })
  assert.deepEqual(planEnd(m({ a: 0, b: 0 }), m({ a: 100, b: 100 }), 10), { a: '5', b: '5' })
  assert.equal(planEnd(m({}), m({}), 10), null)
})

test('a byte budget shrinks the batch in proportion, keeps shares, and never plans nothing', () => {
  const starts = m({ 't/0': 0, 't/1': 100, 't/2': 0 })
  const latest = m({ 't/0': 1000, 't/1': 1100, 't/2': 0 })
  const perOffset = new Map([['t/0', 10_000], ['t/1', 10_000]])
  // 2,000 lagging offsets of 10 KB = 20 MB; 1 MB of budget fits 100 of them, 50 per partition.
  assert.deepEqual(planEnd(starts, latest, undefined, { maxBytes: 1_000_000, bytesPerOffset: perOffset }), { 't/0': '50', 't/1': '150', 't/2': '0' })
  // The record limit applies first, then the byte budget.
  assert.deepEqual(planEnd(starts, latest, 40, { maxBytes: 1_000_000, bytesPerOffset: perOffset }), { 't/0': '20', 't/1': '120', 't/2': '0' })
  // A budget the grant already fits changes nothing.
  assert.deepEqual(planEnd(starts, latest, undefined, { maxBytes: 10 ** 9, bytesPerOffset: perOffset }), { 't/0': '1000', 't/1': '1100', 't/2': '0' })
  // One record above the whole budget still makes a batch of one.
  const one = planEnd(starts, latest, undefined, { maxBytes: 10, bytesPerOffset: perOffset })
  assert.equal(Number(one?.['t/0']) + Number(one?.['t/1']) - 100, 1)
})

test('fitBytes: partitions of different record sizes stay within the budget', () => {
  const grant = m({ a: 5000, b: 5000, c: 3 })
  const perOffset = new Map([['a', 100], ['b', 2000], ['c', 50]])
  for (const maxBytes of [1, 999, 10_000, 123_457, 1_000_000, 9_999_999]) {
    const fitted = fitBytes(grant, { maxBytes, bytesPerOffset: perOffset })
    assert.ok(sum(fitted) >= 1, `at least one offset for ${maxBytes}`)
    if (sum(fitted) > 1) assert.ok(grantBytes(fitted, perOffset) <= maxBytes, `${maxBytes}: ${JSON.stringify(obj(fitted))}`)
    for (const [k, g] of fitted) assert.ok(g <= (grant.get(k) ?? 0n), `${k} never above its grant`)
  }
  // Without estimates (aborted-only or unknown partitions) the budget does not bind.
  assert.deepEqual(obj(fitBytes(grant, { maxBytes: 1, bytesPerOffset: new Map() })), obj(grant))
})
