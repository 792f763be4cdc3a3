/**
 * The deduplicate step's rules, as pure functions over one batch and the set of remembered keys.
 *
 * withinWatermark (Spark's dropDuplicatesWithinWatermark, StreamingDeduplicateWithinWatermarkExec):
 * - an input whose event time is <= the watermark is late (Spark drops it silently before the
 *   duplicate check; Sluice reports it);
 * - otherwise, a key already remembered, or seen earlier in the same batch, is a duplicate;
 * - the first occurrence is kept and its key remembered until expiresAt = its event time + the
 *   watermark delay (later duplicates do not extend it);
 * - after the batch, keys with expiresAt <= the eviction watermark are forgotten.
 *
 * stateTimeout (a key forgotten after it has been idle that long in processing time, as Spark's
 * GroupStateTimeout.ProcessingTimeTimeout: timeout = batch time + duration, reset whenever the key
 * has data, timed out when the timeout is before the batch time):
 * - nothing is late (processing time has no watermark);
 * - a key remembered or seen earlier in the batch is a duplicate, and every occurrence (kept or
 *   duplicate) renews it to expiresAt = batch time + timeout;
 * - after the batch, keys with expiresAt < the batch time are forgotten (data first, then timeouts,
 *   as Spark: a key with data in the batch was just renewed, so it never times out in that batch).
 */
import { SluiceError } from '../../errors.ts'
import { fieldAt } from '../../api/field-path.ts'
import type { Row, RowValues } from '../../api/record.ts'
import type { DeadLetter } from '../../api/writer.ts'
import { isEventLate } from './lateness.ts'

export type DedupSpec =
  | { readonly keys: readonly string[]; readonly withinWatermark: { readonly delayMs: number } }
  | { readonly keys: readonly string[]; readonly stateTimeoutMs: number }

/** The dedup key of a row: its key columns' values as canonical JSON (the same text on every worker). */
export function dedupKey(values: Readonly<RowValues>, keys: readonly string[]): string {
  return JSON.stringify(
    keys.map((k) => fieldAt(values, k) ?? null),
    (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v),
  )
}

export type DedupVerdict = 'keep' | 'duplicate' | 'late'

export interface DedupInput {
  readonly key: string
  /** Needed with withinWatermark; ignored with stateTimeout. */
  readonly eventTimeMs?: number
}

export interface DedupBatch {
  /** One verdict per input, in input order. */
  readonly verdicts: DedupVerdict[]
  /** Keys to remember (insert or update) with their new expiresAt, in first-seen order. */
  readonly remember: Map<string, number>
}

/**
 * Judges a batch. `remembered` maps each key already in state to its expiresAt (the caller may pass
 * only the keys this batch has). `watermark` is the one the batch applies; `nowMs` the batch's
 * processing time (the same on a re-run: take it from the batch's plan, as Spark's batchTimestampMs).
 */
export function deduplicateBatch(inputs: readonly DedupInput[], remembered: ReadonlyMap<string, number>, spec: DedupSpec, watermark: number | null, nowMs: number): DedupBatch {
  const verdicts: DedupVerdict[] = []
  const remember = new Map<string, number>()
  for (const input of inputs) {
    if ('withinWatermark' in spec) {
      if (input.eventTimeMs === undefined) throw new SluiceError('INTERNAL', 'withinWatermark needs each input\'s event time')
      if (isEventLate(input.eventTimeMs, watermark)) {
        verdicts.push('late')
        continue
      }
      const seen = remembered.has(input.key) || remember.has(input.key)
      if (!seen) remember.set(input.key, input.eventTimeMs + spec.withinWatermark.delayMs)
      verdicts.push(seen ? 'duplicate' : 'keep')
    } else {
      const seen = remembered.has(input.key) || remember.has(input.key)
      remember.set(input.key, nowMs + spec.stateTimeoutMs)
      verdicts.push(seen ? 'duplicate' : 'keep')
    }
  }
  return { verdicts, remember }
}

/**
 * The keys to forget after a batch, from the state as it stands after the batch's `remember` was
 * applied: withinWatermark, expiresAt <= `watermark` (the eviction watermark); stateTimeout,
 * expiresAt < `nowMs`. Order: the state's.
 */
export function expiredKeys(state: ReadonlyMap<string, number>, spec: DedupSpec, watermark: number | null, nowMs: number): string[] {
  const out: string[] = []
  for (const [key, expiresAt] of state) if (isExpired(expiresAt, spec, watermark, nowMs)) out.push(key)
  return out
}

/** True when a remembered key with this expiresAt is forgotten (see expiredKeys); usable as a SQL-side rule. */
export function isExpired(expiresAt: number, spec: DedupSpec, watermark: number | null, nowMs: number): boolean {
  if ('withinWatermark' in spec) return watermark !== null && expiresAt <= watermark
  return expiresAt < nowMs
}

/** A duplicate's dead letter: its key and where the key was first seen. */
export function duplicateLetter(row: Row, key: string, firstSeen: string): DeadLetter {
  return { record: row.source, code: 'RECORD_DUPLICATE', reason: `deduplicate: key ${key.length > 200 ? `${key.slice(0, 200)}…` : key} was already seen in ${firstSeen}` }
}
