/**
 * Lateness as Spark's stateful operators define it: the watermark drops input only where a window
 * it belongs to can close (docs/design/stateful.md; the pure rules are in state/lateness.ts).
 */
import type { OutputMode } from '../config/types.ts'
import { type TimeWindow, type WindowSpec, lastWindowStart } from './state/windows.ts'

/**
 * Which input the watermark makes late (Spark's rule for the step that follows it):
 * - `event`: event time <= watermark (a pipeline without an aggregate step: the seed's late data);
 * - `window`: the end of the record's newest window <= watermark (Spark's windowed aggregation in
 *   update and append mode: a record whose event time is behind the watermark still counts while a
 *   window of it is open; a sliding record late for its older windows counts in the newer ones);
 * - `session`: the end of the record's own session, event time + gap, <= watermark (Spark's
 *   session_window: a record behind the watermark still opens or extends a session that can stay open);
 * - `never`: nothing (complete mode keeps every window; an aggregation without a window on the
 *   event-time column has no window to close; Spark drops nothing in either case).
 */
export type LatenessRule = { readonly kind: 'event' } | { readonly kind: 'window'; readonly window: WindowSpec } | { readonly kind: 'session'; readonly gapMs: number } | { readonly kind: 'never' }

interface WindowConfig {
  readonly column: string
  readonly duration: number
  readonly slide?: number | undefined
  readonly startTime?: number | undefined
}

/** The lateness rule of a pipeline: its aggregate step (if any), output mode and watermark column. */
export function latenessRule(spec: { readonly window?: WindowConfig | undefined; readonly session?: { readonly column: string; readonly gap: number } | undefined } | undefined, outputMode: OutputMode, watermarkColumn: string | undefined): LatenessRule {
  if (spec === undefined) return { kind: 'event' }
  if (spec.session !== undefined) return outputMode === 'complete' || spec.session.column !== watermarkColumn ? { kind: 'never' } : { kind: 'session', gapMs: spec.session.gap }
  const w = spec.window
  if (outputMode === 'complete' || w === undefined || w.column !== watermarkColumn) return { kind: 'never' }
  return { kind: 'window', window: { durationMs: w.duration, ...(w.slide === undefined ? {} : { slideMs: w.slide }), ...(w.startTime === undefined ? {} : { startTimeMs: w.startTime }) } }
}

/** The newest window that covers an event time: the last one to close. */
export function newestWindow(eventTimeMs: number, spec: WindowSpec): TimeWindow {
  const start = lastWindowStart(eventTimeMs, spec.slideMs ?? spec.durationMs, spec.startTimeMs ?? 0)
  return { start, end: start + spec.durationMs }
}

