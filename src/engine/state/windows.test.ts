import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type TimeWindow, type WindowSpec, assignWindows, lastWindowStart, parseWindowKey, windowKey, windowSpecProblem } from './windows.ts'

const MIN = 60_000
const at = (hhmm: string): number => Date.parse(`2026-01-01T${hhmm}:00Z`)
const show = (ws: TimeWindow[]): string[] => ws.map((w) => `${new Date(w.start).toISOString().slice(11, 16)}-${new Date(w.end).toISOString().slice(11, 16)}`)

test('tumbling: one epoch-aligned window, start inclusive, end exclusive', () => {
  const spec = { durationMs: 5 * MIN }
  assert.deepEqual(show(assignWindows(at('12:00'), spec)), ['12:00-12:05'], 'the start belongs to the window')
  assert.deepEqual(show(assignWindows(at('12:05') - 1, spec)), ['12:00-12:05'])
  assert.deepEqual(show(assignWindows(at('12:05'), spec)), ['12:05-12:10'], 'the end belongs to the next window')
})

test("sliding: Spark's analyzer example (12 min windows, 5 min slide, start 0 and 2 min) at 12:05", () => {
  assert.deepEqual(show(assignWindows(at('12:05'), { durationMs: 12 * MIN, slideMs: 5 * MIN })), ['11:55-12:07', '12:00-12:12', '12:05-12:17'])
  // 11:52-12:04 is a candidate that ends before 12:05: filtered out, as Spark's Filter does.
  assert.deepEqual(show(assignWindows(at('12:05'), { durationMs: 12 * MIN, slideMs: 5 * MIN, startTimeMs: 2 * MIN })), ['11:57-12:09', '12:02-12:14'])
})

test("sliding: the programming guide's word count (10 min windows every 5 min): 12:07 is in 12:00-12:10 and 12:05-12:15", () => {
  assert.deepEqual(show(assignWindows(at('12:07'), { durationMs: 10 * MIN, slideMs: 5 * MIN })), ['12:00-12:10', '12:05-12:15'])
  assert.deepEqual(show(assignWindows(at('12:05'), { durationMs: 10 * MIN, slideMs: 5 * MIN })), ['12:00-12:10', '12:05-12:15'])
  assert.deepEqual(show(assignWindows(at('12:10') - 1, { durationMs: 10 * MIN, slideMs: 5 * MIN })), ['12:00-12:10', '12:05-12:15'])
})

test('negative event times (before 1970) use a floored modulo, so the window covers the time', () => {
  const spec = { durationMs: 5 * MIN }
  assert.deepEqual(assignWindows(-1, spec), [{ start: -5 * MIN, end: 0 }])
  assert.deepEqual(assignWindows(-5 * MIN, spec), [{ start: -5 * MIN, end: 0 }], 'a start is in its own window')
  assert.deepEqual(assignWindows(-5 * MIN - 1, spec), [{ start: -10 * MIN, end: -5 * MIN }])
  assert.equal(lastWindowStart(-1, 1000), -1000)
  assert.equal(lastWindowStart(-1000, 1000), -1000)
  // (t - startTime) % slide is negative here; a truncating modulo (JS %, Java %) alone would put the
  // last start at 2 min, after the time.
  assert.deepEqual(assignWindows(-1, { durationMs: 10 * MIN, slideMs: 5 * MIN, startTimeMs: 2 * MIN }), [
    { start: -8 * MIN, end: 2 * MIN },
    { start: -3 * MIN, end: 7 * MIN },
  ])
})

test('startTime shifts the alignment, also negatively', () => {
  assert.deepEqual(show(assignWindows(at('12:01'), { durationMs: 5 * MIN, startTimeMs: 2 * MIN })), ['11:57-12:02'])
  assert.deepEqual(show(assignWindows(at('12:02'), { durationMs: 5 * MIN, startTimeMs: 2 * MIN })), ['12:02-12:07'])
  assert.deepEqual(show(assignWindows(at('12:02'), { durationMs: 5 * MIN, startTimeMs: -2 * MIN })), ['11:58-12:03'])
  assert.deepEqual(show(assignWindows(at('12:03'), { durationMs: 5 * MIN, startTimeMs: -2 * MIN })), ['12:03-12:08'])
})

/** Every window of the spec's grid that covers t, by enumeration: the definition the formula must meet. */
function byEnumeration(t: number, spec: Required<WindowSpec>): TimeWindow[] {
  const out: TimeWindow[] = []
  const from = Math.floor((t - spec.durationMs - spec.startTimeMs) / spec.slideMs) - 1
  for (let k = from; k * spec.slideMs + spec.startTimeMs <= t; k++) {
    const start = k * spec.slideMs + spec.startTimeMs
    if (start <= t && t < start + spec.durationMs) out.push({ start, end: start + spec.durationMs })
  }
  return out
}

test('assignWindows equals the enumeration of covering windows (seeded sweep, negative times, odd ratios)', () => {
  let seed = 12
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  }
  const specs: Required<WindowSpec>[] = [
    { durationMs: 300, slideMs: 300, startTimeMs: 0 },
    { durationMs: 300, slideMs: 100, startTimeMs: 0 },
    { durationMs: 300, slideMs: 70, startTimeMs: 13 },
    { durationMs: 250, slideMs: 100, startTimeMs: -99 },
    { durationMs: 7, slideMs: 3, startTimeMs: -2 },
    { durationMs: 1, slideMs: 1, startTimeMs: 0 },
  ]
  for (const spec of specs) {
    for (let i = 0; i < 400; i++) {
      const t = next(4000) - 2000
      assert.deepEqual(assignWindows(t, spec), byEnumeration(t, spec), `t=${t} spec=${JSON.stringify(spec)}`)
    }
  }
})

test('a record is in ceil(duration / slide) windows when the slide divides the duration, else in floor or ceil of it', () => {
  for (let t = -50; t < 50; t++) assert.equal(assignWindows(t, { durationMs: 30, slideMs: 10 }).length, 3)
  const counts = new Set<number>()
  for (let t = -50; t < 50; t++) counts.add(assignWindows(t, { durationMs: 25, slideMs: 10 }).length)
  assert.deepEqual([...counts].sort(), [2, 3])
})

test("window spec checks are Spark's: positive duration and slide, slide <= duration, |startTime| < slide", () => {
  assert.equal(windowSpecProblem({ durationMs: 5 * MIN }), null)
  assert.equal(windowSpecProblem({ durationMs: 10 * MIN, slideMs: 5 * MIN, startTimeMs: -4 * MIN }), null)
  assert.match(windowSpecProblem({ durationMs: 0 }) ?? '', /duration .* greater than 0/)
  assert.match(windowSpecProblem({ durationMs: 10, slideMs: 0 }) ?? '', /slide .* greater than 0/)
  assert.match(windowSpecProblem({ durationMs: 10, slideMs: 20 }) ?? '', /at most the window duration/)
  assert.match(windowSpecProblem({ durationMs: 10, slideMs: 5, startTimeMs: 5 }) ?? '', /startTime .* less than the slide/)
  assert.match(windowSpecProblem({ durationMs: 10, slideMs: 5, startTimeMs: -5 }) ?? '', /startTime .* less than the slide/)
  assert.match(windowSpecProblem({ durationMs: 1.5 }) ?? '', /whole number/)
  assert.equal(windowSpecProblem({ durationMs: 1000, slideMs: 1 }), null, 'a record in 1000 windows is allowed')
  assert.match(windowSpecProblem({ durationMs: 86_400_000, slideMs: 1000 }) ?? '', /a record would be in 86400 windows .* at most 1000/)
})

test('window keys round-trip, negative bounds included', () => {
  for (const w of [{ start: 0, end: 300_000 }, { start: -300_000, end: 0 }, { start: -7, end: -2 }]) {
    assert.deepEqual(parseWindowKey(windowKey(w)), w)
  }
  assert.equal(parseWindowKey('5/5'), null, 'an empty window is not one')
  assert.equal(parseWindowKey('x/5'), null)
})
