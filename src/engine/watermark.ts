/**
 * Event-time watermark with Spark's semantics: the watermark is the largest event time seen so far
 * minus the delay threshold. It is computed at the end of a batch and applied from the next batch
 * on (a batch never advances its own watermark), it never moves backwards, and it is stored with
 * the batch commit so that a restart does not re-admit late rows. A record is late when its event
 * time is at or below the watermark.
 *
 * With workers sharing a pipeline (or watermark.perPartition) the store computes the next watermark
 * instead, per partition (Flink's rule: the minimum over the partitions' largest event times, idle
 * partitions left out), from the per-partition maxima this class also keeps (docs/design/scale-out.md).
 */
import { isExactNumber } from './exact-number.ts'

/**
 * Per-partition watermarks (the store computes them, Flink's rule): a partition whose position has
 * not moved for this long stops holding the pipeline's watermark back. A minute is long enough for
 * a quiet partition of a live topic to have had data, short enough that a stopped producer does
 * not freeze every window (watermark.idleTimeout overrides it).
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000

/** Parses an event time: ISO-8601 string, epoch milliseconds, epoch seconds (< 1e11), or Date. */
export function parseEventTime(value: unknown): number | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.getTime()
  if (isExactNumber(value)) return parseEventTime(Number(value.rawJSON))
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null
    return Math.abs(value) < 1e11 ? Math.round(value * 1000) : Math.round(value)
  }
  if (typeof value === 'string') {
    const trimmed = value.trim()
    if (trimmed === '') return null
    if (/^-?\d+(\.\d+)?$/.test(trimmed)) return parseEventTime(Number(trimmed))
    const ms = Date.parse(trimmed)
    return Number.isNaN(ms) ? null : ms
  }
  return null
}

/** The watermark state of one batch: the value it applies and the maximum it observes. */
export class BatchWatermark {
  /** Watermark applied to this batch (from the previous commit), or null before any data. */
  readonly current: number | null
  readonly #delayMs: number
  #maxEventTime: number | null = null
  /** The largest on-time event time per partition: the store keeps them for the per-partition rule. */
  readonly #perPartition = new Map<string, number>()

  constructor(current: number | null, delayMs: number) {
    this.current = current
    this.#delayMs = delayMs
  }

  /** True when `eventTimeMs` is at or below the watermark. */
  isLate(eventTimeMs: number): boolean {
    return this.current !== null && eventTimeMs <= this.current
  }

  /** Records an on-time event time of a record of `partition`. */
  observe(eventTimeMs: number, partition: string): void {
    if (this.#maxEventTime === null || eventTimeMs > this.#maxEventTime) this.#maxEventTime = eventTimeMs
    const seen = this.#perPartition.get(partition)
    if (seen === undefined || eventTimeMs > seen) this.#perPartition.set(partition, eventTimeMs)
  }

  /** The largest on-time event time of each partition that had one in this batch. */
  partitionMaxima(): Record<string, number> {
    return Object.fromEntries(this.#perPartition)
  }

  /** The watermark for the next batch: monotonic, max event time minus the delay. */
  next(): number | null {
    if (this.#maxEventTime === null) return this.current
    const candidate = this.#maxEventTime - this.#delayMs
    return this.current === null ? candidate : Math.max(this.current, candidate)
  }
}
