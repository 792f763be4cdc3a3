import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isoFromMs } from './iso-time.ts'

test('isoFromMs matches Date.prototype.toISOString', () => {
  for (const ms of [0, 1, 999, 86_399_999, 86_400_000, 1764000000123, 951782400000, 253402300799999, -1, 253402300800000, 1.5, 1764000000123.9, -62198755200000]) {
    assert.equal(isoFromMs(ms), new Date(ms).toISOString(), String(ms))
  }
  for (let i = 0; i < 2000; i++) {
    const ms = Math.random() * 4102444800000
    assert.equal(isoFromMs(ms), new Date(ms).toISOString())
  }
  assert.equal(isoFromMs(Number.NaN), 'invalid date')
})
