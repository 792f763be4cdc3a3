// Partition ownership in the source contract: the engine plans only owned partitions, and when the
// owned set changes it resumes the new partitions from the store (where another worker's commits
// left them), never from the start; a revocation waits for the batch in flight.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EngineEvents } from './events.ts'
import { MemorySink, OwnedMemorySource, memoryQuery } from './testkit.ts'

const values = (n: number, from: number): string[] => Array.from({ length: n }, (_, i) => JSON.stringify({ id: from + i }))

test('a worker plans only the partitions it owns', async () => {
  const source = new OwnedMemorySource([values(4, 0), values(4, 100)])
  await source.assign(['p/1'])
  const sink = new MemorySink()
  await (await memoryQuery(source, sink)).run()
  assert.deepEqual(sink.rows.map((r) => r.id), [100, 101, 102, 103])
  assert.deepEqual(sink.position, { 'p/1': '4' })
})

test('a partition assigned mid-run resumes from the position another worker committed, so no record is written twice', async () => {
  const data = [values(4, 0), values(4, 100)]
  const sink = new MemorySink()
  // Worker A owned p/1 and committed its first two records, then left the group.
  const a = new OwnedMemorySource(data)
  await a.assign(['p/1'])
  await (await memoryQuery(a, sink, { maxRecords: 2, trigger: { type: 'once' } })).run()
  assert.deepEqual(sink.position, { 'p/1': '2' })

  // Worker B owns p/0; after its first batch the group gives it p/1 as well.
  const b = new OwnedMemorySource(data)
  await b.assign(['p/0'])
  const events = new EngineEvents()
  let reassigned = false
  events.on((name) => {
    if (name === 'batch.committed' && !reassigned) {
      reassigned = true
      void b.assign(['p/0', 'p/1'])
    }
  })
  await (await memoryQuery(b, sink, { events })).run()
  const ids = sink.rows.map((r) => r.id as number).sort((x, y) => x - y)
  assert.deepEqual(ids, [0, 1, 2, 3, 100, 101, 102, 103])
  assert.deepEqual(sink.position, { 'p/0': '4', 'p/1': '4' })
})

test('a revocation waits until the batch in flight has committed', async () => {
  const source = new OwnedMemorySource([values(6, 0)])
  await source.assign(['p/0'])
  const sink = new MemorySink()
  const events = new EngineEvents()
  const order: string[] = []
  let revoking: Promise<void> | null = null
  events.on((name, payload) => {
    if (name === 'batch.planned' && revoking === null) {
      order.push('revoke asked')
      revoking = source.assign([]).then(() => void order.push(`revoked after ${sink.tracker.size} commit(s)`))
    }
    if (name === 'batch.committed' && 'batchId' in payload) order.push(`committed ${payload.batchId}`)
  })
  await (await memoryQuery(source, sink, { events, maxRecords: 3 })).run()
  await revoking
  assert.equal(order[0], 'revoke asked')
  assert.ok(order.indexOf('committed 0') < order.findIndex((e) => e.startsWith('revoked')), order.join(' | '))
  assert.deepEqual(sink.rows.map((r) => r.id), [0, 1, 2], 'after the revocation nothing more is planned')
})

test('the owned partitions are announced at start and after every change (for /status)', async () => {
  const source = new OwnedMemorySource([values(2, 0), values(2, 100)])
  await source.assign(['p/0'])
  const events = new EngineEvents()
  const owned: Array<readonly string[] | null> = []
  events.on((name, payload) => {
    if (name === 'partitions.owned' && 'owned' in payload) owned.push(payload.owned)
    if (name === 'batch.committed' && owned.length === 1) void source.assign(['p/0', 'p/1'])
  })
  await (await memoryQuery(source, new MemorySink(), { events })).run()
  assert.deepEqual(owned, [['p/0'], ['p/0', 'p/1']])
})
