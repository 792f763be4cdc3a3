/**
 * Turns the record batches of one fetched partition into SourceRecords for an offset range:
 * skips offsets below the range (a fetch starts at the batch that holds the fetch offset), stops
 * at its end, drops control records and the records of aborted transactions. Keys and values stay
 * Buffers (no decoding here); header keys become strings.
 */
import type { RecordsBatch } from '@platformatic/kafka'
import type { SourceRecord } from '../../../api/record.ts'

const IS_TRANSACTIONAL = 1 << 4
const IS_CONTROL = 1 << 5
const LOG_APPEND_TIME = 1 << 3
const EMPTY = Buffer.alloc(0)
/** One shared (frozen) list for the records without headers, the usual case: no array per record. */
const NO_HEADERS: SourceRecord['headers'] = Object.freeze([])

/** An aborted transaction as a read_committed fetch response lists it. */
export interface AbortedTransaction {
  readonly producerId: bigint
  readonly firstOffset: bigint
}

/** One partition's wanted range of a read: offsets [from, to). */
export interface PartitionRange {
  readonly key: string
  readonly topic: string
  readonly partition: number
  readonly from: bigint
  readonly to: bigint
}

/** The offset after the last record of a batch. */
export function batchEnd(batch: RecordsBatch): bigint {
  return batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n
}

/**
 * Appends the records of `batches` that fall in [range.from, range.to) to `out`, in offset order,
 * and returns the offset to fetch next (past every batch seen, control and aborted ones included).
 *
 * Aborted transactions are dropped as the Java consumer does: each aborted transaction the broker
 * lists opens at its first offset for its producer, and closes at that producer's abort marker;
 * transactional batches of a producer with an open aborted transaction are skipped. This holds
 * even when the marker lies beyond this response (a large aborted transaction cut by maxBytes).
 */
export function appendRecords(
  range: PartitionRange,
  batches: readonly RecordsBatch[],
  aborted: readonly AbortedTransaction[] | null,
  out: SourceRecord[],
): bigint {
  let next = range.from
  const pending = aborted && aborted.length > 0 ? [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1)) : []
  const abortedProducers = new Set<bigint>()
  const { key, topic, partition, from, to } = range
  for (const batch of batches) {
    const end = batchEnd(batch)
    if (end > next) next = end
    // Batches outside the range still go through the bookkeeping: an abort marker before `from`
    // closes a transaction that the broker may list.
    const transactional = (batch.attributes & IS_TRANSACTIONAL) !== 0
    if (pending.length > 0 || abortedProducers.size > 0) {
      const last = end - 1n
      while (pending.length > 0 && (pending[0] as AbortedTransaction).firstOffset <= last) {
        abortedProducers.add((pending.shift() as AbortedTransaction).producerId)
      }
      if ((batch.attributes & IS_CONTROL) !== 0) {
        // Control record key: int16 version, int16 type (0 = abort, 1 = commit).
        const k = batch.records[0]?.key
        if (k && k.length >= 4 && k.readInt16BE(2) === 0) abortedProducers.delete(batch.producerId)
        continue
      }
      if (transactional && abortedProducers.has(batch.producerId)) continue
    }
    if ((batch.attributes & IS_CONTROL) !== 0 || end <= from || batch.firstOffset >= to) continue
    appendBatch(key, topic, partition, from, to, batch, out)
  }
  return next > to ? to : next
}

function appendBatch(
  key: string,
  topic: string,
  partition: number,
  from: bigint,
  to: bigint,
  batch: RecordsBatch,
  out: SourceRecord[],
): void {
  const logAppendTime = (batch.attributes & LOG_APPEND_TIME) !== 0
  const first = batch.firstOffset
  // Offsets and timestamps fit in doubles in practice; fall back to bigint math when they do not.
  const small = first < 9007199254740000n
  const firstNum = Number(first)
  const fromDelta = Number(from - first)
  const toDelta = to - first > 2147483647n ? 2147483647 : Number(to - first)
  const baseTs = Number(batch.firstTimestamp)
  const maxTs = Number(batch.maxTimestamp)
  for (const r of batch.records) {
    const delta = r.offsetDelta
    if (delta < fromDelta) continue
    if (delta >= toDelta) break
    let headers = NO_HEADERS
    if (r.headers.length > 0) {
      const named: (readonly [string, Buffer])[] = []
      for (const [hk, hv] of r.headers) named.push([hk === null ? '' : hk.toString(), hv ?? EMPTY])
      headers = named
    }
    out.push({
      partition: key,
      topic,
      partitionNumber: partition,
      offset: small ? String(firstNum + delta) : (first + BigInt(delta)).toString(),
      key: r.key,
      value: r.value,
      timestamp: logAppendTime ? maxTs : baseTs + Number(r.timestampDelta),
      timestampType: logAppendTime ? 1 : 0,
      headers,
    })
  }
}
