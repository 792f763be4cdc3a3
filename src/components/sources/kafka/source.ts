/**
 * The Kafka source (Spark's Kafka micro-batch source). Its Position maps `${topic}/${partition}`
 * to the next offset to read, as a decimal string. Sluice's own stored position is the truth;
 * the consumer group only receives a copy after each commit, for lag monitoring.
 *
 * - initialPosition: startingOffsets (earliest | latest | per-partition JSON, -2/-1 as Spark)
 *   resolved with ListOffsets for every partition of the subscribed topics.
 * - plan: ends each partition at min(last stable offset, start + its share of the limit), the
 *   limit being maxOffsetsPerTrigger / the engine's record cap and the byte cap (maxBytesPerTrigger,
 *   converted to offsets with the record sizes of sizes.ts: decided at plan time, so the WAL's
 *   range is the batch, replays included).
 *   A partition that appears later (new topic matching the pattern, added partitions) starts at
 *   its earliest offset unless the JSON names it. A start below the log start or past the log
 *   end means lost records: SOURCE_DATA_LOSS, or a warning and a restart at the log start when
 *   failOnDataLoss is false.
 * - read: exactly the planned offsets, fetched without a consumer group (reader.ts), under
 *   read_committed, so control records and aborted transactions never show up.
 */
import type { ComponentContext, Logger } from '../../../api/component.ts'
import type { Position } from '../../../api/position.ts'
import type { PositionMoves, ResetTarget } from '../../../api/reset.ts'
import type { SourceRecord } from '../../../api/record.ts'
import type { PartitionOwnership, ReadLimits, Source } from '../../../api/source.ts'
import type { KafkaExtractConfig } from './config.ts'
import { resolveKafkaLogin } from '../../kafka/login.ts'
import { SluiceError } from '../../../errors.ts'
import { KafkaClient, PLAN_METADATA_MAX_AGE_MS, type PartitionInfo } from './client.ts'
import { kafkaSettings, positiveInt, topicSelection, type KafkaLogin, type KafkaSettings, type TopicSelection } from './options.ts'
import { DEFAULT_GROUP_TIMEOUTS, GroupMembership, type GroupTimeouts } from './membership.ts'
import { checkStart, laggingPartitions, parseOffset, parsePartitionKey, planEnd, startOffset, type ByteBudget, type OffsetBounds } from './plan.ts'
import { readPartitions, type ReadPartition } from './reader.ts'
import { kafkaResetMoves } from './reset.ts'
import { RecordSizes } from './sizes.ts'

/** Test and wiring knobs. */
export interface KafkaSourceOptions {
  /** SASL login; by default `credentialId` is resolved from the environment or the credentials file. */
  readonly login?: KafkaLogin
  /** Fetch rounds without progress before a read gives up (see reader.ts). */
  readonly maxIdleRounds?: number
}

/** Reads the subscribed topics of one Kafka cluster as a Source. */
export class KafkaSource implements Source {
  readonly #config: KafkaExtractConfig
  readonly #ctx: ComponentContext
  readonly #selection: TopicSelection
  readonly #logger: Logger
  readonly #options: KafkaSourceOptions
  #settings: KafkaSettings | null = null
  #client: KafkaClient | null = null
  /** The first position resolved in this process (startingOffsets applied as given). */
  #initial: Map<string, bigint> | null = null
  /** Bytes per offset by partition, from reads and probes: only ever an input of the next plan. */
  readonly #sizes = new RecordSizes()
  /** Whether this worker joins the consumer group (groupMembership, by default with a long-running trigger). */
  readonly #groupWanted: boolean
  #membership: GroupMembership | null = null
  /** Spark's assign: fixed partitions, no group. */
  readonly #assigned: PartitionOwnership | undefined
  /** Set by close(): no new client is made after it, so no fetch and no record (the contract). */
  #closed = false

  constructor(config: KafkaExtractConfig, ctx: ComponentContext, options: KafkaSourceOptions = {}) {
    this.#config = config
    this.#ctx = ctx
    // Settings that need no secret are checked now, so a bad option fails at create time.
    if (config.credentialId === undefined && options.login === undefined) this.#settings = kafkaSettings(config, ctx)
    this.#selection = topicSelection(config)
    this.#logger = ctx.logger.child({ source: 'kafka' })
    this.#options = options
    const { assign, groupMembership } = config.connectionParams
    this.#groupWanted = assign === undefined && (groupMembership ?? ctx.longRunning ?? false)
    this.#assigned = assign === undefined ? undefined : fixedOwnership(assign)
  }

  /** The partitions this worker owns: the group's assignment, or assign's fixed list; absent: all of them. */
  get ownership(): PartitionOwnership | undefined {
    return this.#membership ?? this.#assigned
  }

  /** Group timeouts from kafka.session.timeout.ms, kafka.heartbeat.interval.ms, kafka.max.poll.interval.ms. */
  #groupTimeouts(): GroupTimeouts {
    const params = this.#config.connectionParams as Record<string, unknown>
    const instance = params['kafka.group.instance.id']
    return {
      sessionTimeoutMs: positiveInt(params, 'kafka.session.timeout.ms') ?? DEFAULT_GROUP_TIMEOUTS.sessionTimeoutMs,
      heartbeatIntervalMs: positiveInt(params, 'kafka.heartbeat.interval.ms') ?? DEFAULT_GROUP_TIMEOUTS.heartbeatIntervalMs,
      rebalanceTimeoutMs: positiveInt(params, 'kafka.max.poll.interval.ms') ?? DEFAULT_GROUP_TIMEOUTS.rebalanceTimeoutMs,
      ...(typeof instance === 'string' ? { groupInstanceId: instance } : {}),
    }
  }

  /** Joins the group on first use and subscribes topics that appeared since (a pattern's new matches). */
  async #joinGroup(parts: readonly PartitionInfo[]): Promise<void> {
    if (!this.#groupWanted) return
    // Closed while the partitions were listed (a shutdown during start-up): no member is made after close().
    if (this.#closed) throw closedError()
    if (this.#membership === null) this.#membership = new GroupMembership(this.#settings as KafkaSettings, this.#groupTimeouts(), this.#logger)
    const membership = this.#membership
    await membership.join([...new Set(parts.map((p) => p.topic))])
    // close() ran while joining and found this member busy: leave now that the join is over.
    if (this.#closed && this.#membership !== membership) {
      await membership.close()
      throw closedError()
    }
  }

  /** The partitions a plan may cover: the owned ones when ownership applies. */
  #owned(parts: readonly PartitionInfo[]): PartitionInfo[] {
    const owned = this.ownership?.owned()
    return owned === undefined ? [...parts] : parts.filter((p) => owned.has(p.key))
  }

  async open(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    const client = await this.#open()
    // Fail fast (and retryably) when the cluster is not there.
    const parts = await client.partitions(this.#selection)
    await this.#joinGroup(parts)
    this.#logger.info({ topics: this.#selection.describe, partitions: parts.length, group: this.#membership ? this.#settings?.groupId : null }, 'kafka source connected')
  }

  async initialPosition(signal: AbortSignal): Promise<Position> {
    signal.throwIfAborted()
    const client = await this.#open()
    const parts = await client.partitions(this.#selection)
    const bounds = await this.#bounds(client, parts)
    const initial = new Map<string, bigint>()
    for (const p of parts) {
      const b = bounds.get(p.key) as OffsetBounds
      const start = startOffset(this.#config.connectionParams.startingOffsets, p.topic, p.partition, b, true)
      initial.set(p.key, checkStart(p.key, start, b, this.#config.connectionParams.failOnDataLoss, this.#logger))
    }
    this.#initial = initial
    return toPosition(initial)
  }

  async plan(from: Position, limits: ReadLimits, signal: AbortSignal): Promise<Position | null> {
    signal.throwIfAborted()
    const client = await this.#open()
    const all = await client.partitions(this.#selection, PLAN_METADATA_MAX_AGE_MS)
    await this.#joinGroup(all)
    const parts = this.#owned(all)
    if (parts.length === 0) return null
    const bounds = await this.#bounds(client, parts, PLAN_METADATA_MAX_AGE_MS)
    if (Object.keys(from).length === 0 && this.#initial === null) await this.initialPosition(signal)
    const starts = new Map<string, bigint>()
    const latest = new Map<string, bigint>()
    let adjusted = false
    for (const p of parts) {
      const b = bounds.get(p.key) as OffsetBounds
      const stored = from[p.key]
      const wanted = stored === undefined ? this.#newPartitionStart(p, b) : parseOffset(p.key, stored)
      const start = checkStart(p.key, wanted, b, this.#config.connectionParams.failOnDataLoss, this.#logger)
      if (stored !== undefined && start !== wanted) adjusted = true
      starts.set(p.key, start)
      latest.set(p.key, b.latest)
    }
    const budget = limits.maxBytes === undefined ? undefined : await this.#budget(client, parts, starts, latest, limits.maxBytes)
    const end = planEnd(starts, latest, maxRecords(limits, this.#config.connectionParams.maxOffsetsPerTrigger), budget)
    // Lost records with nothing new after them still move the position past the hole.
    return end ?? (adjusted ? toPosition(starts) : null)
  }

  read(from: Position, to: Position, signal: AbortSignal): AsyncIterable<SourceRecord[]> {
    return this.#read(from, to, signal)
  }

  async *#read(from: Position, to: Position, signal: AbortSignal): AsyncGenerator<SourceRecord[]> {
    signal.throwIfAborted()
    const client = await this.#open()
    const wanted = Object.keys(to).map((key) => ({ key, ...parsePartitionKey(key), to: parseOffset(key, to[key] as string) }))
    if (wanted.length === 0) return
    const infos = new Map((await client.describeTopics([...new Set(wanted.map((w) => w.topic))], PLAN_METADATA_MAX_AGE_MS)).map((p) => [p.key, p]))
    const missing = wanted.filter((w) => !infos.has(w.key))
    if (missing.length > 0) {
      throw new SluiceError('SOURCE_UNAVAILABLE', `planned partitions are not in the cluster metadata: ${missing.map((m) => m.key).join(', ')}`, {
        details: { partitions: missing.map((m) => m.key) },
      })
    }
    // Partitions first seen by the plan of this batch start where the plan started them.
    const fresh = wanted.filter((w) => from[w.key] === undefined).map((w) => infos.get(w.key) as PartitionInfo)
    const freshBounds = fresh.length > 0 ? await this.#bounds(client, fresh) : new Map<string, OffsetBounds>()
    const parts: ReadPartition[] = []
    for (const w of wanted) {
      const info = infos.get(w.key) as PartitionInfo
      const stored = from[w.key]
      const next = stored === undefined ? this.#newPartitionStart(info, freshBounds.get(w.key) as OffsetBounds) : parseOffset(w.key, stored)
      if (next < w.to) parts.push({ info, next, to: w.to, idle: 0 })
    }
    if (parts.length === 0) return
    const chunks = readPartitions(client, parts, {
      failOnDataLoss: this.#config.connectionParams.failOnDataLoss,
      logger: this.#logger,
      signal,
      ...(this.#options.maxIdleRounds === undefined ? {} : { maxIdleRounds: this.#options.maxIdleRounds }),
      observe: (key, bytes, records, largestBatch) => this.#sizes.observe(key, bytes, records, largestBatch),
      bytesPerOffset: this.#sizes.perOffset,
      largestBatch: this.#sizes.largestBatch,
      ...(this.#settings ? { partitionMaxBytes: this.#settings.partitionMaxBytes, fetchMaxBytes: this.#settings.fetchMaxBytes } : {}),
    })
    try {
      for await (const chunk of chunks) {
        // A fetch that was in flight at close() may still answer: its records are not handed out.
        if (this.#closed) throw closedError()
        yield chunk
      }
    } catch (err) {
      // A fetch cut off by close() fails as a closed connection would: it is the shutdown, not an outage.
      throw this.#closed ? closedError() : err
    }
  }

  async committed(to: Position): Promise<void> {
    const client = this.#client
    if (!client) return
    try {
      const offsets = new Map<string, { topic: string; partition: number; offset: bigint }>()
      const owned = this.ownership?.owned()
      for (const [key, value] of Object.entries(to)) if (owned === undefined || owned.has(key)) offsets.set(key, { ...parsePartitionKey(key), offset: parseOffset(key, value) })
      // A member commits as itself (an active group refuses commits from outside it).
      if (this.#membership) await this.#membership.commit([...offsets.values()])
      else await client.commitGroup(offsets)
    } catch (err) {
      // Lag monitoring only: Sluice's stored position is what counts.
      this.#logger.warn({ group: this.#settings?.groupId, error: err instanceof Error ? err.message : String(err) }, 'committing offsets to the consumer group failed')
    }
  }

  async latest(signal: AbortSignal): Promise<Position> {
    signal.throwIfAborted()
    const client = await this.#open()
    const parts = await client.partitions(this.#selection)
    return toPosition(await client.offsets(parts, 'latest'))
  }

  /** `sluice reset`: ListOffsets for every partition of the topics (no group is joined), then reset.ts. */
  async resetTo(target: ResetTarget, _stored: Position, signal: AbortSignal): Promise<PositionMoves> {
    signal.throwIfAborted()
    const client = await this.#open()
    const parts = await client.partitions(this.#selection)
    const bounds = await this.#bounds(client, parts)
    const atTime = target.kind === 'time' ? await client.offsetsAt(parts, target.ms) : undefined
    return kafkaResetMoves(target, { bounds, ...(atTime ? { atTime } : {}) })
  }

  async close(): Promise<void> {
    this.#closed = true
    const client = this.#client
    const membership = this.#membership
    this.#client = null
    this.#membership = null
    await membership?.close()
    if (client) await client.close()
  }

  /** The client, created on first use (after resolving credentialId, the one async part of the settings). */
  async #open(): Promise<KafkaClient> {
    if (this.#closed) throw closedError()
    if (this.#client) return this.#client
    if (!this.#settings) {
      let login = this.#options.login
      const id = this.#config.credentialId
      if (login === undefined && id !== undefined) login = await resolveKafkaLogin(id, this.#ctx.env)
      this.#settings = kafkaSettings(this.#config, this.#ctx, login)
    }
    if (this.#settings.ignored.length > 0) {
      // Java's key and trust stores are the likely ones from a Spark job: say what replaces them.
      const stores = this.#settings.ignored.some((o) => /^kafka\.ssl\.(key|trust)store\./.test(o))
      const hint = stores ? { hint: 'Java key/trust stores are not read: use kafka.ssl.ca.location, kafka.ssl.certificate.location and kafka.ssl.key.location (PEM files)' } : {}
      this.#logger.warn({ options: this.#settings.ignored, ...hint }, 'kafka options not used by Sluice are ignored')
    }
    if (this.#closed) throw closedError() // closed while the login was being resolved
    this.#client = new KafkaClient(this.#settings)
    return this.#client
  }

  /** The byte budget of a plan; lagging partitions this process has not read yet are probed first. */
  async #budget(
    client: KafkaClient,
    parts: readonly PartitionInfo[],
    starts: ReadonlyMap<string, bigint>,
    latest: ReadonlyMap<string, bigint>,
    maxBytes: number,
  ): Promise<ByteBudget> {
    const lagging = laggingPartitions(starts, latest)
    const unknown = parts.filter((p) => lagging.has(p.key) && !this.#sizes.perOffset.has(p.key))
    if (unknown.length > 0) {
      await this.#sizes.probe(client, unknown.map((info) => ({ info, start: starts.get(info.key) as bigint, end: latest.get(info.key) as bigint })))
    }
    return { maxBytes, bytesPerOffset: this.#sizes.perOffset }
  }

  /**
   * Earliest and latest offsets of every partition (two ListOffsets rounds, in parallel); the plan
   * reuses earliest offsets up to PLAN_METADATA_MAX_AGE_MS old (client.offsets).
   */
  async #bounds(client: KafkaClient, parts: readonly PartitionInfo[], earliestMaxAgeMs = 0): Promise<Map<string, OffsetBounds>> {
    const [earliest, latest] = await Promise.all([client.offsets(parts, 'earliest', earliestMaxAgeMs), client.offsets(parts, 'latest')])
    const out = new Map<string, OffsetBounds>()
    for (const p of parts) out.set(p.key, { earliest: earliest.get(p.key) ?? 0n, latest: latest.get(p.key) ?? 0n })
    return out
  }

  /** Start of a partition the position does not list: the first resolution if it covered it, else "new partition". */
  #newPartitionStart(p: PartitionInfo, bounds: OffsetBounds): bigint {
    return this.#initial?.get(p.key) ?? startOffset(this.#config.connectionParams.startingOffsets, p.topic, p.partition, bounds, false)
  }
}

/** assign's partitions as a fixed ownership (it never changes, so the engine never re-reads positions for it). */
function fixedOwnership(assign: Readonly<Record<string, readonly number[]>>): PartitionOwnership {
  const owned = new Set(Object.entries(assign).flatMap(([topic, parts]) => parts.map((p) => `${topic}/${p}`)))
  return { owned: () => owned, generation: 0, onRevoke: () => {} }
}

/** The smaller of the engine's limit and maxOffsetsPerTrigger. */
function maxRecords(limits: ReadLimits, maxOffsetsPerTrigger: number | undefined): number | undefined {
  const given = [limits.maxRecords, maxOffsetsPerTrigger].filter((n): n is number => n !== undefined)
  return given.length === 0 ? undefined : Math.min(...given)
}

function closedError(): SluiceError {
  return new SluiceError('SHUTDOWN', 'the kafka source is closed')
}

function toPosition(offsets: ReadonlyMap<string, bigint>): Position {
  const out: Record<string, string> = {}
  for (const [key, offset] of offsets) out[key] = offset.toString()
  return out
}
