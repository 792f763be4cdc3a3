import assert from 'node:assert/strict'
import { test } from 'node:test'
import { combineWatermarks, isEventLate, isWindowClosed, isWindowLate, nextWatermark, splitByLateness } from './lateness.ts'
import { assignWindows } from './windows.ts'

const MIN = 60_000
const at = (hhmm: string): number => Date.parse(`2026-01-01T${hhmm}:00Z`)

test("the programming guide's watermark: after 12:14 is seen with a 10 minute delay, the next batch's watermark is 12:04", () => {
  assert.equal(nextWatermark(null, at('12:14'), 10 * MIN), at('12:04'))
  assert.equal(nextWatermark(null, null, 10 * MIN), null, 'no event time seen: still no watermark')
  assert.equal(nextWatermark(at('12:04'), null, 10 * MIN), at('12:04'), 'an empty batch keeps it')
})

test('the watermark never moves backwards', () => {
  assert.equal(nextWatermark(at('12:04'), at('12:08'), 10 * MIN), at('12:04'))
  assert.equal(nextWatermark(at('12:04'), at('12:15'), 10 * MIN), at('12:05'))
})

test('several inputs: min (the default) waits for the slowest, and for an input without a watermark; max takes the fastest', () => {
  assert.equal(combineWatermarks(null, [at('12:04'), at('12:10')]), at('12:04'))
  assert.equal(combineWatermarks(null, [at('12:04'), null]), null, 'an input without data holds the watermark back')
  assert.equal(combineWatermarks(at('12:00'), [at('12:04'), null]), at('12:00'))
  assert.equal(combineWatermarks(null, [at('12:04'), at('12:10')], 'max'), at('12:10'))
  assert.equal(combineWatermarks(null, [at('12:04'), null], 'max'), at('12:04'))
  assert.equal(combineWatermarks(at('12:06'), [at('12:04'), at('12:10')]), at('12:06'), 'never backwards')
  assert.equal(combineWatermarks(at('12:06'), []), at('12:06'))
})

test('update and append: input is late for a window when the window END is <= the watermark (not its event time)', () => {
  const w = { start: at('12:00'), end: at('12:05') }
  for (const mode of ['update', 'append'] as const) {
    assert.equal(isWindowLate(w, null, mode), false, 'no watermark yet')
    assert.equal(isWindowLate(w, at('12:04'), mode), false, 'event 12:01 <= watermark 12:04 still counts: its window is open')
    assert.equal(isWindowLate(w, at('12:05') - 1, mode), false)
    assert.equal(isWindowLate(w, at('12:05'), mode), true, 'end == watermark is late')
    assert.equal(isWindowLate(w, at('12:06'), mode), true)
  }
})

test('complete: the watermark drops nothing', () => {
  assert.equal(isWindowLate({ start: at('12:00'), end: at('12:05') }, at('13:00'), 'complete'), false)
})

test('sliding: a record can be late for its older windows and on time for its newer ones', () => {
  const windows = assignWindows(at('12:07'), { durationMs: 10 * MIN, slideMs: 5 * MIN })
  const split = splitByLateness(windows, at('12:10'), 'update')
  assert.deepEqual(split.late, [{ start: at('12:00'), end: at('12:10') }])
  assert.deepEqual(split.onTime, [{ start: at('12:05'), end: at('12:15') }])
  assert.deepEqual(splitByLateness(windows, at('12:10'), 'complete').late, [])
  assert.equal(splitByLateness(windows, at('12:15'), 'append').onTime.length, 0)
})

test('append: a window closes once the watermark reaches its end', () => {
  const w = { start: at('12:00'), end: at('12:10') }
  assert.equal(isWindowClosed(w, null), false)
  assert.equal(isWindowClosed(w, at('12:09')), false)
  assert.equal(isWindowClosed(w, at('12:10')), true)
  assert.equal(isWindowClosed(w, at('12:11')), true, "the guide's 12:00-12:10 window is final at watermark 12:11")
})

test('a plain event time is late at or below the watermark', () => {
  assert.equal(isEventLate(at('12:04'), at('12:04')), true)
  assert.equal(isEventLate(at('12:04') + 1, at('12:04')), false)
  assert.equal(isEventLate(0, null), false)
})
