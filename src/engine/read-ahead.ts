/**
 * Read-ahead of the next micro-batch: while batch N is written to the sink, batch N+1 is planned
 * and read from the source, so the source's fetch and decode overlap the database's COPY (on a
 * two-core machine, Node decodes while PostgreSQL parses).
 *
 * Exactly-once is untouched. A read-ahead only plans and reads, in memory; the query writes
 * offsets/N+1 to the checkpoint (the write-ahead log) before N+1 reaches the sink, as for a batch
 * read the ordinary way, and uses the read-ahead only when N committed exactly where it was
 * planned to end (same batch id, position and watermark). Anything else (a duplicate skip that
 * took the database's position, a failed write, shutdown) discards it; a failed read-ahead only
 * means the batch is read again, with retries. At most one batch is read ahead, so memory holds
 * at most two batches.
 */
import type { Position } from '../api/position.ts'
import type { PlannedBatch } from './checkpoint.ts'
import type { ProcessedBatch } from './records.ts'
import { SluiceError } from '../errors.ts'

/** The partitions a batch moves, and where each ends; null when there is nothing to read. */
export type PlannedEnd = Record<string, string> | null

/** What a read-ahead needs from the query: how to plan and how to read one attempt. */
export interface ReadAheadSteps {
  readonly plan: (start: Position, signal: AbortSignal) => Promise<PlannedEnd>
  readonly read: (planned: PlannedBatch, signal: AbortSignal) => Promise<ProcessedBatch>
}

const DISCARDED = new SluiceError('SHUTDOWN', 'the read-ahead batch was discarded')

/** One batch planned and read ahead of its turn. */
export class ReadAhead {
  readonly batchId: number
  readonly start: Position
  readonly watermarkMs: number | null
  /** The planned end (null: no data, or planning failed). Never rejects. */
  readonly end: Promise<PlannedEnd>
  /** The routed records; null when there was nothing to read. Rejects when the read failed. */
  readonly processed: Promise<ProcessedBatch | null>
  readonly #controller: AbortController
  readonly #settled: Promise<unknown>

  /** Starts planning and reading batch `batchId` from `start`; `signal` (the query's abort) cancels it too. */
  constructor(batchId: number, start: Position, watermarkMs: number | null, steps: ReadAheadSteps, signal: AbortSignal) {
    this.batchId = batchId
    this.start = start
    this.watermarkMs = watermarkMs
    this.#controller = new AbortController()
    const both = AbortSignal.any([signal, this.#controller.signal])
    this.end = steps.plan(start, both).catch(() => null)
    this.processed = this.end.then((end) => (end === null ? null : steps.read({ batchId, start, end, watermarkMs, plannedAt: '' }, both)))
    // Observed here so that a read-ahead nobody waits for never becomes an unhandled rejection.
    this.#settled = this.processed.catch(() => undefined)
  }

  /**
   * True when this read-ahead is the batch the query is about to run: same id and start, and the
   * committed watermark. `olderWatermark` (workers share the pipeline, no write-ahead log to repeat)
   * also accepts one read with an older watermark than the one committed since: the watermark only
   * rises, so such a batch is a little conservative about lateness, never wrong the other way.
   */
  matches(batchId: number, position: Position, watermarkMs: number | null, olderWatermark = false): boolean {
    if (batchId !== this.batchId || !samePosition(position, this.start)) return false
    if (watermarkMs === this.watermarkMs) return true
    return olderWatermark && (this.watermarkMs === null || (watermarkMs !== null && this.watermarkMs <= watermarkMs))
  }

  /** Cancels the read-ahead and waits until it has stopped using the source. */
  async discard(): Promise<void> {
    // A reason of our own: abort() without one builds a DOMException with a stack trace (~70 us,
    // once per batch of a continuous query). Nothing reads it: the outcome is dropped below.
    this.#controller.abort(DISCARDED)
    await this.#settled
  }
}

function samePosition(a: Position, b: Position): boolean {
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  return keys.every((k) => a[k] === b[k])
}
