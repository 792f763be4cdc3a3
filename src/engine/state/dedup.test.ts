import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exactNumber } from '../exact-number.ts'
import { type DedupInput, type DedupSpec, dedupKey, deduplicateBatch, expiredKeys, isExpired } from './dedup.ts'
import { nextWatermark } from './lateness.ts'

const MIN = 60_000
const at = (hhmm: string): number => Date.parse(`2026-01-01T${hhmm}:00Z`)
const hm = (ms: number): string => new Date(ms).toISOString().slice(11, 16)

test('dedup keys are canonical JSON of the key columns, missing as null, exact numbers verbatim', () => {
  const key = (values: Record<string, unknown>, keys: string[]): string => dedupKey(values, keys)
  assert.equal(key({ id: 1, src: 'a', x: 9 }, ['id', 'src']), '[1,"a"]')
  assert.equal(key({ id: exactNumber('9007199254740993') }, ['id', 'other']), '[9007199254740993,null]')
  assert.notEqual(key({ id: 1 }, ['id']), key({ id: '1' }, ['id']))
  assert.equal(key({ id: null }, ['id']), key({}, ['id']))
  assert.equal(key({ order: { id: 7 }, 'order.src': 'b' }, ['order.id', 'order.src']), '[7,"b"]')
})

test('withinWatermark, batch by batch (10 minute delay): late first, then duplicates in and across batches, keys kept until watermark >= event time + delay', () => {
  const spec: DedupSpec = { keys: ['id'], withinWatermark: { delayMs: 10 * MIN } }
  const state = new Map<string, number>()
  let watermark: number | null = null
  const batch = (inputs: [string, string][]) => {
    const ins: DedupInput[] = inputs.map(([key, t]) => ({ key, eventTimeMs: at(t) }))
    const r = deduplicateBatch(ins, state, spec, watermark, 0)
    for (const [k, e] of r.remember) state.set(k, e)
    const next = nextWatermark(watermark, Math.max(...ins.map((i) => i.eventTimeMs ?? 0)), 10 * MIN)
    const expired = expiredKeys(state, spec, next, 0)
    for (const k of expired) state.delete(k)
    watermark = next
    return { verdicts: r.verdicts, remember: Object.fromEntries([...r.remember].map(([k, e]) => [k, hm(e)])), expired, watermark: hm(next as number) }
  }
  assert.deepEqual(batch([['k1', '12:00'], ['k1', '12:01'], ['k2', '12:05']]), {
    verdicts: ['keep', 'duplicate', 'keep'],
    remember: { k1: '12:10', k2: '12:15' },
    expired: [],
    watermark: '11:55',
  })
  // Watermark 11:55: 11:50 is late (<=), 11:56 is not. k1 is remembered: a duplicate, and its expiry stays 12:10.
  // Next watermark 12:20 - 10 = 12:10: k1 (12:10 <= 12:10) and k3 (12:06) are forgotten, k2 (12:15) kept.
  assert.deepEqual(batch([['k1', '12:20'], ['k3', '11:50'], ['k3', '11:56']]), {
    verdicts: ['duplicate', 'late', 'keep'],
    remember: { k3: '12:06' },
    expired: ['k1', 'k3'],
    watermark: '12:10',
  })
  assert.deepEqual(batch([['k1', '12:11'], ['k2', '12:12'], ['k9', '12:10']]), {
    verdicts: ['keep', 'duplicate', 'late'],
    remember: { k1: '12:21' },
    expired: [],
    watermark: '12:10',
  })
  assert.deepEqual([...state.keys()].sort(), ['k1', 'k2'])
  assert.throws(() => deduplicateBatch([{ key: 'x' }], new Map(), spec, null, 0), /needs each input's event time/)
})

test('stateTimeout: nothing is late, every occurrence renews the key, forgotten when its timeout is before the batch time', () => {
  const spec: DedupSpec = { keys: ['id'], stateTimeoutMs: 60 * MIN }
  const state = new Map<string, number>()
  const batch = (now: number, keys: string[]) => {
    const r = deduplicateBatch(keys.map((key) => ({ key, eventTimeMs: 0 })), state, spec, at('23:59'), now)
    for (const [k, e] of r.remember) state.set(k, e)
    const expired = expiredKeys(state, spec, null, now)
    for (const k of expired) state.delete(k)
    return { verdicts: r.verdicts, expired }
  }
  assert.deepEqual(batch(0, ['a', 'a', 'b']), { verdicts: ['keep', 'duplicate', 'keep'], expired: [] }, 'an event time far below the watermark is not late here')
  assert.equal(state.get('a'), 60 * MIN)
  assert.deepEqual(batch(30 * MIN, ['a']), { verdicts: ['duplicate'], expired: [] })
  assert.equal(state.get('a'), 90 * MIN, 'a duplicate is activity: renewed')
  assert.deepEqual(batch(60 * MIN, []), { verdicts: [], expired: [] }, 'b times out only after 60 minutes: 60 < 60 is false')
  assert.deepEqual(batch(60 * MIN + 1, []), { verdicts: [], expired: ['b'] })
  assert.deepEqual(batch(90 * MIN + 1, ['a']), { verdicts: ['duplicate'], expired: [] }, 'data before timeouts: a key with data in the batch does not time out in it')
  assert.deepEqual(batch(200 * MIN, ['b']), { verdicts: ['keep'], expired: ['a'] })
})

test('isExpired: withinWatermark at expiresAt <= watermark (never without one), stateTimeout at expiresAt < now', () => {
  const ww: DedupSpec = { keys: ['id'], withinWatermark: { delayMs: 1 } }
  const st: DedupSpec = { keys: ['id'], stateTimeoutMs: 1 }
  assert.equal(isExpired(10, ww, 10, 0), true)
  assert.equal(isExpired(10, ww, 9, 0), false)
  assert.equal(isExpired(10, ww, null, 1e15), false)
  assert.equal(isExpired(10, st, null, 10), false)
  assert.equal(isExpired(10, st, null, 11), true)
})
