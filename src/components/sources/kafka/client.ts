/**
 * The broker conversations of the Kafka source, over @platformatic/kafka: topic discovery,
 * ListOffsets, Fetch (no consumer group: explicit offsets only) and the lag-only group commit.
 * Every failure leaves here as a SluiceError without secrets.
 */
import { findErrorBy, type Admin, type Consumer, type fetchV17 } from '@platformatic/kafka'
import { SluiceError } from '../../../errors.ts'
import { useContiguousReads } from './contiguous-reads.ts'
import { restoreCommittedBatches } from './committed-fetch.ts'
import { clientTuning, createAdmin, createConsumer, type ReaderSettings } from '../../kafka/clients.ts'
import { kafkaFailure, kafkaFailureSync } from '../../kafka/failure.ts'
import type { TopicSelection } from './options.ts'
import { partitionKey } from './plan.ts'

/** One topic-partition as the metadata describes it. */
export interface PartitionInfo {
  readonly key: string
  readonly topic: string
  readonly topicId: string
  readonly partition: number
  readonly leader: number
}

/** What one partition of a fetch asks for. */
export interface FetchPartition {
  readonly topicId: string
  readonly partition: number
  readonly offset: bigint
  /** This partition's size limit in the request (default: the configured max.partition.fetch.bytes). */
  readonly maxBytes?: number
}

const EARLIEST = -2n
const LATEST = -1n

/**
 * How long the batch loop reuses topic metadata (partitions, leaders) it read: a small batch used to
 * re-read it twice (plan, then read), two broker round trips of about five per batch. Kafka's own
 * consumers keep it for metadata.max.age.ms (5 minutes); a second still sees a new topic of a
 * pattern or a new partition within a second. A failed fetch forgets it, so the retry re-reads.
 */
export const PLAN_METADATA_MAX_AGE_MS = 1000

/**
 * Wraps a client failure as SOURCE_UNAVAILABLE (retryable), or SOURCE_AUTH when it is permanent (a
 * refused login or certificate, see components/kafka/failure.ts), naming the cause.
 */
export function unavailable(err: unknown, action: string): SluiceError {
  return kafkaFailureSync(err, action, 'source')
}

/** True when a fetch failed because an offset is no longer (or not yet) in the log. */
export function isOffsetOutOfRange(err: unknown): boolean {
  return err instanceof Error && findErrorBy(err, 'apiId', 'OFFSET_OUT_OF_RANGE') !== null
}

/** The source's two clients: a group-less consumer for metadata/offsets/fetch, an admin for topics and commits. */
export class KafkaClient {
  readonly #settings: ReaderSettings
  readonly #consumer: Consumer
  readonly #admin: Admin
  /** Metadata reused for up to `maxAgeMs` by the callers that ask (the batch loop): topic names, and partitions per topic. */
  #topicNames: { at: number; names: string[] } | null = null
  readonly #described = new Map<string, { at: number; parts: PartitionInfo[] }>()
  /** Log start offsets last listed, per partition key (reused by the batch loop: offsets()). */
  readonly #earliest = new Map<string, { at: number; offset: bigint }>()

  constructor(settings: ReaderSettings) {
    // Fetch responses are decoded from one buffer, so large fetches do not cost more per byte.
    useContiguousReads()
    this.#settings = settings
    const tuning = clientTuning(settings)
    this.#consumer = createConsumer(settings.connection, tuning, {
      groupId: settings.groupId,
      isolationLevel: settings.isolationLevel,
      maxBytes: settings.fetchMaxBytes,
      maxWaitTime: settings.fetchMaxWaitMs,
      minBytes: 1,
    })
    this.#admin = createAdmin(settings.connection, tuning)
  }

  /** Wraps a failure of `action`; a TLS connection that was only "closed" is probed for the broker's alert. */
  failure(err: unknown, action: string): Promise<SluiceError> {
    return kafkaFailure(err, action, 'source', this.#settings.connection)
  }

  /** Every partition of the selected topics, in topic then partition order; `maxAgeMs` > 0 reuses metadata read that recently. */
  async partitions(selection: TopicSelection, maxAgeMs = 0): Promise<PartitionInfo[]> {
    let topics: string[]
    try {
      topics = selection.select(await this.#listTopics(maxAgeMs))
    } catch (err) {
      throw await this.failure(err, 'listing topics')
    }
    return this.describeTopics(topics, maxAgeMs)
  }

  async #listTopics(maxAgeMs: number): Promise<string[]> {
    const now = performance.now()
    if (this.#topicNames !== null && now - this.#topicNames.at < maxAgeMs) return this.#topicNames.names
    const names = await this.#admin.listTopics()
    this.#topicNames = { at: now, names }
    return names
  }

  /** Forgets reused metadata (a fetch failed: a leader may have moved). */
  forgetMetadata(): void {
    this.#topicNames = null
    this.#described.clear()
    this.#earliest.clear()
  }

  /** Partitions of the named topics (existing ones only), from fresh metadata, or from metadata read within `maxAgeMs`. */
  async describeTopics(topics: readonly string[], maxAgeMs = 0): Promise<PartitionInfo[]> {
    if (topics.length === 0) return []
    const now = performance.now()
    const sorted = [...topics].sort()
    const cached = sorted.map((t) => this.#described.get(t))
    if (cached.every((c) => c !== undefined && now - c.at < maxAgeMs)) return cached.flatMap((c) => c?.parts ?? [])
    try {
      const md = await this.#consumer.metadata({ topics: [...topics], forceUpdate: true })
      const out: PartitionInfo[] = []
      for (const topic of sorted) {
        const t = md.topics.get(topic)
        if (!t) continue
        const parts: PartitionInfo[] = []
        for (let p = 0; p < t.partitionsCount; p++) {
          parts.push({ key: partitionKey(topic, p), topic, topicId: t.id, partition: p, leader: t.partitions[p]?.leader ?? -1 })
        }
        this.#described.set(topic, { at: now, parts })
        out.push(...parts)
      }
      return out
    } catch (err) {
      throw await this.failure(err, 'reading topic metadata')
    }
  }

  /**
   * Earliest (log start) or latest (last stable offset under read_committed) offset of each
   * partition. Earliest offsets listed within `maxAgeMs` are reused: the log start moves only when
   * retention deletes segments, a stale one is never later than the true one (a loss it misses now is
   * caught by the fetch's OFFSET_OUT_OF_RANGE, reader.ts), and the batch loop saves a round trip.
   */
  async offsets(parts: readonly PartitionInfo[], which: 'earliest' | 'latest', maxAgeMs = 0): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>()
    if (parts.length === 0) return out
    const now = performance.now()
    if (which === 'earliest' && maxAgeMs > 0) {
      for (const p of parts) {
        const known = this.#earliest.get(p.key)
        if (known === undefined || now - known.at >= maxAgeMs) break
        out.set(p.key, known.offset)
      }
      if (out.size === parts.length) return out
      out.clear()
    }
    const partitions: Record<string, number[]> = {}
    for (const p of parts) (partitions[p.topic] ??= []).push(p.partition)
    try {
      const res = await this.#consumer.listOffsets({
        topics: Object.keys(partitions),
        partitions,
        timestamp: which === 'earliest' ? EARLIEST : LATEST,
        isolationLevel: this.#settings.isolationLevel,
      })
      for (const p of parts) {
        const o = res.get(p.topic)?.[p.partition]
        if (o === undefined) throw new Error(`no ${which} offset returned for ${p.key}`)
        out.set(p.key, o)
        if (which === 'earliest') this.#earliest.set(p.key, { at: now, offset: o })
      }
      return out
    } catch (err) {
      throw await this.failure(err, `listing ${which} offsets`)
    }
  }

  /**
   * The first offset of each partition whose record time is at or after `ms` (ListOffsets by
   * timestamp), or null when the partition has no record that late.
   */
  async offsetsAt(parts: readonly PartitionInfo[], ms: number): Promise<Map<string, bigint | null>> {
    const out = new Map<string, bigint | null>()
    if (parts.length === 0) return out
    const partitions: Record<string, number[]> = {}
    for (const p of parts) (partitions[p.topic] ??= []).push(p.partition)
    try {
      const res = await this.#consumer.listOffsets({ topics: Object.keys(partitions), partitions, timestamp: BigInt(Math.trunc(ms)), isolationLevel: this.#settings.isolationLevel })
      for (const p of parts) {
        const o = res.get(p.topic)?.[p.partition]
        out.set(p.key, o === undefined || o < 0n ? null : o)
      }
      return out
    } catch (err) {
      throw await this.failure(err, `listing offsets at ${new Date(ms).toISOString()}`)
    }
  }

  /**
   * One Fetch request to `node` (the partitions' leader); errors are left to the caller. `limits`
   * overrides the configured sizes (size probes). Under read_committed, a partition whose response
   * lists aborted transactions is fetched again read_uncommitted (committed-fetch.ts): the client
   * library's own filter of aborted transactions can drop committed records.
   */
  async fetch(node: number, parts: readonly FetchPartition[], limits?: { maxBytes: number; partitionMaxBytes: number }): Promise<fetchV17.FetchResponse> {
    try {
      const response = await this.#fetch(node, parts, limits, this.#settings.isolationLevel)
      if (this.#settings.isolationLevel === 0) return response
      return await restoreCommittedBatches(response, parts, (again) => this.#fetch(node, again, limits, 0))
    } catch (err) {
      this.forgetMetadata()
      throw err
    }
  }

  #fetch(node: number, parts: readonly FetchPartition[], limits: { maxBytes: number; partitionMaxBytes: number } | undefined, isolationLevel: 0 | 1): Promise<fetchV17.FetchResponse> {
    const partitionMaxBytes = limits?.partitionMaxBytes ?? this.#settings.partitionMaxBytes
    const byTopic = new Map<string, FetchPartition[]>()
    for (const p of parts) {
      const list = byTopic.get(p.topicId)
      if (list) list.push(p)
      else byTopic.set(p.topicId, [p])
    }
    return this.#consumer.fetch({
      node,
      topics: [...byTopic].map(([topicId, ps]) => ({
        topicId,
        partitions: ps.map((p) => ({
          partition: p.partition,
          currentLeaderEpoch: -1,
          fetchOffset: p.offset,
          lastFetchedEpoch: -1,
          partitionMaxBytes: p.maxBytes ?? partitionMaxBytes,
        })),
      })),
      minBytes: 1,
      maxBytes: limits?.maxBytes ?? this.#settings.fetchMaxBytes,
      maxWaitTime: this.#settings.fetchMaxWaitMs,
      isolationLevel,
    })
  }

  /** Commits offsets to the consumer group (as a group-less "simple" commit, for lag tools only). */
  async commitGroup(offsets: ReadonlyMap<string, { topic: string; partition: number; offset: bigint }>): Promise<void> {
    const topics = new Map<string, { partition: number; offset: bigint }[]>()
    for (const { topic, partition, offset } of offsets.values()) {
      const list = topics.get(topic) ?? []
      list.push({ partition, offset })
      topics.set(topic, list)
    }
    if (topics.size === 0) return
    await this.#admin.alterConsumerGroupOffsets({
      groupId: this.#settings.groupId,
      topics: [...topics].map(([name, partitionOffsets]) => ({ name, partitionOffsets })),
    })
  }

  /** Closes both clients; errors while closing are ignored (the connections are gone either way). */
  async close(): Promise<void> {
    await Promise.allSettled([this.#consumer.close(true), this.#admin.close()])
  }
}
