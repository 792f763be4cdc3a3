// The aggregate step gives Spark's results (issue 12's golden input, state/golden-issue12.test.ts):
// 55 events, a 10-minute watermark, 5-minute tumbling windows, twelve micro-batches. Spark counts 48
// in update mode (an event is dropped only when its window's end is at or below the watermark) and
// 55 in complete mode (the watermark drops nothing); the old rule (event time <= watermark) counted
// 36. Run through the engine, batch by batch, the dropped ones go to the late destination.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { AggregateSpec } from './aggregate.ts'
import { MemorySink, MemorySource, memoryQuery } from './testkit.ts'
import { BATCHES, MIN, T0 } from './state/issue12-input.testkit.ts'

/** Batch b (1-based) 4..10 carries 5b-14, whose window ended at or before the watermark 5b-3. */
const LATE = new Set(BATCHES.flatMap((batch, i) => (i + 1 >= 4 && i + 1 <= 10 ? [`${i}:${5 * (i + 1) - 14}`] : [])))

const STEP: AggregateSpec = { groupBy: [], aggregations: { n: { fn: 'count' } }, window: { column: 'event_time', duration: 5 * MIN } }

async function run(outputMode: 'update' | 'complete'): Promise<{ counts: Map<number, number>; late: number[] }> {
  const source = new MemorySource([[]])
  const sink = new MemorySink({ writeMode: 'upsert', keys: ['window_start'] })
  let id = 0
  for (const batch of BATCHES) {
    source.append(batch.map((m) => JSON.stringify({ id: id++, event_time: new Date(T0 + m * MIN).toISOString() })), 0)
    await (await memoryQuery(source, sink, { trigger: { type: 'once' }, watermarkDelayMs: 10 * MIN, aggregate: STEP, outputMode })).run()
  }
  const counts = new Map(sink.rows.map((r) => [(new Date(r.window_start as Date).getTime() - T0) / (5 * MIN), Number(r.n)]))
  const late = (sink.side.late ?? []).map((r) => (Date.parse(JSON.parse(String(r.value)).event_time) - T0) / MIN)
  return { counts, late }
}

/** Per window k ([5k, 5k+5) minutes): the events counted under a rule. */
function expected(dropLate: boolean): Map<number, number> {
  const out = new Map<number, number>()
  BATCHES.forEach((batch, i) => {
    for (const m of batch) {
      if (dropLate && LATE.has(`${i}:${m}`)) continue
      const k = Math.floor(m / 5)
      out.set(k, (out.get(k) ?? 0) + 1)
    }
  })
  return out
}

const total = (m: Map<number, number>): number => [...m.values()].reduce((a, b) => a + b, 0)
const sorted = (m: Map<number, number>): [number, number][] => [...m].sort(([a], [b]) => a - b)

test("update mode: Spark's 48 of 55; the 7 events of closed windows go to the late destination", async () => {
  const { counts, late } = await run('update')
  assert.equal(total(counts), 48)
  assert.deepEqual(sorted(counts), sorted(expected(true)))
  assert.deepEqual(late.sort((a, b) => a - b), [6, 11, 16, 21, 26, 31, 36])
  assert.equal(counts.size, 21)
})

test("complete mode: Spark's 55 of 55; the watermark drops nothing", async () => {
  const { counts, late } = await run('complete')
  assert.equal(total(counts), 55)
  assert.deepEqual(sorted(counts), sorted(expected(false)))
  assert.deepEqual(late, [])
})
