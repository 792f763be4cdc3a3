import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BatchWatermark, parseEventTime } from './watermark.ts'

test('parses ISO strings, epoch ms, epoch seconds and numeric strings', () => {
  assert.equal(parseEventTime('2026-01-01T00:00:00Z'), Date.UTC(2026, 0, 1))
  assert.equal(parseEventTime(1767225600000), 1767225600000)
  assert.equal(parseEventTime(1767225600), 1767225600000)
  assert.equal(parseEventTime('1767225600000'), 1767225600000)
  assert.equal(parseEventTime('not a time'), null)
  assert.equal(parseEventTime(null), null)
  assert.equal(parseEventTime(''), null)
})

test('a batch does not advance its own watermark; late means at or below', () => {
  const first = new BatchWatermark(null, 10_000)
  assert.equal(first.isLate(0), false, 'no watermark before any commit')
  first.observe(100_000, 't/0')
  first.observe(50_000, 't/1')
  assert.equal(first.isLate(1), false, 'still no watermark inside the same batch')
  const next = first.next()
  assert.equal(next, 90_000)
  assert.deepEqual(first.partitionMaxima(), { 't/0': 100_000, 't/1': 50_000 }, 'each partition keeps its own maximum')
  const second = new BatchWatermark(next, 10_000)
  assert.equal(second.isLate(90_000), true, 'equal to the watermark is late')
  assert.equal(second.isLate(90_001), false)
})

test('the watermark never moves backwards', () => {
  const batch = new BatchWatermark(90_000, 10_000)
  batch.observe(95_000, 't/0')
  assert.equal(batch.next(), 90_000)
  const empty = new BatchWatermark(90_000, 10_000)
  assert.equal(empty.next(), 90_000)
})
