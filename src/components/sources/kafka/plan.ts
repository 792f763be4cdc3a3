/**
 * Pure planning arithmetic of the Kafka source: partition keys, where a partition starts, how a
 * record limit is shared between partitions (as Spark's maxOffsetsPerTrigger), and how a batch
 * end follows from the start and the latest offsets. No I/O here, so all of it is unit-tested.
 */
import type { Position } from '../../../api/position.ts'
import type { Logger } from '../../../api/component.ts'
import { SluiceError } from '../../../errors.ts'

/** Position key of one topic-partition: `${topic}/${partition}`. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}/${partition}`
}

/** Splits a position key; topic names cannot contain `/`, so the last `/` separates the partition. */
export function parsePartitionKey(key: string): { topic: string; partition: number } {
  const i = key.lastIndexOf('/')
  const partition = Number(key.slice(i + 1))
  if (i <= 0 || !Number.isInteger(partition) || partition < 0) {
    throw new SluiceError('CHECKPOINT_CORRUPT', `not a Kafka partition key: ${JSON.stringify(key)}`)
  }
  return { topic: key.slice(0, i), partition }
}

/** Parses a stored offset (a decimal string); anything else means the stored position is damaged. */
export function parseOffset(key: string, value: string): bigint {
  if (!/^\d+$/.test(value)) {
    throw new SluiceError('CHECKPOINT_CORRUPT', `stored offset of ${key} is not a non-negative integer: ${JSON.stringify(value)}`)
  }
  return BigInt(value)
}

/** The startingOffsets option as the config model parses it: -2 earliest, -1 latest per partition. */
export type StartingOffsets = 'earliest' | 'latest' | Readonly<Record<string, Readonly<Record<string, number>>>>

/** Earliest (log start) and latest (last stable) offset of one partition. */
export interface OffsetBounds {
  readonly earliest: bigint
  readonly latest: bigint
}

/**
 * Where a partition starts when the pipeline has no position for it. `initial` is true while
 * resolving the pipeline's very first position: then startingOffsets applies as given. A partition
 * that appears later is new data as a whole, so it starts at its earliest offset (as in Spark),
 * unless the per-partition JSON names it.
 */
export function startOffset(starting: StartingOffsets, topic: string, partition: number, bounds: OffsetBounds, initial: boolean): bigint {
  if (typeof starting === 'object') {
    const given = starting[topic]?.[String(partition)]
    if (given === undefined || given === -2) return bounds.earliest
    if (given === -1) return bounds.latest
    return BigInt(given)
  }
  return initial && starting === 'latest' ? bounds.latest : bounds.earliest
}

/**
 * Checks a start offset against what the broker still has. Below the log start (retention
 * deleted records) or above the latest offset (topic re-created, log truncated), records were
 * lost: with failOnDataLoss that stops the query, without it the partition restarts at its
 * earliest offset with a warning, as Spark does.
 */
export function checkStart(key: string, start: bigint, bounds: OffsetBounds, failOnDataLoss: boolean, logger: Logger): bigint {
  if (start >= bounds.earliest && start <= bounds.latest) return start
  const details = { partition: key, offset: start.toString(), earliest: bounds.earliest.toString(), latest: bounds.latest.toString() }
  const why =
    start < bounds.earliest
      ? `records of ${key} from offset ${start} are gone: the log now starts at ${bounds.earliest} (retention or deleteRecords)`
      : `offset ${start} of ${key} is past the end of the log (${bounds.latest}): the topic was re-created or truncated`
  if (failOnDataLoss) {
    throw new SluiceError('SOURCE_DATA_LOSS', `${why}; set failOnDataLoss to false to skip lost data`, { details })
  }
  logger.warn(details, `${why}; continuing from the earliest offset because failOnDataLoss is false`)
  return bounds.earliest
}

/**
 * Shares `limit` offsets between partitions in proportion to their lag, like Spark's
 * maxOffsetsPerTrigger: a share below 1 is rounded up (no lagging partition starves), larger
 * shares are rounded down. Unlike Spark the total never exceeds `limit`: surplus from rounding up
 * is taken back from the largest grants (and, when there are more lagging partitions than the
 * limit, from the smallest lags), and what rounding down left unused goes to the largest
 * fractional shares. Returns the offsets granted per key (keys with no lag or no grant are absent).
 */
export function shareLimit(lags: ReadonlyMap<string, bigint>, limit: number): Map<string, bigint> {
  const lagging = [...lags].filter(([, lag]) => lag > 0n).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const total = lagging.reduce((sum, [, lag]) => sum + lag, 0n)
  const cap = BigInt(Math.max(0, Math.floor(limit)))
  const grant = new Map<string, bigint>()
  if (total <= cap) {
    for (const [key, lag] of lagging) grant.set(key, lag)
    return grant
  }
  let given = 0n
  for (const [key, lag] of lagging) {
    const share = cap * lag < total ? 1n : (cap * lag) / total
    grant.set(key, share)
    given += share
  }
  // Too much: trim the largest grants (first key on ties), never below 1 while that is enough...
  while (given > cap) {
    let best: string | undefined
    let max = 1n
    for (const [key, g] of grant) if (g > max) [best, max] = [key, g]
    if (best === undefined) break
    grant.set(best, max - 1n)
    given--
  }
  // ...then, with more lagging partitions than the limit, the smallest lags get nothing (last key first).
  if (given > cap) {
    const bySmallLag = [...lagging].sort(([ka, a], [kb, b]) => (a < b ? -1 : a > b ? 1 : ka > kb ? -1 : 1))
    for (const [key] of bySmallLag) {
      if (given <= cap) break
      grant.delete(key)
      given--
    }
  }
  // Too little: hand the rest to the largest fractional shares (first key on ties).
  if (given < cap) {
    const byRest = [...lagging].sort(([ka, a], [kb, b]) => {
      const ra = (cap * a) % total
      const rb = (cap * b) % total
      return ra > rb ? -1 : ra < rb ? 1 : ka < kb ? -1 : 1
    })
    for (const [key, lag] of byRest) {
      if (given >= cap) break
      const g = grant.get(key) ?? 0n
      if (g < lag) {
        grant.set(key, g + 1n)
        given++
      }
    }
  }
  return grant
}

/** Offsets between start and latest, by partition, for the partitions that have any. */
export function laggingPartitions(starts: ReadonlyMap<string, bigint>, latest: ReadonlyMap<string, bigint>): Map<string, bigint> {
  const lags = new Map<string, bigint>()
  for (const [key, start] of starts) {
    const end = latest.get(key) ?? start
    if (end > start) lags.set(key, end - start)
  }
  return lags
}

/** A byte cap and what one offset of each partition is expected to cost (bytes of key, value and headers). */
export interface ByteBudget {
  readonly maxBytes: number
  /** Expected bytes per offset by partition key; a partition without an estimate counts as free. */
  readonly bytesPerOffset: ReadonlyMap<string, number>
}

/** Expected bytes of a grant under the per-offset estimates. */
export function grantBytes(grant: ReadonlyMap<string, bigint>, bytesPerOffset: ReadonlyMap<string, number>): number {
  let bytes = 0
  for (const [key, g] of grant) bytes += Number(g) * (bytesPerOffset.get(key) ?? 0)
  return bytes
}

/**
 * Shrinks a grant until its expected bytes fit the budget: the offsets are scaled down by one
 * factor and shared again in proportion to the grant, so every partition keeps its share of the
 * batch. A few refinements absorb the rounding of shareLimit. At least one offset stays granted,
 * so a record larger than the whole budget still makes a batch of its own.
 */
export function fitBytes(grant: Map<string, bigint>, budget: ByteBudget): Map<string, bigint> {
  let offsets = 0n
  for (const g of grant.values()) offsets += g
  let fitted = grant
  let limit = Number(offsets)
  for (let i = 0; i < 8; i++) {
    const bytes = grantBytes(fitted, budget.bytesPerOffset)
    if (bytes <= budget.maxBytes || limit <= 1) return fitted
    limit = Math.max(1, Math.min(limit - 1, Math.floor((limit * budget.maxBytes) / bytes)))
    fitted = shareLimit(grant, limit)
  }
  return fitted
}

/**
 * The end of the next batch: every partition at min(latest, start + share), or null when no
 * partition has anything new. The share follows from the record limit and, with a byte budget,
 * from the expected bytes (fitBytes). The result lists every partition in `starts` (moved or
 * not), so that a partition first seen in this plan keeps its resolved start.
 */
export function planEnd(
  starts: ReadonlyMap<string, bigint>,
  latest: ReadonlyMap<string, bigint>,
  maxRecords: number | undefined,
  budget?: ByteBudget,
): Position | null {
  const lags = laggingPartitions(starts, latest)
  if (lags.size === 0) return null
  let grant = maxRecords === undefined ? lags : shareLimit(lags, maxRecords)
  if (budget !== undefined) grant = fitBytes(grant, budget)
  if (grant.size === 0) return null
  const out: Record<string, string> = {}
  for (const [key, start] of starts) out[key] = (start + (grant.get(key) ?? 0n)).toString()
  return out
}
