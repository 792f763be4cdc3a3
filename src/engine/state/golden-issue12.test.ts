/**
 * Golden test for issue 12: a 55-event input, a 10-minute watermark and 5-minute tumbling windows,
 * where Spark counts 48 records in update mode and 55 in complete, and Sluice's old rule (drop a
 * record when its EVENT TIME is <= the watermark) counted 36, with 11 of 21 windows different.
 *
 * The input is built so that every number can be derived by hand. Times are minutes after
 * 2026-01-01T12:00Z (epoch-aligned: a multiple of 5 minutes); window k is [5k, 5k+5), k = 0..20.
 * Batch 1 has events 0, 4, 6, 12, 17. Batch b = 2..11 has, out of order:
 *   fresh     5b+10 and 5b+12 (window b+2; 5b+12 is the batch's maximum),
 *   semi-late 5b-4            (window b-1: event time <= watermark, window end 5b > watermark),
 *   late      5b-14, b = 4..10 (window b-3: end 5b-10 <= watermark, and <= the previous batch's
 *             watermark 5b-8 too, so Spark >= 3.4 drops them also when batches run back to back).
 * Batch 12 has semi-late 55 and 57 (window 11; 57 equals the watermark) and fresh 60, 66, 70, 71,
 * 75, 80, 85, 90, 95, 100, 104.
 * Watermark (Spark: max event time of the previous batches minus 10, applied from the next batch):
 *   W1 none, W2 = 17-10 = 7, and W(b+1) = (5b+12)-10 = 5b+2, so W_b = 5b-3 for b = 2..12 (7, 12,
 *   ..., 57): W_b lies in window b-1, hence the semi-late events of batch b (5b-4, and 55/57 in
 *   batch 12) are <= W_b but their window ends at 5b > W_b.
 * Counts: 55 events = 5 (batch 1) + 10 x 3 (fresh, fresh, semi of batches 2-11) + 7 late + 13 (batch
 *   12). On time in every rule: 5 + 20 + 11 = 36. Semi-late: 10 + 2 = 12. Late: 7.
 *   Old Sluice rule: 36. Spark update (drop when end <= W): 36 + 12 = 48. Spark complete: 55.
 *   The semi-late events fall in windows 1..11: those 11 windows differ between the old rule and
 *   Spark; windows 0 and 12..20 do not. 21 windows in all.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type FoldedBatch, type TimedRow, closeWindows, foldWindowedBatch } from './fold-batch.ts'
import { type GroupState, mergeStateMaps, stateKey } from './group-state.ts'
import { type OutputMode, isEventLate, nextWatermark } from './lateness.ts'
import { partialResult } from './partial.ts'
import { assignWindows } from './windows.ts'
import { BATCHES, MIN, T0 } from './issue12-input.testkit.ts'

const DELAY = 10 * MIN
const WINDOW = { durationMs: 5 * MIN }

/** Hand-derived: the watermark each batch applies, in minutes (null: none yet). */
const WATERMARK = [null, 7, 12, 17, 22, 27, 32, 37, 42, 47, 52, 57]

/** Hand-derived: update mode, the rows each batch emits (window index -> running count). */
const UPDATE_EMITS: readonly Record<number, number>[] = [
  { 0: 2, 1: 1, 2: 1, 3: 1 },
  { 1: 2, 4: 2 },
  { 2: 2, 5: 2 },
  { 3: 2, 6: 2 },
  { 4: 3, 7: 2 },
  { 5: 3, 8: 2 },
  { 6: 3, 9: 2 },
  { 7: 3, 10: 2 },
  { 8: 3, 11: 2 },
  { 9: 3, 12: 2 },
  { 10: 3, 13: 2 },
  { 11: 4, 12: 3, 13: 3, 14: 2, 15: 1, 16: 1, 17: 1, 18: 1, 19: 1, 20: 2 },
]

/** Hand-derived: per batch, the late events (minutes) in update/append mode: the 5b-14 ones. */
const LATE = [[], [], [], [6], [11], [16], [21], [26], [31], [36], [], []]

/** Hand-derived final counts per window 0..20. */
const FINAL_UPDATE = [2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 4, 3, 3, 2, 1, 1, 1, 1, 1, 2]
const FINAL_COMPLETE = [2, 3, 3, 3, 4, 4, 4, 4, 3, 3, 3, 4, 3, 3, 2, 1, 1, 1, 1, 1, 2]
const FINAL_OLD_SLUICE = [2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 2, 1, 1, 1, 1, 1, 2]

/**
 * Hand-derived append mode, closing windows at each batch's commit with the watermark it commits
 * (W(b+1) = 5b+2, W13 = 104-10 = 94): window k closes when 5k+5 <= W, i.e. after batch b the
 * window b-1 (its semi-late event came in batch b, its late one comes in batch b+2, dropped); after
 * batch 12 windows 11..17 (ends 60..90 <= 94), while 18..20 stay open. Spark emits the same rows
 * one batch later (the batch, or no-data batch, that applies W(b+1)).
 */
const APPEND_EMITS: readonly Record<number, number>[] = [
  { 0: 2 },
  { 1: 2 },
  { 2: 2 },
  { 3: 2 },
  { 4: 3 },
  { 5: 3 },
  { 6: 3 },
  { 7: 3 },
  { 8: 3 },
  { 9: 3 },
  { 10: 3 },
  { 11: 4, 12: 3, 13: 3, 14: 2, 15: 1, 16: 1, 17: 1 },
]

const minutes = (ms: number | null): number | null => (ms === null ? null : (ms - T0) / MIN)
const windowIndex = (s: GroupState): number => ((s.window?.start ?? NaN) - T0) / (5 * MIN)
const count = (s: GroupState): number => partialResult(s.partials[0] as never) as number

function rows(batch: readonly number[]): TimedRow<number>[] {
  return batch.map((m) => ({ record: m, values: { ts: new Date(T0 + m * MIN).toISOString() }, eventTimeMs: T0 + m * MIN }))
}

function asTable(states: Iterable<GroupState>): Record<number, number> {
  const t: Record<number, number> = {}
  for (const s of states) t[windowIndex(s)] = count(s)
  return t
}

function finalList(table: Record<number, number>): number[] {
  return Array.from({ length: 21 }, (_, k) => table[k] ?? 0)
}

/** Runs the batches as the engine will: fold under the applied watermark, merge into state, advance the watermark. */
function run(mode: OutputMode) {
  const state = new Map<string, GroupState>()
  const spec = { groupBy: [], aggregations: [{ name: 'n', fn: 'count' as const }], window: WINDOW }
  let watermark: number | null = null
  const perBatch: { watermark: number | null; folded: FoldedBatch<number>; emitted: Record<number, number> }[] = []
  for (const batch of BATCHES) {
    const folded = foldWindowedBatch(rows(batch), spec, watermark, mode)
    mergeStateMaps(state, folded.states)
    let emitted: Record<number, number>
    const next = nextWatermark(watermark, folded.maxEventTimeMs, DELAY)
    if (mode === 'append') {
      const { closed } = closeWindows(state.values(), next)
      for (const s of closed) state.delete(stateKey(s.group, s.window))
      emitted = asTable(closed)
    } else if (mode === 'update') {
      emitted = asTable([...folded.states.keys()].map((k) => state.get(k) as GroupState))
    } else {
      emitted = asTable(state.values())
    }
    perBatch.push({ watermark, folded, emitted })
    watermark = next
  }
  return { state, perBatch }
}

test('the input has 55 events in 21 windows', () => {
  const all = BATCHES.flat()
  assert.equal(all.length, 55)
  assert.equal(new Set(all.map((m) => Math.floor(m / 5))).size, 21)
})

test('update mode, batch by batch: watermarks, emitted rows and late records are the hand-derived ones; 48 counted', () => {
  const { state, perBatch } = run('update')
  assert.deepEqual(perBatch.map((b) => minutes(b.watermark)), WATERMARK)
  perBatch.forEach((b, i) => {
    assert.deepEqual(b.emitted, UPDATE_EMITS[i], `batch ${i + 1} emits`)
    assert.deepEqual(b.folded.late.map((l) => l.record), LATE[i], `batch ${i + 1} late`)
    for (const l of b.folded.late) {
      assert.equal(l.wholly, true)
      assert.deepEqual(l.windows, assignWindows(T0 + l.record * MIN, WINDOW), 'reported with the window it belonged to')
    }
  })
  const final = finalList(asTable(state.values()))
  assert.deepEqual(final, FINAL_UPDATE)
  assert.equal(final.reduce((a, b) => a + b), 48)
})

test('complete mode: the watermark drops nothing; every batch emits the whole table; 55 counted', () => {
  const { state, perBatch } = run('complete')
  for (const b of perBatch) assert.deepEqual(b.folded.late, [])
  const totals = perBatch.map((b) => Object.values(b.emitted).reduce((a, c) => a + c, 0))
  assert.deepEqual(totals, [5, 8, 11, 15, 19, 23, 27, 31, 35, 39, 42, 55], 'running total: 5, +3 (b2, b3), +4 (b4-b10), +3 (b11), +13 (b12)')
  const final = finalList(asTable(state.values()))
  assert.deepEqual(final, FINAL_COMPLETE)
  assert.equal(final.reduce((a, b) => a + b), 55)
})

test("Sluice's old rule (event time <= watermark drops) gives 36, and differs from Spark's update result in 11 of 21 windows", () => {
  // The old rule, applied by hand: drop on the event time, then count per window.
  const table: Record<number, number> = {}
  BATCHES.forEach((batch, i) => {
    const w = WATERMARK[i] ?? null
    for (const m of batch) if (!isEventLate(T0 + m * MIN, w === null ? null : T0 + w * MIN)) table[Math.floor(m / 5)] = (table[Math.floor(m / 5)] ?? 0) + 1
  })
  const old = finalList(table)
  assert.deepEqual(old, FINAL_OLD_SLUICE)
  assert.equal(old.reduce((a, b) => a + b), 36)
  const spark = finalList(asTable(run('update').state.values()))
  const differing = old.map((n, k) => (n === spark[k] ? -1 : k)).filter((k) => k >= 0)
  assert.deepEqual(differing, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
})

test('append mode: each window emitted once with its final count when the watermark passes its end; never changed after', () => {
  const { state, perBatch } = run('append')
  perBatch.forEach((b, i) => assert.deepEqual(b.emitted, APPEND_EMITS[i], `batch ${i + 1} emits`))
  const emittedWindows = perBatch.flatMap((b) => Object.keys(b.emitted).map(Number))
  assert.equal(new Set(emittedWindows).size, emittedWindows.length, 'no window emitted twice')
  // Every emitted count is the window's final count in update mode: nothing arrives on time after closing.
  for (const b of perBatch) for (const [k, n] of Object.entries(b.emitted)) assert.equal(n, FINAL_UPDATE[Number(k)], `window ${k}`)
  assert.deepEqual(Object.keys(asTable(state.values())).map(Number).sort((a, b) => a - b), [18, 19, 20], 'windows 18-20 are still open state')
  assert.deepEqual(perBatch.map((b) => b.folded.late.map((l) => l.record)), LATE, 'append drops (reports) exactly what update drops')
})

test("Spark >= 3.4 filters late input with the previous batch's watermark when batches run back to back: the same 48 here", () => {
  // (IncrementalExecution: eventTimeWatermarkForLateEvents = the previous batch's batchWatermarkMs.)
  // No event of this input has its window end between two consecutive watermarks, so nothing changes.
  const state = new Map<string, GroupState>()
  const spec = { groupBy: [], aggregations: [{ name: 'n', fn: 'count' as const }], window: WINDOW }
  let previous: number | null = null
  let watermark: number | null = null
  for (const batch of BATCHES) {
    const folded = foldWindowedBatch(rows(batch), spec, previous, 'update')
    mergeStateMaps(state, folded.states)
    previous = watermark
    watermark = nextWatermark(watermark, folded.maxEventTimeMs, DELAY)
  }
  assert.deepEqual(finalList(asTable(state.values())), FINAL_UPDATE)
})
