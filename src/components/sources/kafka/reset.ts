/**
 * Where `sluice reset` moves a Kafka pipeline (Source.resetTo): every partition of the subscribed
 * topics to its earliest or latest offset, or to the first offset whose record time is at or after
 * a time (ListOffsets by timestamp; past the last record, the end of the log); or the partitions an
 * explicit position map names, each checked against its log. Pure arithmetic over what the broker
 * answered, so all of it is unit-tested; the I/O is in source.ts.
 */
import type { PositionMoves, ResetTarget } from '../../../api/reset.ts'
import { SluiceError } from '../../../errors.ts'
import type { OffsetBounds } from './plan.ts'

/** What the broker said about each partition of the subscribed topics. */
export interface ResetFacts {
  readonly bounds: ReadonlyMap<string, OffsetBounds>
  /** For a time target: the first offset at or after the time, null when no record is that late. */
  readonly atTime?: ReadonlyMap<string, bigint | null>
}

function refused(message: string, details: Record<string, unknown>): SluiceError {
  return new SluiceError('RESET_REFUSED', message, { details })
}

/** The offset a position map gives one partition: -2 earliest, -1 latest, else an offset inside the log. */
function givenOffset(key: string, value: string | null, b: OffsetBounds): bigint {
  const details = { partition: key, value, earliest: b.earliest.toString(), latest: b.latest.toString() }
  if (value === null || !/^-?\d+$/.test(value)) {
    throw refused(`--to at ${JSON.stringify(key)}: ${JSON.stringify(value)} is not an offset; a Kafka partition takes an offset from ${b.earliest} to ${b.latest} (-2 earliest, -1 latest)`, details)
  }
  const n = BigInt(value)
  if (n === -2n) return b.earliest
  if (n === -1n) return b.latest
  if (n < b.earliest || n > b.latest) {
    throw refused(`--to at ${JSON.stringify(key)}: offset ${value} is outside the partition's log, which holds offsets ${b.earliest} to ${b.latest} (the end, ${b.latest}, means "only new records")`, details)
  }
  return n
}

/** The moves of a target; partitions a position map does not name are left out (they keep their position). */
export function kafkaResetMoves(target: ResetTarget, facts: ResetFacts): PositionMoves {
  const out: Record<string, string> = {}
  if (target.kind === 'positions') {
    for (const [key, value] of Object.entries(target.positions)) {
      const b = facts.bounds.get(key)
      if (b === undefined) {
        const known = [...facts.bounds.keys()]
        throw refused(`--to at ${JSON.stringify(key)}: the pipeline's topics have no such partition (partition keys are topic/partition: ${known.length > 0 ? known.join(', ') : 'the topics have no partitions'})`, {
          partition: key,
          partitions: known,
        })
      }
      out[key] = givenOffset(key, value, b).toString()
    }
    return out
  }
  for (const [key, b] of facts.bounds) {
    let offset: bigint
    if (target.kind === 'earliest') offset = b.earliest
    else if (target.kind === 'latest') offset = b.latest
    else {
      const found = facts.atTime?.get(key) ?? null
      // Past the last record (or above the last stable offset): only records that come later.
      offset = found === null || found < 0n || found > b.latest ? b.latest : found < b.earliest ? b.earliest : found
    }
    out[key] = offset.toString()
  }
  return out
}
