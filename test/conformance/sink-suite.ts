/**
 * The conformance suite of every commit store and its writers (aesthetics: one shared suite per
 * connector family). It knows only the contracts (src/api/store.ts, src/api/writer.ts) and commits
 * the way the engine does (src/engine/commit.ts); a harness gives each test a fresh fixture: the
 * family's parts over an empty `events` table (id, name not null, amount numeric(12,2) or the
 * family's equivalent) and readers of what was committed. Every test stands alone.
 *
 * What it checks: first run, commit of rows + position + watermark together, duplicate batch,
 * fencing (one stale partition fences the whole batch), all-or-nothing on any failure inside the
 * transaction, refused-row isolation with dead letters in the same transaction, the batch's own dead
 * letters and late records, at-least-once mode, upsert (last of a key wins), tombstone deletes,
 * aggregate merge rules, and the target columns.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Position } from '../../src/api/position.ts'
import type { Row, RowValues, SourceRecord } from '../../src/api/record.ts'
import type { BatchMark, PartitionWatermarkRule } from '../../src/api/store.ts'
import type { DeadLetter, MergeRule, RejectedRow, TableBatch } from '../../src/api/writer.ts'
import { type BatchToCommit, type CommitParts, type CommitResult, type DedupClaim, commitBatch } from '../../src/engine/commit.ts'
import { SluiceError, isSluiceError } from '../../src/errors.ts'
import type { StoredWindow, WindowState } from '../../src/api/window-state.ts'

/** A row as the suite compares it. */
export interface StoredRow {
  readonly id: number
  readonly name: string | null
  readonly amount: number | null
}

/** A committed dead letter: where it went, its source offset and code. */
export interface StoredLetter {
  readonly kind: 'dlq' | 'late'
  readonly offset: string
  readonly code: string
}

/** One family's parts on a fresh, empty table, plus readers of what they committed. */
export interface StoreFixture<Tx> {
  readonly parts: CommitParts<Tx>
  /** The target table's rows, ordered by id. */
  rows(): Promise<StoredRow[]>
  /** Committed dead letters (DLQ and late destinations), ordered by kind then offset. */
  letters(): Promise<StoredLetter[]>
  /** A row the table refuses (e.g. a NULL in a NOT NULL column), with this id. */
  refused(id: number): RowValues
  teardown(): Promise<void>
}

export interface FixtureOptions {
  readonly writeMode: 'append' | 'upsert'
  /** Upsert: delete the keys of tombstones. */
  readonly deleteOnTombstone?: boolean
}

/** How the suite gets fixtures (upserts are keyed on `id`). */
export interface StoreHarness<Tx> {
  readonly name: string
  setup(options: FixtureOptions): Promise<StoreFixture<Tx>>
}

const PIPELINE = 'conformance'
const WATERMARK = 1_764_000_000_000
const signal = (): AbortSignal => AbortSignal.timeout(60_000)

function record(offset: number, partition = 't/0'): SourceRecord {
  return { partition, topic: 't', partitionNumber: Number(partition.slice(2)), offset: String(offset), key: null, value: Buffer.from(`{"o":${offset}}`), timestamp: 0, headers: [] }
}

const good = (id: number, name = `n${id}`): RowValues => ({ id, name, amount: id * 1.5 })

interface BatchOptions {
  readonly start?: Position
  readonly end?: Position
  readonly exactlyOnce?: boolean
  readonly watermark?: number | null
  readonly eventTimes?: Readonly<Record<string, number>>
  readonly partitionWatermark?: PartitionWatermarkRule
  readonly dead?: readonly DeadLetter[]
  readonly late?: readonly DeadLetter[]
  readonly deletes?: readonly RowValues[]
  readonly merge?: Readonly<Record<string, MergeRule>>
  /** Refused rows become dead letters (false: a refused row fails the batch). */
  readonly isolate?: boolean
  readonly dedup?: DedupClaim
}

/** Batch n covers offsets [(n-1)*100, n*100) of t/0; offset 0 means never read before. */
function batch(batchId: number, values: readonly RowValues[], o: BatchOptions = {}): BatchToCommit {
  const from = (batchId - 1) * 100
  const start = o.start ?? (from === 0 ? {} : { 't/0': String(from) })
  const end = o.end ?? { 't/0': String(from + 100) }
  const rows: Row[] = values.map((v, i) => ({ values: v, source: record(from + i) }))
  const mark: BatchMark = { pipelineId: PIPELINE, batchId, exactlyOnce: o.exactlyOnce ?? true, recordCount: values.length, start, end, nextWatermarkMs: o.watermark ?? null, checkpointLocation: null,
    ...(o.eventTimes ? { eventTimes: o.eventTimes } : {}),
    ...(o.partitionWatermark ? { partitionWatermark: o.partitionWatermark } : {}),
  }
  const table: TableBatch = { rows, ...(o.deletes ? { deletes: o.deletes } : {}), ...(o.merge ? { merge: o.merge } : {}) }
  const onRejected = (rejected: readonly RejectedRow[]): DeadLetter[] => rejected.map((r) => ({ record: r.row.source, code: r.error.code, reason: r.error.message }))
  return { mark, table, dead: o.dead ?? [], late: o.late ?? [], ...(o.isolate === false ? {} : { onRejected }), ...(o.dedup ? { dedup: o.dedup } : {}) }
}

/** Registers the conformance tests of one store family. */
export function storeConformanceSuite<Tx>(harness: StoreHarness<Tx>): void {
  /** Runs `fn` on a fresh, opened fixture and always tears it down. */
  const withFixture = async (options: FixtureOptions, fn: (f: StoreFixture<Tx>, commit: (b: BatchToCommit) => Promise<CommitResult>) => Promise<void>): Promise<void> => {
    const f = await harness.setup(options)
    try {
      await f.parts.store.open(signal())
      await f.parts.table.open(signal())
      await fn(f, (b) => commitBatch(f.parts, b))
    } finally {
      await f.parts.store.close()
      await f.teardown()
    }
  }
  const append: FixtureOptions = { writeMode: 'append' }
  const upsert: FixtureOptions = { writeMode: 'upsert', deleteOnTombstone: true }
  const name = (t: string): string => `store conformance (${harness.name}): ${t}`

  test(name('a first run has no committed state'), () =>
    withFixture(append, async (f) => {
      assert.equal(await f.parts.store.committedState(PIPELINE), null)
    }))

  test(name('a batch commits its rows, position and watermark together'), () =>
    withFixture(append, async (f, commit) => {
      const r = await commit(batch(1, [good(1), good(2)], { watermark: WATERMARK }))
      assert.deepEqual({ status: r.status, written: r.written, rejected: r.rejected.length }, { status: 'committed', written: 2, rejected: 0 })
      assert.deepEqual(await f.rows(), [{ id: 1, name: 'n1', amount: 1.5 }, { id: 2, name: 'n2', amount: 3 }])
      assert.deepEqual(await f.parts.store.committedState(PIPELINE), { batchId: 1, position: { 't/0': '100' }, watermarkMs: WATERMARK })
      assert.equal(r.watermarkMs, WATERMARK)
      // The watermark never moves back: a batch that proposes none, or a smaller one, keeps it.
      const next = await commit(batch(2, [good(3)]))
      assert.deepEqual([next.status, next.watermarkMs], ['committed', WATERMARK])
      assert.deepEqual(await f.parts.store.committedState(PIPELINE), { batchId: 2, position: { 't/0': '200' }, watermarkMs: WATERMARK })
      const lower = await commit(batch(3, [good(4)], { watermark: WATERMARK - 1 }))
      assert.equal(lower.watermarkMs, WATERMARK)
      const higher = await commit(batch(4, [good(5)], { watermark: WATERMARK + 1 }))
      assert.equal(higher.watermarkMs, WATERMARK + 1)
      assert.equal((await f.parts.store.committedState(PIPELINE))?.watermarkMs, WATERMARK + 1)
    }))

  test(name('per-partition watermark: the minimum over the partitions with event times, from every batch committed'), () =>
    withFixture(append, async (f, commit) => {
      const rule: PartitionWatermarkRule = { delayMs: 1000, idleMs: null }
      // t/0 runs ahead; t/1 has only records without event times yet: it does not count.
      const b1 = await commit(batch(1, [good(1)], { start: {}, end: { 't/0': '10', 't/1': '5' }, eventTimes: { 't/0': WATERMARK + 60_000 }, watermark: WATERMARK + 59_000, partitionWatermark: rule }))
      assert.equal(b1.watermarkMs, WATERMARK + 59_000)
      // t/1 behind: the watermark cannot go back, so it stays where t/0 alone put it.
      const b2 = await commit(batch(2, [good(2)], { start: { 't/1': '5' }, end: { 't/1': '9' }, eventTimes: { 't/1': WATERMARK + 10_000 }, partitionWatermark: rule }))
      assert.equal(b2.watermarkMs, WATERMARK + 59_000)
      // t/0 races on; t/1 (committed earlier, maybe by another worker) holds the pipeline back.
      const b3 = await commit(batch(3, [good(3)], { start: { 't/0': '10' }, end: { 't/0': '20' }, eventTimes: { 't/0': WATERMARK + 120_000 }, partitionWatermark: rule }))
      assert.equal(b3.watermarkMs, WATERMARK + 59_000)
      // t/1 catches up past t/0's first maximum: the minimum is t/1's now.
      const b4 = await commit(batch(4, [good(4)], { start: { 't/1': '9' }, end: { 't/1': '12' }, eventTimes: { 't/1': WATERMARK + 90_000 }, partitionWatermark: rule }))
      assert.equal(b4.watermarkMs, WATERMARK + 89_000)
      // A batch of t/1 without on-time event times keeps its maximum.
      const b5 = await commit(batch(5, [good(5)], { start: { 't/1': '12' }, end: { 't/1': '13' }, partitionWatermark: rule }))
      assert.equal(b5.watermarkMs, WATERMARK + 89_000)
      assert.equal((await f.parts.store.committedState(PIPELINE))?.watermarkMs, WATERMARK + 89_000)
    }))

  test(name('per-partition watermark: a partition idle for the idle timeout does not hold it back'), () =>
    withFixture(append, async (_f, commit) => {
      const rule: PartitionWatermarkRule = { delayMs: 0, idleMs: 300 }
      await commit(batch(1, [good(1)], { start: {}, end: { 't/0': '1', 't/1': '1' }, eventTimes: { 't/0': WATERMARK, 't/1': WATERMARK + 5000 }, partitionWatermark: rule }))
      const busy = await commit(batch(2, [good(2)], { start: { 't/1': '1' }, end: { 't/1': '2' }, eventTimes: { 't/1': WATERMARK + 9000 }, partitionWatermark: rule }))
      assert.equal(busy.watermarkMs, WATERMARK, 't/0 moved just now: it holds the watermark')
      await new Promise((r) => setTimeout(r, 600))
      const idle = await commit(batch(3, [good(3)], { start: { 't/1': '2' }, end: { 't/1': '3' }, eventTimes: { 't/1': WATERMARK + 10_000 }, partitionWatermark: rule }))
      assert.equal(idle.watermarkMs, WATERMARK + 10_000, 't/0 has not moved for longer than the idle timeout')
    }))

  test(name('the same batch committed again is a duplicate: its work does not run, nothing is written twice'), () =>
    withFixture(append, async (f, commit) => {
      await commit(batch(1, [good(1), good(2)]))
      let ran = false
      const again = await f.parts.store.commit(batch(1, []).mark, async () => {
        ran = true
      })
      assert.deepEqual(again, { status: 'duplicate' })
      assert.equal(ran, false)
      const r = await commit(batch(1, [good(1), good(2)]))
      assert.deepEqual(r, { status: 'duplicate', batchId: 1, written: 0, rejected: [], duplicateRows: 0 })
      assert.equal((await f.rows()).length, 2)
    }))

  test(name('a batch whose start is not the stored position of one partition is fenced as a whole'), () =>
    withFixture(append, async (f, commit) => {
      await commit(batch(1, [good(1)], { end: { 't/0': '100', 't/1': '50' } }))
      // t/0 is right, t/1 is stale: nothing of the batch may land.
      const stale = batch(2, [good(2)], { start: { 't/0': '100', 't/1': '10' }, end: { 't/0': '200', 't/1': '60' } })
      await assert.rejects(commit(stale), (err: unknown) => isSluiceError(err, 'SINK_FENCED') && !err.retryable)
      assert.deepEqual((await f.rows()).map((r) => r.id), [1])
      assert.deepEqual(await f.parts.store.committedState(PIPELINE), { batchId: 1, position: { 't/0': '100', 't/1': '50' }, watermarkMs: null })
      // One worker's pipeline: another batch ending where the store stands is fenced, not a duplicate.
      await assert.rejects(commit(batch(5, [good(9)], { start: {}, end: { 't/0': '100', 't/1': '50' } })), (err: unknown) => isSluiceError(err, 'SINK_FENCED'))
      // The fence is per partition: a batch that moves only t/0 from its stored position commits.
      assert.equal((await commit(batch(2, [good(3)], { start: { 't/0': '100' }, end: { 't/0': '200' } }))).status, 'committed')
      assert.deepEqual((await f.parts.store.committedState(PIPELINE))?.position, { 't/0': '200', 't/1': '50' })
    }))

  test(name('a refused row without isolation fails the whole batch; nothing commits'), () =>
    withFixture(append, async (f, commit) => {
      await assert.rejects(commit(batch(1, [good(1), f.refused(2), good(3)], { isolate: false })), (err: unknown) => isSluiceError(err, 'RECORD_COLUMN') && !err.retryable)
      assert.deepEqual(await f.rows(), [])
      assert.equal(await f.parts.store.committedState(PIPELINE), null)
    }))

  test(name('a failure of any writer inside the transaction rolls back the rows, the tracker row and the position'), () =>
    withFixture(append, async (f) => {
      const failing: CommitParts<Tx> = {
        ...f.parts,
        deadLetters: {
          write: async () => {
            throw new Error('dead-letter destination failed')
          },
        },
      }
      const dead: DeadLetter = { record: record(9), code: 'RECORD_DECODE', reason: 'not JSON' }
      await assert.rejects(commitBatch(failing, batch(1, [good(1), good(2)], { dead: [dead] })))
      assert.deepEqual(await f.rows(), [])
      assert.equal(await f.parts.store.committedState(PIPELINE), null)
      assert.equal((await commitBatch(f.parts, batch(1, [good(1)]))).status, 'committed', 'the batch is not marked: it commits on the next attempt')
    }))

  test(name('refused rows are isolated; good rows and their dead letters commit in one transaction'), () =>
    withFixture(append, async (f, commit) => {
      const r = await commit(batch(1, [good(1), f.refused(2), good(3), f.refused(4), good(5)]))
      assert.equal(r.status, 'committed')
      assert.equal(r.written, 3)
      assert.deepEqual(r.rejected.map((x) => [x.row.source.offset, x.error.code]), [['1', 'RECORD_COLUMN'], ['3', 'RECORD_COLUMN']])
      assert.deepEqual((await f.rows()).map((x) => x.id), [1, 3, 5])
      assert.deepEqual(await f.letters(), [{ kind: 'dlq', offset: '1', code: 'RECORD_COLUMN' }, { kind: 'dlq', offset: '3', code: 'RECORD_COLUMN' }])
      const again = await commit(batch(1, [good(1), f.refused(2)]))
      assert.equal(again.status, 'duplicate')
      assert.equal((await f.letters()).length, 2, 'a duplicate rewrites no dead letter')
    }))

  test(name("the batch's own dead letters and late records are committed with it"), () =>
    withFixture(append, async (f, commit) => {
      const dead: DeadLetter = { record: record(7), code: 'RECORD_DECODE', reason: 'not JSON' }
      const late: DeadLetter = { record: record(8), code: 'LATE_DATA', reason: 'behind the watermark' }
      await commit(batch(1, [good(1)], { dead: [dead], late: [late] }))
      assert.deepEqual(await f.letters(), [{ kind: 'dlq', offset: '7', code: 'RECORD_DECODE' }, { kind: 'late', offset: '8', code: 'LATE_DATA' }])
      assert.deepEqual((await f.rows()).map((x) => x.id), [1])
    }))

  test(name('at-least-once writes rows without a tracker row or a position'), () =>
    withFixture(append, async (f, commit) => {
      await commit(batch(1, [good(1)], { exactlyOnce: false }))
      await commit(batch(1, [good(2)], { exactlyOnce: false }))
      assert.deepEqual((await f.rows()).map((x) => x.id), [1, 2])
      assert.equal(await f.parts.store.committedState(PIPELINE), null)
    }))

  test(name('ping answers and the target columns are known after open'), () =>
    withFixture(append, async (f) => {
      await f.parts.store.ping(signal())
      const columns = await f.parts.table.targetColumns?.()
      if (columns !== undefined && columns !== null) for (const c of ['id', 'name', 'amount']) assert.ok(columns.includes(c), `target columns ${columns.join(', ')} include ${c}`)
    }))

  test(name('shared by several workers: the store numbers the batches in commit order, whatever the workers planned'), () =>
    withFixture(append, async (f, commit) => {
      const shared = (b: BatchToCommit): BatchToCommit => ({ ...b, mark: { ...b.mark, shared: true } })
      // Two workers on their own partitions, each with its own idea of the next id.
      const a = await commit(shared(batch(7, [good(1)], { start: {}, end: { 't/0': '10' } })))
      const b = await commit(shared(batch(7, [good(2)], { start: {}, end: { 't/1': '10' } })))
      const c = await commit(shared(batch(3, [good(3)], { start: { 't/0': '10' }, end: { 't/0': '20' } })))
      assert.deepEqual([a.batchId, b.batchId, c.batchId], [0, 1, 2])
      assert.deepEqual(await f.parts.store.committedState(PIPELINE), { batchId: 2, position: { 't/0': '20', 't/1': '10' }, watermarkMs: null })
      // The same range again (a retry whose COMMIT reply was lost) is recognised by its positions.
      const again = await commit(shared(batch(9, [good(3)], { start: { 't/0': '10' }, end: { 't/0': '20' } })))
      assert.equal(again.status, 'duplicate')
      // A worker that lost t/1 to another one cannot commit past it.
      await assert.rejects(commit(shared(batch(4, [good(4)], { start: {}, end: { 't/1': '5' } }))), (err: unknown) => isSluiceError(err, 'SINK_FENCED'))
      assert.deepEqual((await f.rows()).map((r) => r.id), [1, 2, 3])
    }))

  test(name('shared: a batch with dead letters commits under the next id of the store'), () =>
    withFixture(append, async (f, commit) => {
      await commit({ ...batch(1, [good(1)], { start: {}, end: { 't/0': '10' } }), mark: { ...batch(1, []).mark, start: {}, end: { 't/0': '10' }, shared: true } })
      const r = await commit({ ...batch(5, [good(2), f.refused(3)], { start: { 't/0': '10' }, end: { 't/0': '20' } }), mark: { ...batch(5, []).mark, start: { 't/0': '10' }, end: { 't/0': '20' }, shared: true } })
      assert.equal(r.batchId, 1)
      assert.deepEqual((await f.letters()).map((l) => l.code), ['RECORD_COLUMN'])
    }))

  test(name('upsert: the last row of a key in a batch wins, existing keys are updated'), () =>
    withFixture(upsert, async (f, commit) => {
      await commit(batch(1, [good(1, 'first'), good(2, 'two'), good(1, 'second'), good(1, 'last')]))
      await commit(batch(2, [good(2, 'two-b'), good(3, 'three')]))
      assert.deepEqual((await f.rows()).map((x) => [x.id, x.name]), [[1, 'last'], [2, 'two-b'], [3, 'three']])
    }))

  test(name('upsert: a refused row is isolated, the rest of the batch lands'), () =>
    withFixture(upsert, async (f, commit) => {
      await commit(batch(1, [good(1, 'one')]))
      const r = await commit(batch(2, [good(4, 'four'), f.refused(5), good(1, 'again')]))
      assert.deepEqual([r.written, r.rejected.length], [2, 1])
      assert.deepEqual((await f.rows()).map((x) => [x.id, x.name]), [[1, 'again'], [4, 'four']])
    }))

  test(name("upsert: a stateful step's removed keys are deleted after its rows are written, tombstones or not"), () =>
    withFixture({ writeMode: 'upsert' }, async (f, commit) => {
      await commit(batch(1, [good(1), good(2), good(3)]))
      const b = batch(2, [good(2, 'replaced')])
      await commit({ ...b, table: { ...b.table, removed: [{ id: 1 }, { id: 3 }] } })
      assert.deepEqual((await f.rows()).map((r) => [r.id, r.name]), [[2, 'replaced']])
    }))

  test(name('upsert: tombstones delete their keys in the same transaction'), () =>
    withFixture(upsert, async (f, commit) => {
      await commit(batch(1, [good(1), good(2), good(3)]))
      await commit(batch(2, [good(4)], { deletes: [{ id: 2 }, { id: 9 }] }))
      assert.deepEqual((await f.rows()).map((x) => x.id), [1, 3, 4])
    }))

  /** A deduplicate claim for rows keyed by their id, each remembered until `expiry`. */
  const claim = (rows: readonly RowValues[], expiry: number, o: { expiredAt?: number | null; renew?: boolean; step?: string } = {}): DedupClaim => {
    const keys = rows.map((r) => String(r.id))
    return { scope: { pipelineId: PIPELINE, step: o.step ?? 'transform[0]' }, keys, entries: new Map(keys.map((k) => [k, expiry])), expiredAt: o.expiredAt ?? null, renew: o.renew ?? false }
  }

  test(name('keyed state: a key remembered by a committed batch makes its next rows duplicates, in the same transaction'), () =>
    withFixture(upsert, async (f, commit) => {
      const first = [good(1), good(2)]
      const r1 = await commit(batch(1, first, { dedup: claim(first, 1000) }))
      assert.deepEqual([r1.written, r1.duplicateRows], [2, 0])
      const second = [good(2, 'again'), good(3)]
      const r2 = await commit(batch(2, second, { dedup: claim(second, 1000) }))
      assert.deepEqual([r2.written, r2.duplicateRows], [1, 1])
      assert.deepEqual((await f.rows()).map((r) => [r.id, r.name]), [[1, 'n1'], [2, 'n2'], [3, 'n3']])
      // Another step of the pipeline remembers its own keys.
      const other = [good(1, 'other step')]
      const r3 = await commit(batch(3, other, { dedup: claim(other, 1000, { step: 'transform[1]' }) }))
      assert.deepEqual([r3.written, r3.duplicateRows], [1, 0])
    }))

  test(name('keyed state: an expired key is new again, and eviction forgets expired keys'), () =>
    withFixture(upsert, async (f, commit) => {
      await commit(batch(1, [good(1), good(2)], { dedup: claim([good(1), good(2)], 1000) }))
      // Key 1 expired at 1000 (<= 1000); key 2 is claimed again with a later expiry but stays live at 999.
      const r2 = await commit(batch(2, [good(1, 'later')], { dedup: claim([good(1)], 5000, { expiredAt: 1000 }) }))
      assert.deepEqual([r2.written, r2.duplicateRows], [1, 0])
      assert.equal((await f.rows()).find((r) => r.id === 1)?.name, 'later')
      // Key 1 now lives until 5000; a claim at 4999 sees it live, one at 5000 sees it expired.
      const live = await commit(batch(3, [good(1, 'x')], { dedup: claim([good(1)], 9000, { expiredAt: 4999 }) }))
      assert.equal(live.duplicateRows, 1)
      // Claimed with nothing counted as expired: key 2 is new only because batch 2 evicted it.
      const gone = await commit(batch(4, [good(2, 'y')], { dedup: claim([good(2)], 9000, { expiredAt: null }) }))
      assert.equal(gone.duplicateRows, 0, 'key 2 expired at 1000 and was evicted by batch 2')
    }))

  test(name('keyed state: renewing gives live keys the new expiry'), () =>
    withFixture(upsert, async (_f, commit) => {
      await commit(batch(1, [good(1)], { dedup: claim([good(1)], 1000, { renew: true }) }))
      const renewed = await commit(batch(2, [good(1, 'dup')], { dedup: claim([good(1)], 2000, { expiredAt: 999, renew: true }) }))
      assert.equal(renewed.duplicateRows, 1)
      // Without the renewal key 1 would have expired at 1000; it lives until 2000 now.
      const still = await commit(batch(3, [good(1, 'dup')], { dedup: claim([good(1)], 3000, { expiredAt: 1999, renew: true }) }))
      assert.equal(still.duplicateRows, 1)
    }))

  test(name('keyed state: a rolled-back batch remembers nothing; a refused row does not claim its key'), () =>
    withFixture(upsert, async (f, commit) => {
      const rows = [good(1), f.refused(2)]
      const failing: CommitParts<Tx> = {
        ...f.parts,
        deadLetters: { write: async () => { throw new SluiceError('SINK_UNAVAILABLE', 'dead-letter writer down') } },
      }
      await assert.rejects(commitBatch(failing, batch(1, rows, { dedup: claim(rows, 1000) })))
      const r = await commit(batch(1, rows, { dedup: claim(rows, 1000) }))
      assert.deepEqual([r.written, r.rejected.length, r.duplicateRows], [1, 1, 0], 'the rolled-back attempt left no key behind')
      const fixed = [good(2)]
      const again = await commit(batch(2, fixed, { dedup: claim(fixed, 1000) }))
      assert.deepEqual([again.written, again.duplicateRows], [1, 0], 'the refused row (now in the DLQ) did not remember key 2')
    }))

  /** The window state of the fixture's family (the aggregate step in append mode). */
  const windowsOf = (f: StoreFixture<Tx>): WindowState<Tx> => {
    assert.ok(f.parts.windows, `${harness.name} has no window state`)
    return f.parts.windows
  }
  const scope = { pipelineId: PIPELINE, step: 'transform[0]' }
  const win = (key: string, endMs: number, n: number): StoredWindow => ({ key, endMs, state: { group: key, window: `0/${endMs}`, partials: [{ fn: 'count', n }], note: 'é "quoted" \\ text' } })

  test(name('window state: saved in a batch, loaded and replaced by later batches, closed once by the watermark, earliest end first'), () =>
    withFixture(append, async (f) => {
      const w = windowsOf(f)
      await f.parts.store.commit(batch(1, []).mark, async (tx) => {
        assert.equal(await w.lockWatermark(tx, PIPELINE), null, 'no committed watermark yet')
        await w.save(tx, scope, [win('b', 2000, 1), win('a', 2000, 2), win('c', 3000, 3)])
        await w.save(tx, { ...scope, step: 'transform[1]' }, [win('a', 1000, 9)])
      })
      const loaded = await f.parts.store.commit(batch(2, [], { watermark: 1500 }).mark, async (tx) => {
        assert.equal(await w.lockWatermark(tx, PIPELINE), null)
        const got = await w.load(tx, scope, ['a', 'c', 'missing'])
        await w.save(tx, scope, [win('a', 2000, 5)])
        return got
      })
      assert.equal(loaded.status, 'committed')
      if (loaded.status === 'committed') {
        assert.deepEqual([...loaded.value.keys()].sort(), ['a', 'c'])
        assert.deepEqual(loaded.value.get('c'), win('c', 3000, 3).state, 'the state reads back exactly, text included')
      }
      const closed = await f.parts.store.commit(batch(3, []).mark, async (tx) => {
        assert.equal(await w.lockWatermark(tx, PIPELINE), 1500, 'the committed watermark')
        const first = await w.close(tx, scope, 2000, null)
        const again = await w.close(tx, scope, 2000, null)
        return { first, again, left: await w.count(tx, scope), other: await w.count(tx, { ...scope, step: 'transform[1]' }) }
      })
      assert.ok(closed.status === 'committed')
      assert.deepEqual(closed.value.first.map((x) => [x.key, x.endMs, (x.state as { partials: { n: number }[] }).partials[0]?.n]), [['a', 2000, 5], ['b', 2000, 1]])
      assert.deepEqual([closed.value.again, closed.value.left, closed.value.other], [[], 1, 1])
    }))

  test(name('window state: a rolled-back batch saves and closes nothing'), () =>
    withFixture(append, async (f, commit) => {
      const w = windowsOf(f)
      await f.parts.store.commit(batch(1, []).mark, async (tx) => w.save(tx, scope, [win('a', 1000, 1)]))
      await assert.rejects(
        f.parts.store.commit(batch(2, []).mark, async (tx) => {
          assert.equal((await w.close(tx, scope, 5000, null)).length, 1)
          await w.save(tx, scope, [win('z', 9000, 1)])
          throw new SluiceError('SINK_UNAVAILABLE', 'connection lost mid-batch')
        }),
      )
      const r = await f.parts.store.commit(batch(2, []).mark, async (tx) => ({ n: await w.count(tx, scope), a: await w.load(tx, scope, ['a', 'z']) }))
      assert.ok(r.status === 'committed')
      assert.deepEqual([r.value.n, [...r.value.a.keys()]], [1, ['a']])
      void commit
    }))

  test(name("window state: two batches' window work runs one after the other, the second sees the first's state"), () =>
    withFixture(append, async (f) => {
      const w = windowsOf(f)
      let locked: () => void = () => {}
      const firstLocked = new Promise<void>((resolve) => (locked = resolve))
      let release: () => void = () => {}
      const gate = new Promise<void>((resolve) => (release = resolve))
      const order: string[] = []
      const first = f.parts.store.commit(batch(1, [], { start: {}, end: { 't/0': '100' } }).mark, async (tx) => {
        await w.lockWatermark(tx, PIPELINE)
        order.push('first locked')
        locked()
        await gate
        await w.save(tx, scope, [win('k', 1000, 1)])
        order.push('first saved')
      })
      await firstLocked
      const second = f.parts.store.commit(batch(2, [], { start: {}, end: { 't/1': '100' } }).mark, async (tx) => {
        await w.lockWatermark(tx, PIPELINE)
        order.push('second locked')
        const had = await w.load(tx, scope, ['k'])
        const n = (had.get('k') as { partials: { n: number }[] } | undefined)?.partials[0]?.n ?? 0
        await w.save(tx, scope, [win('k', 1000, n + 1)])
      })
      // Give the second transaction time to reach the lock before the first goes on.
      await new Promise((r) => setTimeout(r, 200))
      release()
      const outcomes = await Promise.all([first, second])
      assert.deepEqual(outcomes.map((o) => o.status), ['committed', 'committed'])
      assert.deepEqual(order, ['first locked', 'first saved', 'second locked'])
      const r = await f.parts.store.commit(batch(3, [], { start: { 't/0': '100' }, end: { 't/0': '200' } }).mark, async (tx) => w.load(tx, scope, ['k']))
      assert.ok(r.status === 'committed')
      assert.equal((r.value.get('k') as { partials: { n: number }[] }).partials[0]?.n, 2, 'neither partial was lost')
    }))

  test(name("window state: a group's sessions load by key prefix, merged ones are deleted, and a session's expiry closes it"), () =>
    withFixture(append, async (f) => {
      const w = windowsOf(f)
      await f.parts.store.commit(batch(1, []).mark, async (tx) =>
        w.save(tx, scope, [
          { ...win('["u"]@0/10', 10, 1), expiresMs: 500 },
          { ...win('["u"]@20/30', 30, 1), expiresMs: 900 },
          { ...win('["u2"]@0/10', 10, 1), expiresMs: null },
          { ...win('["v"]@5/15', 15, 1) },
        ]),
      )
      const r = await f.parts.store.commit(batch(2, []).mark, async (tx) => {
        const u = await w.loadPrefixed(tx, scope, ['["u"]@', '["none"]@'])
        await w.delete(tx, scope, ['["u"]@0/10', '["u"]@20/30'])
        await w.save(tx, scope, [{ ...win('["u"]@0/30', 30, 3), expiresMs: 700 }])
        const expired = await w.close(tx, scope, null, 701)
        return { u: u.map((x) => [x.key, x.endMs, x.expiresMs ?? null]).sort(), expired: expired.map((x) => x.key), left: await w.count(tx, scope) }
      })
      assert.ok(r.status === 'committed')
      assert.deepEqual(r.value.u, [['["u"]@0/10', 10, 500], ['["u"]@20/30', 30, 900]], 'only u\'s sessions, not u2\'s')
      assert.deepEqual([r.value.expired, r.value.left], [['["u"]@0/30'], 2], 'expiry 700 < 701 closes; no expiry never does')
    }))

  test(name("settle runs after the pipeline state is saved, with the watermark the batch commits, inside the batch's transaction"), () =>
    withFixture(append, async (f) => {
      const w = windowsOf(f)
      const seen: (number | null)[] = []
      await f.parts.store.commit(batch(1, [], { watermark: 1000 }).mark, async () => {}, async (tx, _id, watermarkMs) => {
        seen.push(watermarkMs)
        await w.save(tx, scope, [win('a', 1000, 1)])
      })
      // A settle that fails rolls the whole batch back: the tracker row, the position and its state.
      await assert.rejects(
        f.parts.store.commit(batch(2, [], { watermark: 2000 }).mark, async () => {}, async (tx, _id, watermarkMs) => {
          seen.push(watermarkMs)
          await w.close(tx, scope, watermarkMs, null)
          throw new SluiceError('SINK_UNAVAILABLE', 'connection lost in settle')
        }),
      )
      assert.deepEqual([...seen], [1000, 2000])
      const state = await f.parts.store.committedState(PIPELINE)
      assert.deepEqual([state?.batchId, state?.watermarkMs], [1, 1000])
      const left = await f.parts.store.commit(batch(2, [], { watermark: 500 }).mark, async () => {}, async (tx, _id, watermarkMs) => {
        seen.push(watermarkMs)
        assert.equal(await w.count(tx, scope), 1, 'the failed settle closed nothing')
      })
      assert.equal(left.status, 'committed')
      assert.equal(seen.at(-1), 1000, 'the watermark never moves back')
    }))

  test(name('merge rules combine partial rows of a key with each other and with the stored row'), () =>
    withFixture(upsert, async (f, commit) => {
      const merge: Record<string, MergeRule> = { amount: 'sum' }
      await commit(batch(1, [{ id: 1, name: 'a', amount: 1.25 }, { id: 1, name: 'b', amount: 2 }, { id: 2, name: 'c', amount: 5 }], { merge }))
      await commit(batch(2, [{ id: 1, name: 'd', amount: 0.75 }], { merge }))
      assert.deepEqual(await f.rows(), [
        { id: 1, name: 'd', amount: 4 },
        { id: 2, name: 'c', amount: 5 },
      ])
    }))
}
