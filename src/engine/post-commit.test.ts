// The source's post-commit hook (group offsets for lag tools, file cleanup) runs off the batch path:
// a hook that hangs (a consumer group rebalancing) does not hold the next batch, calls never overlap,
// the newest position wins when several batches committed meanwhile, and the query waits for the last
// one before it ends.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Position } from '../api/position.ts'
import { MemorySink, MemorySource, memoryQuery } from './testkit.ts'
import { nullLogger } from '../api/component.ts'
import { PostCommitQueue } from './post-commit.ts'

const values = (n: number): string[] => Array.from({ length: n }, (_, i) => JSON.stringify({ id: i }))

test('a slow post-commit hook holds no batch, never overlaps itself, and the query waits for the newest one', async () => {
  const calls: Position[] = []
  let running = 0
  let overlapped = false
  let release: () => void = () => {}
  const firstHeld = new Promise<void>((resolve) => (release = resolve))
  const source = new (class extends MemorySource {
    async committed(to: Position): Promise<void> {
      if (running > 0) overlapped = true
      running++
      calls.push({ ...to })
      // The first call hangs until every batch has committed.
      if (calls.length === 1) await firstHeld
      running--
    }
  })([values(10)])
  const sink = new MemorySink()
  const { run } = await memoryQuery(source, sink, { maxRecords: 2 })
  const done = run()
  // All five batches commit while the first hook call still hangs.
  while (sink.tracker.size < 5) await new Promise((r) => setTimeout(r, 5))
  assert.equal(calls.length, 1)
  let ended = false
  void done.then(() => (ended = true))
  await new Promise((r) => setTimeout(r, 20))
  assert.equal(ended, false, 'the query waits for the post-commit hook before it ends')
  release()
  await done
  assert.equal(overlapped, false)
  assert.deepEqual(calls.at(-1), { 'p/0': '10' }, 'the newest position is committed last')
  assert.ok(calls.length <= 3, `batches committed meanwhile are coalesced (${calls.length} calls)`)
})

test('hook calls are spaced by the interval, the newest position wins, and settle() runs the pending one at once', async () => {
  const calls: Array<{ at: number; to: Position }> = []
  const queue = new PostCommitQueue(async (to) => void calls.push({ at: performance.now(), to }), nullLogger, 200)
  queue.push({ 'p/0': '1' })
  await new Promise((r) => setTimeout(r, 20))
  assert.equal(calls.length, 1, 'the first call runs at once')
  queue.push({ 'p/0': '2' })
  queue.push({ 'p/0': '3' })
  await new Promise((r) => setTimeout(r, 50))
  assert.equal(calls.length, 1, 'a second call within the interval waits')
  await new Promise((r) => setTimeout(r, 250))
  assert.equal(calls.length, 2)
  assert.deepEqual(calls[1]?.to, { 'p/0': '3' }, 'positions pushed meanwhile are coalesced into the newest')
  assert.ok((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0) >= 195, 'the calls are an interval apart')
  queue.push({ 'p/0': '4' })
  const settled = performance.now()
  await queue.settle()
  assert.equal(calls.length, 3)
  assert.deepEqual(calls[2]?.to, { 'p/0': '4' })
  assert.ok(performance.now() - settled < 150, 'settle() does not wait out the interval')
})
