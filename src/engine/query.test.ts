import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SluiceError } from '../errors.ts'
import { CheckpointLog } from './checkpoint.ts'
import { clamp, DEFAULT_MAX_BYTES_PER_BATCH, DEFAULT_MAX_RECORDS_PER_BATCH } from './query.ts'
import type { ReadLimits } from '../api/source.ts'
import type { Position } from '../api/position.ts'
import { MemorySink, MemorySource, memoryQuery as setup } from './testkit.ts'

const json = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => JSON.stringify({ id: from + i, event_time: 1_700_000_000_000 + (from + i) * 1000 }))

test('availablenow splits the backlog by the limit and loads every record once', async () => {
  const source = new MemorySource([json(25), json(10, 100)])
  const sink = new MemorySink()
  const { run } = await setup(source, sink, { maxRecords: 10 })
  const summary = await run()
  assert.equal(summary.batches, 4)
  assert.equal(sink.rows.length, 35)
  assert.deepEqual([...sink.tracker.keys()], [0, 1, 2, 3])
  assert.deepEqual(sink.position, { 'p/0': '25', 'p/1': '10' })
})

test('once runs a single bounded batch', async () => {
  const sink = new MemorySink()
  const { run } = await setup(new MemorySource([json(25)]), sink, { trigger: { type: 'once' }, maxRecords: 10 })
  await run()
  assert.equal(sink.rows.length, 10)
  assert.deepEqual([...sink.tracker.keys()], [0])
})

test('a retryable sink failure re-runs the same batch (same id, same records)', async () => {
  const sink = new MemorySink()
  sink.failures.push(new SluiceError('SINK_UNAVAILABLE', 'connection lost'), new SluiceError('SINK_CONFLICT', 'deadlock'))
  const { run, seen } = await setup(new MemorySource([json(5)]), sink)
  await run()
  assert.deepEqual(sink.attempts, [0, 0, 0])
  assert.equal(sink.rows.length, 5)
  assert.ok(seen.includes('batch.retry:0'))
})

test('a non-retryable failure stops the query and commits nothing', async () => {
  const sink = new MemorySink()
  sink.failures.push(new SluiceError('SINK_SCHEMA', 'no such table'))
  const { run } = await setup(new MemorySource([json(5)]), sink)
  await assert.rejects(run(), (err: unknown) => err instanceof SluiceError && err.code === 'SINK_SCHEMA')
  assert.equal(sink.rows.length, 0)
  assert.equal(sink.tracker.size, 0)
})

test('a planned batch that did not commit is re-run with the same id and range after a restart', async () => {
  const source = new MemorySource([json(30)])
  const sink = new MemorySink()
  const first = await setup(source, sink, { maxRecords: 10 })
  // Simulate a crash after batch 1 was planned: run batch 0, then write offsets/1 by hand.
  await (await setup(source, sink, { trigger: { type: 'once' }, maxRecords: 10, dir: first.dir })).run()
  await new CheckpointLog(first.dir).writePlanned({ batchId: 1, start: { 'p/0': '10' }, end: { 'p/0': '17' }, watermarkMs: null, plannedAt: 'x' })
  const restarted = await setup(source, sink, { maxRecords: 10, dir: first.dir })
  await restarted.run()
  assert.deepEqual([...sink.tracker.entries()], [[0, 10], [1, 7], [2, 10], [3, 3]], 'batch 1 kept its planned range of 7 records')
  assert.equal(sink.rows.length, 30)
  assert.deepEqual(sink.rows.map((r) => r.id), Array.from({ length: 30 }, (_, i) => i))
})

test('a duplicate batch (already committed) is skipped and the loop moves on', async () => {
  const source = new MemorySource([json(10)])
  const sink = new MemorySink()
  const { run, seen } = await setup(source, sink, { maxRecords: 5 })
  // Batch 0 commits but its COMMIT reply is lost: the retry finds it in the tracker and skips it.
  sink.loseNextCommitReply = true
  const summary = await run()
  assert.deepEqual(sink.attempts, [0, 0, 1])
  assert.ok(seen.includes('batch.duplicate:0'))
  assert.equal(summary.duplicates, 1)
  assert.equal(sink.rows.length, 10, 'written once despite the retry')
  assert.deepEqual([...sink.tracker.keys()], [0, 1])
})

test('failFast stops at the first bad record without committing the batch', async () => {
  const sink = new MemorySink()
  const { run } = await setup(new MemorySource([['{"id":1}', 'not json', '{"id":3}']]), sink, { failFast: true })
  await assert.rejects(run(), (err: unknown) => err instanceof SluiceError && err.code === 'FAIL_FAST' && /offset 1/.test(err.message))
  assert.equal(sink.rows.length, 0)
})

test('bad records and late records go to their side outputs; watermark applies from the next batch', async () => {
  const source = new MemorySource([[...json(10), 'garbage', JSON.stringify({ id: 99, event_time: 1_700_000_000_000 })]])
  const sink = new MemorySink()
  const { run } = await setup(source, sink, { maxRecords: 11, watermarkDelayMs: 2000 })
  await run()
  assert.equal(sink.rows.length, 10)
  assert.equal(sink.side.dlq?.length, 1, 'garbage went to the DLQ')
  assert.equal(sink.side.dlq?.[0]?.['sluice.error.code'], 'RECORD_DECODE')
  assert.equal(sink.side.late?.length, 1, 'the old event in batch 1 is behind the watermark of batch 0')
  assert.equal(sink.watermarkMs, 1_700_000_000_000 + 9000 - 2000)
})

test('clamp caps numeric positions at the snapshot, never below the start, and holds new partitions back', () => {
  assert.deepEqual(clamp({ a: '50', b: '7', c: '3' }, { a: '40', b: '9' }, { a: '10' }), { a: '40', b: '7' })
  assert.deepEqual(clamp({ a: '50' }, { a: '5' }, { a: '10' }), { a: '10' })
})

test('a database that is not up yet at start is retried like a batch, then the query runs', async () => {
  const sink = new MemorySink()
  sink.openFailures.push(new SluiceError('SINK_UNAVAILABLE', 'connection refused'), new SluiceError('SINK_UNAVAILABLE', 'connection refused'))
  const { run } = await setup(new MemorySource([json(3)]), sink)
  await run()
  assert.equal(sink.rows.length, 3)
})

test('a permanent start-up error (not retryable) stops the query at once', async () => {
  const sink = new MemorySink()
  sink.openFailures.push(new SluiceError('CREDENTIAL_MISSING', 'no such credential'))
  const { run } = await setup(new MemorySource([json(3)]), sink)
  await assert.rejects(run(), (e: unknown) => e instanceof SluiceError && e.code === 'CREDENTIAL_MISSING')
})

test('with no limit configured, every plan is bounded by the default record and byte caps', async () => {
  const asked: ReadLimits[] = []
  const source = new (class extends MemorySource {
    override async plan(from: Position, limits: ReadLimits): Promise<Position | null> {
      asked.push(limits)
      return super.plan(from, limits)
    }
  })([json(3)])
  await (await setup(source, new MemorySink())).run()
  assert.ok(asked.length > 0)
  for (const limits of asked) assert.deepEqual(limits, { maxRecords: DEFAULT_MAX_RECORDS_PER_BATCH, maxBytes: DEFAULT_MAX_BYTES_PER_BATCH })
  assert.equal(DEFAULT_MAX_BYTES_PER_BATCH, 16 * 1024 * 1024)
})

test('a dead-letter relay that is refused (not retryable) after a commit stops the query; a retryable failure is only logged', async () => {
  const router = (error: SluiceError) => ({ write: async () => {}, afterCommit: () => Promise.reject(error) })
  const refused = await setup(new MemorySource([json(5)]), new MemorySink(), { deadLetters: router(new SluiceError('DLQ_AUTH', 'SASL authentication failed')) })
  await assert.rejects(refused.run(), (err: unknown) => err instanceof SluiceError && err.code === 'DLQ_AUTH')
  const sink = new MemorySink()
  const down = await setup(new MemorySource([json(5)]), sink, { deadLetters: router(new SluiceError('DLQ_UNAVAILABLE', 'broker down')) })
  await down.run()
  assert.equal(sink.rows.length, 5)
})
