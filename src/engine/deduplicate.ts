/**
 * The deduplicate step over one batch (Spark's dropDuplicatesWithinWatermark, or keys forgotten
 * after a processing-time timeout): repeats within the batch are left out here; whether a first
 * occurrence repeats a key of an earlier batch is decided by the store, inside the batch
 * transaction (commit.ts `DedupClaim`, api/keyed-state.ts), so that the remembered keys commit with
 * the rows and every worker sees the others' keys.
 *
 * - withinWatermark: a key is remembered until the watermark passes its first event time plus the
 *   watermark delay (records behind the watermark are late before they get here: the record path);
 *   later duplicates do not extend it.
 * - stateTimeout: a key is forgotten once it has been idle that long at the batch's processing time
 *   (the plan's time, the same when a batch is re-run); every occurrence renews it.
 */
import type { StateScope } from '../api/keyed-state.ts'
import type { Row } from '../api/record.ts'
import type { DeadLetter } from '../api/writer.ts'
import { SluiceError } from '../errors.ts'
import type { DedupClaim } from './commit.ts'
import type { PlannedBatch } from './checkpoint.ts'
import { type DedupSpec, dedupKey, duplicateLetter } from './state/dedup.ts'

/** The deduplicate step as the batch runner applies it: its spec and whose state it keeps. */
export interface DeduplicateOptions {
  readonly spec: DedupSpec
  /** The step's name in the pipeline (`transform[<index>]`): it keys the step's state. */
  readonly step: string
  /** Duplicates go to the DLQ (RECORD_DUPLICATE) instead of the filtered count. */
  readonly toDlq?: boolean
}

/** A batch's rows after the in-batch check, and the claim the store decides the rest with. */
export interface DeduplicatedBatch {
  readonly rows: Row[]
  /** Rows left out because an earlier row of the same batch had their key. */
  readonly repeats: number
  /** Their dead letters (RECORD_DUPLICATE) when duplicates go to the DLQ, else empty. */
  readonly repeatLetters: DeadLetter[]
  readonly claim: DedupClaim
}

export function deduplicateRows(rows: readonly Row[], options: DeduplicateOptions, pipelineId: string, planned: PlannedBatch, now: number): DeduplicatedBatch {
  const { spec } = options
  const scope: StateScope = { pipelineId, step: options.step }
  const kept: Row[] = []
  const keys: string[] = []
  const entries = new Map<string, number>()
  const repeatLetters: DeadLetter[] = []
  const batchTime = Number.isNaN(Date.parse(planned.plannedAt)) ? now : Date.parse(planned.plannedAt)
  for (const row of rows) {
    const key = dedupKey(row.values, spec.keys)
    if (entries.has(key)) {
      if (options.toDlq === true) repeatLetters.push(duplicateLetter(row, key, 'an earlier record of the same batch'))
      continue
    }
    entries.set(key, expiryOf(row, spec, batchTime))
    kept.push(row)
    keys.push(key)
  }
  const toDlq = options.toDlq === true
  const claim: DedupClaim =
    'withinWatermark' in spec
      ? { scope, keys, entries, expiredAt: planned.watermarkMs, renew: false, toDlq }
      : { scope, keys, entries, expiredAt: batchTime - 1, renew: true, toDlq }
  return { rows: kept, repeats: rows.length - kept.length, repeatLetters, claim }
}

function expiryOf(row: Row, spec: DedupSpec, batchTime: number): number {
  if (!('withinWatermark' in spec)) return batchTime + spec.stateTimeoutMs
  if (row.eventTimeMs === undefined) throw new SluiceError('INTERNAL', 'deduplicate withinWatermark needs the event time of every row (a watermark)')
  return row.eventTimeMs + spec.withinWatermark.delayMs
}
