import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TriggerPolicy } from './trigger.ts'

test('processing time: waits for the next tick, starts at once when the batch overran', () => {
  const t = new TriggerPolicy({ type: 'processingtime', intervalMs: 1000 })
  assert.equal(t.delayBeforeNext(10_500), 0, 'first batch starts at once')
  t.startTick(10_500)
  assert.equal(t.delayBeforeNext(10_700), 300, 'fast batch: wait until the tick at 11000')
  t.startTick(11_000)
  assert.equal(t.delayBeforeNext(13_400), 0, 'slow batch (2.4 s): next starts at once, no queued ticks')
  t.startTick(13_400)
  assert.equal(t.delayBeforeNext(13_500), 500, 'ticks stay aligned on interval boundaries (Spark)')
})

test('once and availablenow are bounded; continuous polls with backoff', () => {
  assert.equal(new TriggerPolicy({ type: 'once' }).single, true)
  assert.equal(new TriggerPolicy({ type: 'availablenow' }).bounded, true)
  const c = new TriggerPolicy({ type: 'continuous' })
  assert.equal(c.bounded, false)
  assert.equal(c.delayBeforeNext(0), 0)
  assert.ok(c.idleDelay(0, 0) < c.idleDelay(3, 0))
  assert.ok(c.idleDelay(100, 0) <= 1000)
})
