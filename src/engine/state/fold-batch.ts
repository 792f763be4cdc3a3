/**
 * One batch of a windowed aggregate step, reduced to partial states with Spark's lateness rule, and
 * the append-mode emission of closed windows. Pure: the caller loads and stores the states (in the
 * batch transaction) and routes the late records.
 *
 * Per record: its windows (assignWindows), each either late (end <= watermark, not in complete
 * mode) or folded into the (group, window) state. A sliding-window record can be late for its
 * older windows and on time for its newer ones: it counts in the latter and is reported late with
 * the former. The batch's maximum event time covers every row (late ones too), as Spark's
 * watermark operator sees them before the aggregation drops any.
 */
import type { RowValues } from '../../api/record.ts'
import { type AggregationSpec, type GroupState, emptyGroupState, foldRow, groupValues, stateKey } from './group-state.ts'
import { type OutputMode, isWindowClosed, splitByLateness } from './lateness.ts'
import { type TimeWindow, type WindowSpec, assignWindows } from './windows.ts'

/** An input row with its (already parsed) event time; `record` is the caller's handle for routing it. */
export interface TimedRow<R> {
  readonly record: R
  readonly values: Readonly<RowValues>
  readonly eventTimeMs: number
}

/** A record that was late for some (or all) of its windows. */
export interface LateRecord<R> {
  readonly record: R
  /** The windows it was too late for, earliest first. */
  readonly windows: readonly TimeWindow[]
  /** True when it counted in none of its windows. */
  readonly wholly: boolean
}

export interface WindowedAggregateSpec {
  readonly groupBy: readonly string[]
  readonly aggregations: readonly AggregationSpec[]
  readonly window: WindowSpec
}

export interface FoldedBatch<R> {
  /** This batch's partial state per state key (only what the batch added), in first-seen order. */
  readonly states: Map<string, GroupState>
  readonly late: LateRecord<R>[]
  /** Largest event time of all the batch's rows, for nextWatermark; null for an empty batch. */
  readonly maxEventTimeMs: number | null
}

/**
 * Folds a batch under the watermark the batch applies (the previous batch's nextWatermark). Rows
 * must already be valid for the step (group columns non-null, aggregated values readable): the
 * caller dead-letters the others first, as aggregate.ts does.
 */
export function foldWindowedBatch<R>(rows: readonly TimedRow<R>[], spec: WindowedAggregateSpec, watermark: number | null, mode: OutputMode): FoldedBatch<R> {
  const states = new Map<string, GroupState>()
  const late: LateRecord<R>[] = []
  let maxEventTimeMs: number | null = null
  for (const row of rows) {
    if (maxEventTimeMs === null || row.eventTimeMs > maxEventTimeMs) maxEventTimeMs = row.eventTimeMs
    const split = splitByLateness(assignWindows(row.eventTimeMs, spec.window), watermark, mode)
    if (split.late.length > 0) late.push({ record: row.record, windows: split.late, wholly: split.onTime.length === 0 })
    const group = groupValues(row.values, spec.groupBy)
    for (const window of split.onTime) {
      const key = stateKey(group, window)
      const state = states.get(key) ?? emptyGroupState(group, window, spec.aggregations)
      states.set(key, foldRow(state, row.values, spec.aggregations))
    }
  }
  return { states, late, maxEventTimeMs }
}

/** States split by whether their window has closed under a watermark. */
export interface Closing {
  /** Closed (end <= watermark): in append mode emitted now, once, and their state deleted. */
  readonly closed: GroupState[]
  readonly open: GroupState[]
}

/**
 * Splits states by isWindowClosed, closed ones earliest end first (then by key, so the order is
 * the same on every worker). A state without a window never closes.
 */
export function closeWindows(states: Iterable<GroupState>, watermark: number | null): Closing {
  const closed: GroupState[] = []
  const open: GroupState[] = []
  for (const s of states) (s.window !== null && isWindowClosed(s.window, watermark) ? closed : open).push(s)
  closed.sort((a, b) => (a.window as TimeWindow).end - (b.window as TimeWindow).end || (stateKey(a.group, a.window) < stateKey(b.group, b.window) ? -1 : 1))
  return { closed, open }
}
