import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { RecordsBatch, fetchV17 } from '@platformatic/kafka'
import type { SourceRecord } from '../../../api/record.ts'
import { restoreCommittedBatches } from './committed-fetch.ts'
import { appendRecords } from './records.ts'

const TXN = 1 << 4
const CONTROL = 1 << 5

/** One transactional batch of producer 1 (`n` records from `first`), or its control marker. */
function batch(first: number, n: number, control?: 'abort' | 'commit'): RecordsBatch {
  const records = control
    ? [{ length: 0, attributes: 0, timestampDelta: 0n, offsetDelta: 0, key: Buffer.from([0, 0, 0, control === 'abort' ? 0 : 1]), value: Buffer.alloc(6), headers: [] }]
    : Array.from({ length: n }, (_, i) => ({ length: 0, attributes: 0, timestampDelta: 0n, offsetDelta: i, key: null, value: Buffer.from(`v${first + i}`), headers: [] }))
  return {
    firstOffset: BigInt(first),
    length: 0,
    partitionLeaderEpoch: 0,
    magic: 2,
    crc: 0,
    attributes: TXN | (control ? CONTROL : 0),
    lastOffsetDelta: (control ? 1 : n) - 1,
    firstTimestamp: 0n,
    maxTimestamp: 0n,
    producerId: 1n,
    producerEpoch: 0,
    firstSequence: 0,
    records,
  }
}

/**
 * The log of the regression: producer 1 aborts (0, marker 1), commits twice (2-3 + 4, 5 + 6),
 * aborts a transaction without data here (marker 7), commits again (8 + 9).
 */
const LOG = [batch(0, 1), batch(1, 1, 'abort'), batch(2, 2), batch(4, 1, 'commit'), batch(5, 1), batch(6, 1, 'commit'), batch(7, 1, 'abort'), batch(8, 1), batch(9, 1, 'commit')]

function response(records: RecordsBatch[] | null, aborted: { producerId: bigint; firstOffset: bigint }[] | null, partitionIndex = 0): fetchV17.FetchResponse {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [{ topicId: 'T', partitions: [{ partitionIndex, errorCode: 0, highWatermark: 10n, lastStableOffset: 10n, logStartOffset: 0n, abortedTransactions: aborted, preferredReadReplica: -1, records }] }],
  }
}

const part = { topicId: 'T', partition: 0, offset: 0n }

function read(r: fetchV17.FetchResponse): string[] {
  const p = r.responses[0]?.partitions[0]
  const out: SourceRecord[] = []
  appendRecords({ key: 't/0', topic: 't', partition: 0, from: 0n, to: 10n }, p?.records ?? [], p?.abortedTransactions ?? null, out)
  return out.map((x) => x.value?.toString() ?? '')
}

test('no aborted transaction listed: the response as it is, no second fetch', async () => {
  const r = response(LOG.slice(2), [])
  let refetched = 0
  const got = await restoreCommittedBatches(r, [part], async () => {
    refetched++
    return response(LOG, null)
  })
  assert.equal(refetched, 0)
  assert.equal(got, r)
  assert.deepEqual(read(got), ['v2', 'v3', 'v5', 'v8'])
})

test('aborted transactions listed: the filtered batches are replaced by the unfiltered ones; the caller drops the aborted ones', async () => {
  // What the library leaves of LOG: producer 1's batches from 0 up to its last abort marker (7) dropped.
  const filtered = response(LOG.filter((b) => b.firstOffset >= 7n), [{ producerId: 1n, firstOffset: 0n }])
  assert.deepEqual(read(filtered), ['v8'], 'the library filter loses the committed records in between')
  const asked: unknown[] = []
  const got = await restoreCommittedBatches(filtered, [part], async (again) => {
    asked.push(...again)
    return response(LOG, null)
  })
  assert.deepEqual(asked, [part], 'the same partition at the same offset, once more')
  assert.deepEqual(read(got), ['v2', 'v3', 'v5', 'v8'])
})

test('never past where the read_committed response reached (its last stable offset)', async () => {
  // read_committed stopped at 7 (the last stable offset then); read_uncommitted returns more.
  const filtered = response([batch(1, 1, 'abort'), batch(2, 2), batch(4, 1, 'commit'), batch(5, 1), batch(6, 1, 'commit')], [{ producerId: 1n, firstOffset: 0n }])
  const got = await restoreCommittedBatches(filtered, [part], async () => response(LOG, null))
  assert.deepEqual(
    got.responses[0]?.partitions[0]?.records?.map((b) => b.firstOffset),
    [0n, 1n, 2n, 4n, 5n, 6n],
  )
  assert.deepEqual(read(got), ['v2', 'v3', 'v5'])
})

test('a partition the second fetch does not return gets no batches: no progress, nothing skipped', async () => {
  const filtered = response(LOG.filter((b) => b.firstOffset >= 7n), [{ producerId: 1n, firstOffset: 0n }])
  const got = await restoreCommittedBatches(filtered, [part], async () => response(LOG, null, 5))
  assert.deepEqual(got.responses[0]?.partitions[0]?.records, [])
})

test('the second fetch failing fails the fetch', async () => {
  const filtered = response(LOG.filter((b) => b.firstOffset >= 7n), [{ producerId: 1n, firstOffset: 0n }])
  await assert.rejects(
    restoreCommittedBatches(filtered, [part], async () => {
      throw new Error('broker gone')
    }),
    /broker gone/,
  )
})
