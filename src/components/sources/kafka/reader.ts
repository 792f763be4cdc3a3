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
import { recordBytes } from './sizes.ts'

/** One partition of a read: where it is and where it stops. */
export interface ReadPartition {
  readonly info: PartitionInfo
  next: bigint
  readonly to: bigint
  /** Consecutive fetches that brought this partition no progress. */
  idle: number
}

export interface ReadOptions {
  readonly failOnDataLoss: boolean
  readonly logger: Logger
  readonly signal: AbortSignal
  /** Fetch rounds without progress before giving up on a partition (default 100, ~10 s at 100 ms waits). */
  readonly maxIdleRounds?: number
  /** Told, per partition and round, how many records the offsets it advanced held, and their bytes (recordBytes). */
  readonly observe?: (key: string, bytes: number, records: number) => void
  /** Expected bytes per offset of a partition (sizes.ts), to ask for no more than the range still needs. */
  readonly bytesPerOffset?: ReadonlyMap<string, number>
  /** The configured per-partition fetch size (kafka.max.partition.fetch.bytes). */
  readonly partitionMaxBytes?: number
}

/** Below this, a partition's fetch size is never lowered (the long-standing default, safe for any producer batch size). */
const PARTITION_FLOOR_BYTES = 1024 * 1024

/**
 * The per-partition size to ask for: the configured size, but no more than the rest of the range
 * is expected to need (+25 %), and never below min(configured, 1 MiB). The client decodes every
 * record of a response, also those past the planned end, which a read then drops: with
 * kafka.max.partition.fetch.bytes at 8 MiB and batches of ~3 MB per partition that was most of
 * the decoding (docs/benchmarks.md). The broker still returns a whole first batch when one is
 * larger than the size asked.
 */
export function partitionFetchBytes(configured: number, remainingOffsets: bigint, bytesPerOffset: number | undefined): number {
  const floor = Math.min(configured, PARTITION_FLOOR_BYTES)
  if (bytesPerOffset === undefined || configured <= floor) return configured
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
  const send = (ps: readonly ReadPartition[]): Promise<Round> => startRound(client, ps, options)
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
      const work: { part: ReadPartition; from: bigint; end: bigint; p: Response['responses'][number]['partitions'][number] }[] = []
      for (const res of round.responses) {
        for (const topic of res.responses) {
          for (const p of topic.partitions) {
            const part = byId.get(`${topic.topicId}:${p.partitionIndex}`)
            if (!part) continue
            const from = part.next
            let end = from
            for (const b of p.records ?? []) {
              const e = batchEnd(b)
              if (e > end) end = e
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
            work.push({ part, from, end, p })
          }
        }
      }
      const remaining = parts.filter((p) => p.next < p.to)
      inflight = remaining.length > 0 ? send(remaining) : null
      const chunk: SourceRecord[] = []
      for (const { part, from, end, p } of work) {
        const { key, topic, partition } = part.info
        const first = chunk.length
        appendRecords({ key, topic, partition, from, to: part.to }, p.records ?? [], p.abortedTransactions, chunk)
        if (options.observe && end > from) {
          let bytes = 0
          for (let i = first; i < chunk.length; i++) bytes += recordBytes(chunk[i] as SourceRecord)
          options.observe(key, bytes, chunk.length - first)
        }
      }
      if (chunk.length > 0) yield chunk
    }
  } finally {
    // A caller that stops early must not leave a fetch racing the next read on the same session.
    if (inflight !== null) await inflight.catch(() => {})
  }
}

/** Sends one fetch per leader for the partitions still short of their end. */
function startRound(client: KafkaClient, parts: readonly ReadPartition[], options: ReadOptions): Promise<Round> {
  const byLeader = new Map<number, ReadPartition[]>()
  for (const p of parts) {
    if (p.next >= p.to) continue
    const list = byLeader.get(p.info.leader)
    if (list) list.push(p)
    else byLeader.set(p.info.leader, [p])
  }
  const configured = options.partitionMaxBytes
  const fetches = [...byLeader].map(([leader, ps]) =>
    client.fetch(
      leader,
      ps.map((p) => ({
        topicId: p.info.topicId,
        partition: p.info.partition,
        offset: p.next,
        ...(configured === undefined ? {} : { maxBytes: partitionFetchBytes(configured, p.to - p.next, options.bytesPerOffset?.get(p.info.key)) }),
      })),
    ),
  )
  return Promise.all(fetches).then((responses) => ({ responses }))
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
