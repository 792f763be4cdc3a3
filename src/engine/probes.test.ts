import { test } from 'node:test'
import assert from 'node:assert/strict'
import { nullLogger } from '../api/component.ts'
import type { StoreControl } from '../api/store.ts'
import type { Source } from '../api/source.ts'
import { EngineEvents, type EngineEventMap } from './events.ts'
import { LAG_INTERVAL_MS, QueryProbes, TRACKER_INTERVAL_MS, lagOf, lastMeasuredLatest } from './probes.ts'

test('lagOf: offsets behind latest per partition; unknown or non-numeric partitions are left out', () => {
  assert.deepEqual(lagOf({ 't/0': '10', 't/1': '5', f: 'done' }, { 't/0': '15', 't/1': '5', 't/2': '7', f: 'done' }), { 't/0': 5, 't/1': 0 })
  assert.deepEqual(lagOf({ 't/0': '20' }, { 't/0': '15' }), { 't/0': 0 }, 'never negative')
})

function harness(latest: () => Promise<Record<string, string>>, size: () => Promise<number>) {
  let now = 0
  const events = new EngineEvents()
  const seen: { lag: EngineEventMap['source.lag'][]; size: EngineEventMap['tracker.size'][] } = { lag: [], size: [] }
  events.on((name, payload) => {
    if (name === 'source.lag') seen.lag.push(payload as EngineEventMap['source.lag'])
    if (name === 'tracker.size') seen.size.push(payload as EngineEventMap['tracker.size'])
  })
  const source = { latest } as unknown as Source
  const store = { trackerSize: size } as unknown as StoreControl
  const probes = new QueryProbes({ pipelineId: 'p', source, store, events, logger: nullLogger, countTracker: true, now: () => now })
  return { probes, seen, events, tick: (ms: number) => (now += ms) }
}

test('lag is measured at most once per interval, forced at start', async () => {
  let calls = 0
  const h = harness(async () => (calls++, { 't/0': '10' }), async () => 0)
  h.probes.lag({ 't/0': '4' }, true)
  await h.probes.settle()
  h.probes.lag({ 't/0': '6' })
  await h.probes.settle()
  assert.equal(calls, 1, 'throttled')
  h.tick(LAG_INTERVAL_MS)
  h.probes.lag({ 't/0': '10' })
  await h.probes.settle()
  assert.deepEqual(h.seen.lag.map((e) => e.lag), [{ 't/0': 6 }, { 't/0': 0 }])
})

test('tracker size: at start, at the first commit, then at most once per 30 s; failures never throw', async () => {
  let rows = 0
  let fail = false
  const h = harness(async () => ({}), async () => {
    if (fail) throw new Error('database away')
    return rows
  })
  h.probes.trackerSize(true)
  await h.probes.settle()
  rows = 1
  h.probes.trackerSize()
  await h.probes.settle()
  rows = 2
  h.probes.trackerSize()
  await h.probes.settle()
  h.tick(TRACKER_INTERVAL_MS)
  fail = true
  h.probes.trackerSize()
  await h.probes.settle()
  assert.deepEqual(h.seen.size.map((e) => e.rows), [0, 1])
})

test('a slow probe does not block the caller and is not started twice', async () => {
  let release: () => void = () => {}
  let calls = 0
  const h = harness(
    () => new Promise((resolve) => ((calls++, (release = () => resolve({ 't/0': '3' }))))),
    async () => 0,
  )
  h.probes.lag({ 't/0': '1' }, true)
  h.probes.lag({ 't/0': '1' }, true)
  assert.equal(calls, 1)
  release()
  await h.probes.settle()
  assert.deepEqual(h.seen.lag.map((e) => e.lag), [{ 't/0': 2 }])
})

test('a lag measurement carries the latest position and leaves it for the batch report', async () => {
  const h = harness(async () => ({ 't/0': '10', 't/1': '3' }), async () => 0)
  assert.equal(lastMeasuredLatest(h.events, 'p'), undefined, 'nothing before the first probe')
  h.probes.lag({ 't/0': '4' }, true)
  await h.probes.settle()
  assert.deepEqual(h.seen.lag[0]?.latest, { 't/0': '10', 't/1': '3' })
  assert.deepEqual(lastMeasuredLatest(h.events, 'p'), { 't/0': '10', 't/1': '3' })
  assert.equal(lastMeasuredLatest(h.events, 'other'), undefined)
})
