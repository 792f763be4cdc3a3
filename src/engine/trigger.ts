/**
 * When micro-batches start, with the seed's and Spark's trigger meanings:
 *
 * - processingtime=<interval>: a batch starts on each interval boundary; a batch that runs longer
 *   than the interval makes the next one start at once (missed ticks are not queued, batches never
 *   overlap). No data at a tick: no batch, wait for the next tick.
 * - once: one batch of what is available (read limits are honoured, unlike Spark's deprecated
 *   Trigger.Once, so memory stays bounded), then stop.
 * - availablenow: everything available at start, in as many batches as the limits require, then stop.
 * - continuous: the next batch starts as soon as the previous one committed and data is there.
 *   Unlike Spark's experimental continuous mode (at-least-once, long-running tasks), this is
 *   micro-batching with no interval: the same exactly-once protocol, latency of one commit.
 */
export type TriggerMode =
  | { readonly type: 'processingtime'; readonly intervalMs: number }
  | { readonly type: 'once' }
  | { readonly type: 'availablenow' }
  | { readonly type: 'continuous' }

/** Scheduling decisions of one query. */
export class TriggerPolicy {
  readonly mode: TriggerMode
  #tickStart: number | null = null

  constructor(mode: TriggerMode) {
    this.mode = mode
  }

  /** True for triggers that end the query once the data available at start is processed. */
  get bounded(): boolean {
    return this.mode.type === 'once' || this.mode.type === 'availablenow'
  }

  /** True when at most one batch runs. */
  get single(): boolean {
    return this.mode.type === 'once'
  }

  /** Milliseconds to wait before planning the next batch, given the clock. */
  delayBeforeNext(now: number): number {
    if (this.mode.type !== 'processingtime') return 0
    const interval = this.mode.intervalMs
    if (this.#tickStart === null) return 0
    // Spark's ProcessingTimeExecutor: the next trigger is the interval boundary after the
    // previous trigger's start; if the batch ran past it, that time is already due.
    const nextTrigger = Math.floor(this.#tickStart / interval) * interval + interval
    return Math.max(0, nextTrigger - now)
  }

  /** Marks the start of a trigger (a planning attempt), aligning processing-time ticks. */
  startTick(now: number): void {
    if (this.mode.type !== 'processingtime') return
    this.#tickStart = now
  }

  /** Milliseconds to wait after a planning attempt found no data (continuous polling backs off). */
  idleDelay(consecutiveEmpty: number, now: number): number {
    if (this.mode.type === 'processingtime') return this.delayBeforeNext(now)
    return Math.min(1000, 25 * 2 ** Math.min(consecutiveEmpty, 6))
  }
}
