/**
 * Session windows with Spark's session_window semantics (SessionWindowing, MergingSessionsIterator):
 * each event opens the session [t, t + gap); sessions of the same group whose intervals overlap or
 * touch (next.start <= current.end, after sorting by start) merge into one, from the earliest
 * start to the latest end, and their partial aggregates merge. Merging is order-independent: the
 * result is the union of the intervals' connected components, so the sessions a batch built and
 * those already in state can be merged in any order, by any worker.
 *
 * Lateness: an event is late when its own session's end, t + gap, is <= the watermark (Spark's
 * predicate on the session column's end), never in complete mode. A stored session closes (append:
 * emitted once, state deleted) when its end <= watermark, or with a stateTimeout when it has been
 * idle that long in processing time (isSessionClosed). Spark does not allow update mode with
 * session windows; these functions do not depend on the mode beyond lateness.
 */
import { SluiceError } from '../../errors.ts'
import { type AggregationSpec, type GroupState, emptyGroupState, foldRow, groupKeyText, groupValues } from './group-state.ts'
import { type OutputMode, isWindowLate } from './lateness.ts'
import type { LateRecord, TimedRow } from './fold-batch.ts'
import { type Partial, mergePartial } from './partial.ts'
import type { TimeWindow } from './windows.ts'

/** Why a gap is invalid, or null (Spark drops events with a gap <= 0; Sluice refuses the config). */
export function sessionGapProblem(gapMs: number): string | null {
  return Number.isSafeInteger(gapMs) && gapMs > 0 ? null : `the session gap (${gapMs} ms) must be a whole number of milliseconds greater than 0`
}

/** The session one event opens: [t, t + gap). */
export function sessionOf(eventTimeMs: number, gapMs: number): TimeWindow {
  return { start: eventTimeMs, end: eventTimeMs + gapMs }
}

/**
 * Merges the sessions of ONE group (states with `window` set, e.g. those stored plus those a batch
 * built) into disjoint sessions, earliest first. Throws on a state without a window.
 */
export function mergeSessions(sessions: readonly GroupState[]): GroupState[] {
  const sorted = [...sessions].sort((a, b) => start(a) - start(b) || end(a) - end(b))
  const out: GroupState[] = []
  for (const s of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && start(s) <= end(last)) {
      const window = { start: start(last), end: Math.max(end(last), end(s)) }
      out[out.length - 1] = { group: last.group, window, partials: last.partials.map((p, i) => mergePartial(p, s.partials[i] as Partial)) }
    } else {
      out.push(s)
    }
  }
  return out
}

function start(s: GroupState): number {
  if (s.window === null) throw new SluiceError('INTERNAL', 'a session state needs its window')
  return s.window.start
}

function end(s: GroupState): number {
  if (s.window === null) throw new SluiceError('INTERNAL', 'a session state needs its window')
  return s.window.end
}

export interface SessionAggregateSpec {
  readonly groupBy: readonly string[]
  readonly aggregations: readonly AggregationSpec[]
  readonly gapMs: number
}

export interface FoldedSessions<R> {
  /** Per group (groupKeyText), the sessions this batch's on-time events form, merged, earliest first. */
  readonly sessions: Map<string, GroupState[]>
  readonly late: LateRecord<R>[]
  readonly maxEventTimeMs: number | null
}

/**
 * Folds a batch into per-group sessions under the watermark it applies. The caller then merges each
 * group's list with the group's stored sessions (mergeSessions([...stored, ...batch])), replaces
 * the stored ones with the result, and in append mode emits and deletes those with end <= watermark.
 */
export function foldSessionBatch<R>(rows: readonly TimedRow<R>[], spec: SessionAggregateSpec, watermark: number | null, mode: OutputMode): FoldedSessions<R> {
  const perGroup = new Map<string, GroupState[]>()
  const late: LateRecord<R>[] = []
  let maxEventTimeMs: number | null = null
  for (const row of rows) {
    if (maxEventTimeMs === null || row.eventTimeMs > maxEventTimeMs) maxEventTimeMs = row.eventTimeMs
    const window = sessionOf(row.eventTimeMs, spec.gapMs)
    if (isWindowLate(window, watermark, mode)) {
      late.push({ record: row.record, windows: [window], wholly: true })
      continue
    }
    const group = groupValues(row.values, spec.groupBy)
    const key = groupKeyText(group)
    const state = foldRow(emptyGroupState(group, window, spec.aggregations), row.values, spec.aggregations)
    const list = perGroup.get(key)
    if (list === undefined) perGroup.set(key, [state])
    else list.push(state)
  }
  const sessions = new Map<string, GroupState[]>()
  for (const [key, list] of perGroup) sessions.set(key, mergeSessions(list))
  return { sessions, late, maxEventTimeMs }
}

/**
 * When a stored session closes: its end is <= the watermark (append: written once, then deleted),
 * or, with a stateTimeout, its group has been idle that long in processing time (Spark's
 * GroupStateTimeout.ProcessingTimeTimeout: `expiresAt` = the processing time of the last batch that
 * added to the session + the timeout, closed when it is before the batch's time `nowMs`).
 */
export function isSessionClosed(session: TimeWindow, watermark: number | null, expiresAt: number | null, nowMs: number): boolean {
  return (watermark !== null && session.end <= watermark) || (expiresAt !== null && expiresAt < nowMs)
}

/** The stateTimeout expiry of a session a batch at `nowMs` added to (or created). */
export function sessionExpiresAt(nowMs: number, stateTimeoutMs: number): number {
  return nowMs + stateTimeoutMs
}
