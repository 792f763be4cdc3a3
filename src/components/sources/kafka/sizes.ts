/**
 * What an offset of each partition costs, for the byte cap of a plan (maxBytesPerTrigger).
 *
 * Kafka has no "bytes between two offsets" request, and the cap must be applied when a batch is
 * planned, not while it is read: the plan (end offsets) is written to the checkpoint WAL before
 * the batch runs, and a replay after a crash reads exactly that range again, so a cap that cut a
 * read short would make the replayed batch a different batch (and the read-ahead, the tracker row
 * and the stored position all name the planned end). So the plan converts bytes into offsets
 * with an estimate: the bytes per offset of the records this process last read from the
 * partition, or, for a partition it has not read yet, of one small probe fetch at the batch's
 * start. The estimate only shapes a plan; once planned, the range is fixed, whatever the
 * estimate later becomes (a restarted process replays the WAL's range, it does not re-plan).
 * The price of an estimate: when records grow within a backlog, one batch can pass the cap
 * before the next plan learns the new size.
 *
 * The estimate is the bytes per record of what was seen, charged to every offset: a transaction
 * marker or an aborted record is charged like a record although it brings no bytes. That errs on
 * the side of a smaller batch; bytes per offset would not: a small range that ended on a commit
 * marker made the next batch pass the cap, and a range of markers only (the live end of a
 * transactional topic) set the estimate to 0, which made the partition free of the cap.
 */
import type { SourceRecord } from '../../../api/record.ts'
import type { KafkaClient, PartitionInfo } from './client.ts'
import { unavailable } from './client.ts'
import { appendRecords } from './records.ts'

/** Bytes a record brings into a batch: key, value and headers (what decoding and COPY work on). */
export function recordBytes(r: SourceRecord): number {
  let n = (r.key?.length ?? 0) + (r.value?.length ?? 0)
  for (const [k, v] of r.headers) n += k.length + v.length
  return n
}

/** Bytes per partition of a probe fetch: enough for a few records, small enough to be cheap. */
const PROBE_PARTITION_BYTES = 64 * 1024

/** Size on the wire of a record batch as the fetch returned it (its `length` field leaves out the offset and length themselves). */
export function batchWireBytes(batch: { readonly length: number }): number {
  return batch.length + 12
}

/** Expected bytes per offset, and the largest record batch seen, by partition key. */
export class RecordSizes {
  readonly #perOffset = new Map<string, number>()
  readonly #largestBatch = new Map<string, number>()

  /** The estimates, by partition key. */
  get perOffset(): ReadonlyMap<string, number> {
    return this.#perOffset
  }

  /** The largest record batch (bytes on the wire) seen on each partition (reader.ts sizes fetches by it). */
  get largestBatch(): ReadonlyMap<string, number> {
    return this.#largestBatch
  }

  /**
   * Learns from `records` records of a partition that held `bytes` bytes (offsets without a record
   * teach nothing), and from the largest record batch of the fetch that brought them.
   */
  observe(key: string, bytes: number, records: number, largestBatch = 0): void {
    if (records > 0) this.#perOffset.set(key, bytes / records)
    if (largestBatch > (this.#largestBatch.get(key) ?? 0)) this.#largestBatch.set(key, largestBatch)
  }

  /**
   * Fetches a little of each partition that has no estimate yet, from its start (one request per
   * leader and round; the broker returns at least the first batch of the first partition asked, so
   * every round settles at least one partition).
   */
  async probe(client: KafkaClient, parts: readonly { info: PartitionInfo; start: bigint; end: bigint }[]): Promise<void> {
    let open = parts.filter((p) => p.end > p.start && !this.#perOffset.has(p.info.key))
    for (let round = 0; open.length > 0 && round < parts.length; round++) {
      const byLeader = new Map<number, typeof open>()
      for (const p of open) byLeader.set(p.info.leader, [...(byLeader.get(p.info.leader) ?? []), p])
      const responses = await Promise.all(
        [...byLeader].map(([leader, ps]) =>
          client
            .fetch(leader, ps.map((p) => ({ topicId: p.info.topicId, partition: p.info.partition, offset: p.start })), {
              maxBytes: PROBE_PARTITION_BYTES * ps.length,
              partitionMaxBytes: PROBE_PARTITION_BYTES,
            })
            .catch((err: unknown) => {
              throw unavailable(err, 'fetch (record size probe)')
            }),
        ),
      )
      const wanted = new Map(open.map((p) => [`${p.info.topicId}:${p.info.partition}`, p]))
      for (const res of responses) {
        for (const topic of res.responses) {
          for (const fetched of topic.partitions) {
            const p = wanted.get(`${topic.topicId}:${fetched.partitionIndex}`)
            if (!p) continue
            const { key, topic: name, partition } = p.info
            const records: SourceRecord[] = []
            appendRecords({ key, topic: name, partition, from: p.start, to: p.end }, fetched.records ?? [], fetched.abortedTransactions, records)
            const largest = (fetched.records ?? []).reduce((max, b) => Math.max(max, batchWireBytes(b)), 0)
            this.observe(key, records.reduce((sum, r) => sum + recordBytes(r), 0), records.length, largest)
          }
        }
      }
      const before = open.length
      open = open.filter((p) => !this.#perOffset.has(p.info.key))
      if (open.length === before) break // nothing came back: leave the rest without an estimate
    }
  }
}
