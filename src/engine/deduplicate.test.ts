// The deduplicate step through the engine: repeats within a batch and across batches (the keys the
// store remembers in the batch transaction) are filtered; a key is forgotten when the watermark
// passes its first event time plus the delay, or after the processing-time timeout.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemorySink, MemorySource, memoryQuery } from './testkit.ts'

const S = 1000
const T0 = Date.UTC(2026, 0, 1)
const rec = (id: number, seconds: number, note = ''): string => JSON.stringify({ id, event_time: T0 + seconds * S, note })

async function once(source: MemorySource, sink: MemorySink, options: Parameters<typeof memoryQuery>[2]) {
  return (await memoryQuery(source, sink, { trigger: { type: 'once' }, ...options })).run()
}

test('withinWatermark: a retried record is filtered in its batch and in later ones until the watermark passes its event time plus the delay', async () => {
  const source = new MemorySource([[rec(1, 100), rec(2, 100), rec(1, 100, 'retry')]])
  const sink = new MemorySink()
  const dedup = { deduplicate: { spec: { keys: ['id'], withinWatermark: { delayMs: 10 * S } }, step: 'transform[0]' }, watermarkDelayMs: 10 * S }
  const first = await once(source, sink, dedup)
  assert.deepEqual([first.written, first.filtered], [2, 1], 'the repeat within the batch is filtered')
  // Watermark now 100 - 10 = 90 s; key 1 is remembered until 100 + 10 = 110 s.
  source.append([rec(1, 101, 'retry later'), rec(3, 115)], 0)
  const second = await once(source, sink, dedup)
  assert.deepEqual([second.written, second.filtered], [1, 1], 'a repeat of a key remembered by an earlier batch is filtered')
  // Watermark now 115 - 10 = 105 s: key 1 still remembered (110 > 105).
  source.append([rec(1, 120, 'still remembered'), rec(4, 130)], 0)
  const third = await once(source, sink, dedup)
  assert.deepEqual([third.written, third.filtered], [1, 1])
  // Watermark now 130 - 10 = 120 s: key 1 (110 <= 120) is forgotten; its next record lands.
  source.append([rec(1, 125, 'new again')], 0)
  const fourth = await once(source, sink, dedup)
  assert.deepEqual([fourth.written, fourth.filtered], [1, 0])
  assert.deepEqual(sink.rows.map((r) => [r.id, r.note]), [[1, ''], [2, ''], [3, ''], [4, ''], [1, 'new again']])
})

test('stateTimeout: a key is forgotten once idle for the timeout; each repeat renews it', async () => {
  const source = new MemorySource([[rec(1, 0)]])
  const sink = new MemorySink()
  const dedup = { deduplicate: { spec: { keys: ['id'], stateTimeoutMs: 60 * S }, step: 'transform[0]' } }
  await once(source, sink, dedup)
  const [[, expiry]] = [...sink.keyed] as [[string, number]]
  source.append([rec(1, 1, 'dup')], 0)
  const dup = await once(source, sink, dedup)
  assert.equal(dup.filtered, 1)
  const [[, renewed]] = [...sink.keyed] as [[string, number]]
  assert.ok(renewed >= expiry, 'the repeat renewed the key')
  // Time passes beyond the timeout: the store sees the key as expired at the next batch.
  sink.keyed.set([...sink.keyed.keys()][0] as string, Date.now() - 1)
  source.append([rec(1, 2, 'after the timeout')], 0)
  const after = await once(source, sink, dedup)
  assert.deepEqual([after.written, after.filtered], [1, 0])
})

test('onDuplicate dlq: repeats in the batch and of remembered keys go to the DLQ with RECORD_DUPLICATE, not to filtered', async () => {
  const source = new MemorySource([[rec(1, 100), rec(1, 100, 'retry in batch')]])
  const sink = new MemorySink()
  const dedup = { deduplicate: { spec: { keys: ['id'], stateTimeoutMs: 3_600_000 }, step: 'transform[0]', toDlq: true } }
  const first = await once(source, sink, dedup)
  assert.deepEqual([first.written, first.filtered, first.dlq], [1, 0, 1])
  source.append([rec(1, 101, 'retry later'), rec(2, 102)], 0)
  const second = await once(source, sink, dedup)
  assert.deepEqual([second.written, second.filtered, second.dlq], [1, 0, 1])
  const dlq = (sink.side.dlq ?? []).map((d) => [JSON.parse(String(d.value)).note, d['sluice.error.code'], d['sluice.error.reason']])
  assert.deepEqual(dlq, [
    ['retry in batch', 'RECORD_DUPLICATE', 'deduplicate: key [1] was already seen in an earlier record of the same batch'],
    ['retry later', 'RECORD_DUPLICATE', 'deduplicate: key [1] was already seen in an earlier batch'],
  ])
  assert.deepEqual(sink.rows.map((r) => [r.id, r.note]), [[1, ''], [2, '']])
})
