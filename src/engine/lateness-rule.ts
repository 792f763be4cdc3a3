/**
 * Lateness as Spark's stateful operators define it: the watermark drops input only where a window
 * it belongs to can close (docs/design/stateful.md; the pure rules are in state/lateness.ts).
 */
import type { OutputMode } from '../config/types.ts'

/**
 * Which input the watermark makes late (Spark's rule for the step that follows it):
 * - `event`: event time <= watermark (a pipeline without an aggregate step: the seed's late data);
 * - `window`: the end of the record's window <= watermark (Spark's windowed aggregation in update
 *   mode: a record whose event time is behind the watermark still counts while its window is open);
 * - `never`: nothing (complete mode keeps every window; an aggregation without a window on the
 *   event-time column has no window to close; Spark drops nothing in either case).
 */
export type LatenessRule = { readonly kind: 'event' } | { readonly kind: 'window'; readonly durationMs: number } | { readonly kind: 'never' }

/** The lateness rule of a pipeline: its aggregate step (if any), output mode and watermark column. */
export function latenessRule(spec: { readonly window?: { readonly column: string; readonly duration: number } | undefined } | undefined, outputMode: OutputMode, watermarkColumn: string | undefined): LatenessRule {
  if (spec === undefined) return { kind: 'event' }
  if (outputMode === 'complete' || spec.window === undefined || spec.window.column !== watermarkColumn) return { kind: 'never' }
  return { kind: 'window', durationMs: spec.window.duration }
}

