/**
 * Spark's watermark and its lateness / emission rules for stateful operators, as pure functions.
 *
 * Watermark (WatermarkTracker): after a batch, each input's watermark is the largest event time it
 * has seen minus the delay; the pipeline's watermark is the minimum over the inputs
 * (spark.sql.streaming.multipleWatermarkPolicy=min, the default) or the maximum (max). It is
 * computed at the END of a batch and applies from the next batch on, and it never moves backwards.
 * `null` means "no watermark yet" (nothing is late).
 *
 * Lateness of input (WatermarkSupport: the predicate is on the window's END for a window column):
 * - update and append: an input row is late for a window when window.end <= watermark. A sliding
 *   window row can be late for some of its windows and on time for others; only the late
 *   windows drop it (Spark filters the expanded (row, window) pairs one by one).
 * - complete: the watermark drops nothing (Spark keeps all state in complete mode).
 * Emission:
 * - update: every batch emits the windows the batch changed.
 * - complete: every batch emits the whole result.
 * - append: a window is emitted once, in the batch whose watermark is >= its end, with its final
 *   aggregate; its state is then deleted, and any later input for it is late (end <= watermark).
 * What Spark drops silently (numRowsDroppedByWatermark) is returned here as late, with the window
 * it belonged to, for Sluice's late-data destination (LATE_DATA).
 */
import type { OutputMode } from '../../config/types.ts'
import type { TimeWindow } from './windows.ts'

export type { OutputMode }

/** How several inputs' watermarks combine (spark.sql.streaming.multipleWatermarkPolicy). */
export type WatermarkPolicy = 'min' | 'max'

/**
 * One input's watermark after a batch: max(current, maxEventTime - delay), or current when the
 * batch saw no event time. `maxEventTimeMs` is the largest event time of ALL the batch's rows
 * (late ones included: Spark's EventTimeWatermark operator sees them before any stateful
 * operator drops them).
 */
export function nextWatermark(current: number | null, maxEventTimeMs: number | null, delayMs: number): number | null {
  if (maxEventTimeMs === null) return current
  const candidate = maxEventTimeMs - delayMs
  return current === null ? candidate : Math.max(current, candidate)
}

/**
 * The pipeline watermark from each input's watermark (null: that input has no watermark yet), never
 * below `previous`. With policy min an input without a watermark holds the pipeline watermark where
 * it is (Spark counts such an input as 0, the epoch; for event times after 1970 that is the same).
 */
export function combineWatermarks(previous: number | null, inputs: readonly (number | null)[], policy: WatermarkPolicy = 'min'): number | null {
  const known = inputs.filter((w): w is number => w !== null)
  let chosen: number | null
  if (known.length === 0) chosen = null
  else if (policy === 'max') chosen = Math.max(...known)
  else chosen = known.length < inputs.length ? null : Math.min(...known)
  if (chosen === null) return previous
  return previous === null ? chosen : Math.max(previous, chosen)
}

/** True when input for `window` is late under `watermark` in `mode` (end <= watermark; never in complete). */
export function isWindowLate(window: TimeWindow, watermark: number | null, mode: OutputMode): boolean {
  return mode !== 'complete' && watermark !== null && window.end <= watermark
}

/** A record's windows split by lateness. */
export interface WindowSplit {
  readonly onTime: TimeWindow[]
  /** The windows the record was too late for (Spark drops these silently; Sluice reports them). */
  readonly late: TimeWindow[]
}

/** Splits the windows a record belongs to into on-time and late ones. */
export function splitByLateness(windows: readonly TimeWindow[], watermark: number | null, mode: OutputMode): WindowSplit {
  const onTime: TimeWindow[] = []
  const late: TimeWindow[] = []
  for (const w of windows) (isWindowLate(w, watermark, mode) ? late : onTime).push(w)
  return { onTime, late }
}

/**
 * True when an append-mode window is final under `watermark` (end <= watermark): it is emitted now,
 * once, and its state deleted. In update mode the same test says when its state may be evicted.
 */
export function isWindowClosed(window: TimeWindow, watermark: number | null): boolean {
  return watermark !== null && window.end <= watermark
}

/**
 * True when a plain (unwindowed) event time is late: eventTime <= watermark (Spark's predicate for
 * an event-time column that is not a window, e.g. dropDuplicatesWithinWatermark).
 */
export function isEventLate(eventTimeMs: number, watermark: number | null): boolean {
  return watermark !== null && eventTimeMs <= watermark
}
