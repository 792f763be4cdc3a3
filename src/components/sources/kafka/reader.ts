/**
 * The read loop of the Kafka source: fetches exactly the offsets [from, to) of each partition,
 * pipelined. As soon as a fetch response arrives, the next fetch (from the offsets it reached) is
 * sent, and only then is the response turned into records and handed to the caller; so the broker
 * works on round n+1 while the engine decodes and writes round n. At most one response is in
 * flight and one chunk is with the caller, so memory stays bounded by about twice fetch.max.bytes
 * (plus the parsed records), however large the batch.
 */
import type { Logger } from '../../../api/component.ts'
import type { SourceRecord } from '../../../api/record.ts'
import type { fetchV17 } from '@platformatic/kafka'
import { SluiceError } from '../../../errors.ts'
import { isOffsetOutOfRange, type KafkaClient, type PartitionInfo } from './client.ts'
import { checkStart } from './plan.ts'
import { appendRecords, batchEnd } from './records.ts'
import { batchWireBytes, recordBytes } from './sizes.ts'

/** One partition of a read: where it is and where it stops. */
export interface ReadPartition {
  readonly info: PartitionInfo
  next: bigint
  readonly to: bigint
  /** Consecutive fetches that brought this partition no progress. */
  idle: number
  /** The fetch round that last asked for this partition (startRound's rotation); absent: none yet. */
  asked?: number
}

export interface ReadOptions {
  readonly failOnDataLoss: boolean
  readonly logger: Logger
  readonly signal: AbortSignal
  /** Fetch rounds without progress before giving up on a partition (default 100, ~10 s at 100 ms waits). */
  readonly maxIdleRounds?: number
  /**
   * Told, per partition and round, how many records the offsets it advanced held, their bytes
   * (recordBytes), and the largest record batch of the round's response (bytes on the wire).
   */
  readonly observe?: (key: string, bytes: number, records: number, largestBatch: number) => void
  /** Expected bytes per offset of a partition (sizes.ts), to ask for no more than the range still needs. */
  readonly bytesPerOffset?: ReadonlyMap<string, number>
  /** The largest record batch seen on a partition (sizes.ts): a fetch asks for at least twice that. */
  readonly largestBatch?: ReadonlyMap<string, number>
  /** The configured per-partition fetch size (kafka.max.partition.fetch.bytes). */
  readonly partitionMaxBytes?: number
  /** The configured response size (kafka.fetch.max.bytes): a round asks for no more partitions than fit in it. */
  readonly fetchMaxBytes?: number
}

/**
 * Below this, a partition's fetch size is not lowered while its record batches are unknown (the
 * long-standing default, enough for any producer batch up to the producer's default request size).
 */
const PARTITION_FLOOR_BYTES = 1024 * 1024
/** Never below this, however small the partition's batches are. */
const PARTITION_MIN_BYTES = 64 * 1024

/**
 * The per-partition size to ask for: the configured size, but no more than the rest of the range
 * is expected to need (+25 %). The client decodes every record of a response, also those past
 * the planned end, which a read then drops: with kafka.max.partition.fetch.bytes at 8 MiB and
 * batches of ~3 MB per partition that was most of the decoding, and with 100 partitions of ~100 KB
 * each per batch and 1 MiB asked of each, 90 % of every 1 MiB response (docs/benchmarks.md).
 * It is never below twice the largest record batch seen on the partition (and 64 KiB), or, before
 * one was seen, min(configured, 1 MiB): the broker returns a batch larger than the size asked only
 * for the first partition of a response, so a smaller ask could stall the others. A partition that
 * made no progress in the last round asks for the configured size.
 */
export function partitionFetchBytes(configured: number, remainingOffsets: bigint, bytesPerOffset: number | undefined, largestBatch?: number, stalled = false): number {
  const floor = Math.min(configured, largestBatch === undefined ? PARTITION_FLOOR_BYTES : Math.max(PARTITION_MIN_BYTES, 2 * largestBatch))
  if (bytesPerOffset === undefined || stalled || configured <= floor) return configured
  const needed = Math.ceil(Number(remainingOffsets) * bytesPerOffset * 1.25)
  return Math.max(floor, Math.min(configured, needed))
}

type Response = fetchV17.FetchResponse

interface Round {
  readonly responses: Response[]
}

/** Reads every record of `parts` in their ranges, in chunks (one chunk per fetch round). */
export async function* readPartitions(client: KafkaClient, parts: ReadPartition[], options: ReadOptions): AsyncGenerator<SourceRecord[]> {
  const byId = new Map<string, ReadPartition>()
  for (const p of parts) byId.set(`${p.info.topicId}:${p.info.partition}`, p)
  const maxIdle = options.maxIdleRounds ?? 100
  let rounds = 0
  const send = (ps: readonly ReadPartition[]): Promise<Round> => startRound(client, ps, options, rounds++)
  let inflight: Promise<Round> | null = send(parts)
  try {
    while (inflight !== null) {
      options.signal.throwIfAborted()
      let round: Round
      try {
        round = await inflight
      } catch (err) {
        inflight = null
        if (!isOffsetOutOfRange(err)) throw await client.failure(err, 'fetch')
        await skipLostRecords(client, parts, options)
        inflight = send(parts)
        continue
      }
      // Advance first (cheap), send the next fetch, then convert while it is in flight.
      const work: { part: ReadPartition; from: bigint; end: bigint; p: Response['responses'][number]['partitions'][number]; largest: number }[] = []
      for (const res of round.responses) {
        for (const topic of res.responses) {
          for (const p of topic.partitions) {
            const part = byId.get(`${topic.topicId}:${p.partitionIndex}`)
            if (!part) continue
            const from = part.next
            let end = from
            let largest = 0
            for (const b of p.records ?? []) {
              const e = batchEnd(b)
              if (e > end) end = e
              largest = Math.max(largest, batchWireBytes(b))
            }
            if (end > part.to) end = part.to
            if (end > from) {
              part.next = end
              part.idle = 0
            } else if (++part.idle > maxIdle) {
              throw new SluiceError(
                'SOURCE_UNAVAILABLE',
                `Kafka returned no records for ${part.info.key} at offset ${from} (planned up to ${part.to}; the log now ends at ${p.lastStableOffset})`,
                { details: { partition: part.info.key, offset: from.toString(), to: part.to.toString() } },
              )
            }
            work.push({ part, from, end, p, largest })
          }
        }
      }
      const remaining = parts.filter((p) => p.next < p.to)
      inflight = remaining.length > 0 ? send(remaining) : null
      const chunk: SourceRecord[] = []
      for (const { part, from, end, p, largest } of work) {
        const { key, topic, partition } = part.info
        const first = chunk.length
        appendRecords({ key, topic, partition, from, to: part.to }, p.records ?? [], p.abortedTransactions, chunk)
        if (options.observe && end > from) {
          let bytes = 0
          for (let i = first; i < chunk.length; i++) bytes += recordBytes(chunk[i] as SourceRecord)
          options.observe(key, bytes, chunk.length - first, largest)
        }
      }
      if (chunk.length > 0) yield chunk
    }
  } finally {
    // A caller that stops early must not leave a fetch racing the next read on the same session.
    if (inflight !== null) await inflight.catch(() => {})
  }
}

/**
 * Sends one fetch per leader for the partitions still short of their end: as many as their sizes
 * (partitionFetchBytes) fit in the response size, least recently asked first, at least one. The
 * broker fills a response in the order asked and stops at its size, so asking every partition of
 * a leader at once (100 partitions, a 1 MiB response) served the first few, starved the rest, and
 * decoded records past the planned end of each (5.9M records decoded for 1M used).
 */
function startRound(client: KafkaClient, parts: readonly ReadPartition[], options: ReadOptions, round: number): Promise<Round> {
  const byLeader = new Map<number, ReadPartition[]>()
  for (const p of parts) {
    if (p.next >= p.to) continue
    const list = byLeader.get(p.info.leader)
    if (list) list.push(p)
    else byLeader.set(p.info.leader, [p])
  }
  const configured = options.partitionMaxBytes
  const fetches = [...byLeader].map(([leader, ps]) => {
    const asks = ps.map((p) => ({ p, bytes: configured === undefined ? undefined : partitionFetchBytes(configured, p.to - p.next, options.bytesPerOffset?.get(p.info.key), options.largestBatch?.get(p.info.key), p.idle > 0) }))
    // Until every partition's size is estimated (its first read), all are asked, as before.
    const response = options.fetchMaxBytes
    const sized = response !== undefined && ps.every((p) => options.bytesPerOffset?.has(p.info.key) === true)
    const chosen = sized ? fitResponse(asks, response) : asks
    for (const { p } of chosen) p.asked = round
    return client.fetch(
      leader,
      chosen.map(({ p, bytes }) => ({ topicId: p.info.topicId, partition: p.info.partition, offset: p.next, ...(bytes === undefined ? {} : { maxBytes: bytes }) })),
    )
  })
  return Promise.all(fetches).then((responses) => ({ responses }))
}

/** The partitions whose sizes fit in `responseBytes`, least recently asked first (at least one). */
export function fitResponse<T extends { readonly p: ReadPartition; readonly bytes: number | undefined }>(asks: readonly T[], responseBytes: number): T[] {
  const order = [...asks].sort((a, b) => (a.p.asked ?? -1) - (b.p.asked ?? -1))
  const out: T[] = []
  let total = 0
  for (const a of order) {
    const bytes = a.bytes ?? 0
    if (out.length > 0 && total + bytes > responseBytes) continue
    out.push(a)
    total += bytes
  }
  return out
}

/** After OFFSET_OUT_OF_RANGE: fail on lost records, or (failOnDataLoss false) skip to the log start. */
async function skipLostRecords(client: KafkaClient, parts: ReadPartition[], options: ReadOptions): Promise<void> {
  const active = parts.filter((p) => p.next < p.to)
  const infos = active.map((p) => p.info)
  const [earliest, latest] = await Promise.all([client.offsets(infos, 'earliest'), client.offsets(infos, 'latest')])
  let moved = false
  for (const p of active) {
    const bounds = { earliest: earliest.get(p.info.key) ?? 0n, latest: latest.get(p.info.key) ?? 0n }
    const start = checkStart(p.info.key, p.next, bounds, options.failOnDataLoss, options.logger)
    if (start !== p.next) {
      // Forward to the log start; a truncated log (start moved back) has lost the rest of the range.
      p.next = start > p.next && start < p.to ? start : p.to
      moved = true
    }
  }
  if (!moved) throw new SluiceError('SOURCE_UNAVAILABLE', 'Kafka reported an offset out of range, but every partition is within its log now')
}
