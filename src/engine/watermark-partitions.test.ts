// Per-partition watermarks (issue: scale-out, "event time per partition"): with workers sharing a
// pipeline the store computes the watermark as the minimum over the partitions' largest event
// times (Flink's rule), so a partition that runs behind is not sent to late data because another
// ran ahead; one worker keeps Spark's single max(event time) unless the rule is configured.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemorySink, MemorySource, OwnedMemorySource, memoryQuery } from './testkit.ts'

const S = 1000
const T0 = Date.UTC(2026, 0, 1)
const event = (id: number, seconds: number): string => JSON.stringify({ id, event_time: T0 + seconds * S })

/** Three runs of one batch each: p/0 runs far ahead of p/1; p/1 stays in order on its own. */
async function runSkewed(source: MemorySource, options: { perPartitionWatermark?: boolean } = {}): Promise<MemorySink> {
  const sink = new MemorySink()
  const once = { trigger: { type: 'once' as const }, watermarkDelayMs: 10 * S, ...options }
  await (await memoryQuery(source, sink, once)).run()
  source.append([event(2, 2000)], 0)
  source.append([event(12, 100)], 1)
  await (await memoryQuery(source, sink, once)).run()
  source.append([event(3, 3000)], 0)
  source.append([event(13, 95), event(14, 50)], 1)
  await (await memoryQuery(source, sink, once)).run()
  return sink
}

const ids = (sink: MemorySink): number[] => sink.rows.map((r) => r.id as number).sort((a, b) => a - b)
const lateIds = (sink: MemorySink): number[] => (sink.side.late ?? []).map((r) => JSON.parse(String(r.value)).id as number).sort((a, b) => a - b)

test('workers sharing a pipeline: a partition behind the others keeps its on-time records; behind its own watermark is late', async () => {
  const source = new OwnedMemorySource([[event(1, 1000)], [event(11, 0)]])
  await source.assign(['p/0', 'p/1'])
  const sink = await runSkewed(source)
  // Watermarks: after run 1 min(1000, 0) - 10 = -10 s; after run 2 min(2000, 100) - 10 = 90 s.
  assert.deepEqual(ids(sink), [1, 2, 3, 11, 12, 13])
  assert.deepEqual(lateIds(sink), [14], 'event time 50 s is at or below the pipeline watermark 90 s')
  assert.equal(sink.watermarkMs, T0 + 90 * S, "p/1's largest event time is still 100 s (50 s was late): min(3000, 100) - 10 s")
})

test("one worker keeps Spark's rule: one max(event time), so the partition behind goes to late data", async () => {
  const sink = await runSkewed(new MemorySource([[event(1, 1000)], [event(11, 0)]]))
  assert.deepEqual(ids(sink), [1, 2, 3, 11])
  assert.deepEqual(lateIds(sink), [12, 13, 14])
  assert.equal(sink.watermarkMs, T0 + (3000 - 10) * S)
})

test('one worker with watermark.perPartition on uses the per-partition rule too', async () => {
  const sink = await runSkewed(new MemorySource([[event(1, 1000)], [event(11, 0)]]), { perPartitionWatermark: true })
  assert.deepEqual(ids(sink), [1, 2, 3, 11, 12, 13])
  assert.deepEqual(lateIds(sink), [14])
})
