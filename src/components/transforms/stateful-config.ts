/**
 * Config of the stateful transforms (issue 12), in the style of config.ts: the aggregate step's
 * event-time `window` (tumbling or sliding, optional startTime) or `session` window, and the
 * `deduplicate` step (its schema is in config.ts: it is part of `transformStepSchema`). The
 * windows are not yet part of `transformStepSchema`: the engine does not run them yet, and a step
 * the engine would accept but ignore must not parse (see docs/design/stateful.md, "Wiring").
 *
 * The converters at the end turn a parsed step into the engine's specs (src/engine/state/).
 */
import * as z from 'zod'
import { SluiceError } from '../../errors.ts'
import { durationHelp, durationPattern, parseDuration } from '../../config/duration.ts'
import { always, duration, interpolationSchema, strictObject, text } from '../../config/lenient.ts'
import type { DedupSpec } from '../../engine/state/dedup.ts'
import type { AggregationSpec } from '../../engine/state/group-state.ts'
import { sessionGapProblem } from '../../engine/state/session.ts'
import { type WindowSpec, windowSpecProblem } from '../../engine/state/windows.ts'
import type { OutputMode, StreamingConfig, TransformStep } from '../../config/types.ts'
import { aggregateStepSchema, deduplicateStepSchema } from './config.ts'

/** A duration that may be negative ("-2 minutes"): Spark's window startTime. */
export function signedDuration(description: string) {
  return z
    .union([z.number(), z.string()], { error: `must be ${durationHelp}, optionally negative` })
    .meta({
      description,
      anyOf: [{ type: 'number' }, { type: 'string', pattern: durationPattern.replace('^\\s*', '^\\s*-?\\s*') }, interpolationSchema],
    })
    .transform((v, ctx): number => {
      const negative = typeof v === 'number' ? v < 0 : /^\s*-/.test(v)
      const magnitude = typeof v === 'number' ? Math.abs(v) : v.replace(/^\s*-\s*/, '')
      const r = parseDuration(magnitude)
      if (r.ok) return negative ? -r.ms : r.ms
      ctx.issues.push({ code: 'custom', input: v, message: `${r.message}, optionally negative` })
      return z.NEVER
    })
}

export const windowSchema = strictObject(
  {
    column: text('Event-time column (the watermark column when there is a watermark).'),
    duration: duration('Window length, e.g. "5 minutes".', { positive: true }),
    slide: duration('Distance between window starts for sliding windows, at most the duration (default: the duration, tumbling); a record is in every window that covers it.', { positive: true }).optional(),
    startTime: signedDuration('Offset of the window starts from the epoch, e.g. "2 minutes" or "-2 minutes"; its absolute value must be less than the slide (default 0).').optional(),
  },
  "Event-time window as Spark's window(column, duration, slide, startTime): [start, end), aligned to the epoch plus startTime; adds window_start and window_end columns.",
).check(
  z.superRefine((v, ctx) => {
    if (typeof v.duration !== 'number' || (v.slide !== undefined && typeof v.slide !== 'number') || (v.startTime !== undefined && typeof v.startTime !== 'number')) return
    const problem = windowSpecProblem(toWindowSpec(v))
    if (problem === null) return
    const path = /startTime/.test(problem) ? ['startTime'] : /slide/.test(problem) ? ['slide'] : ['duration']
    ctx.addIssue({ code: 'custom', path, input: path[0] === 'startTime' ? v.startTime : path[0] === 'slide' ? v.slide : v.duration, message: problem })
  }, always),
)

export const sessionSchema = strictObject(
  {
    column: text('Event-time column (the watermark column when there is a watermark).'),
    gap: duration('Inactivity gap that closes a session, e.g. "10 minutes".', { positive: true }),
  },
  "Session window as Spark's session_window(column, gap): each event opens [t, t + gap); overlapping or touching sessions of a group merge. Adds window_start and window_end columns.",
)

/** The aggregate step with stateful windows: `window` (tumbling/sliding) or `session`, not both. */
export const statefulAggregateStepSchema = strictObject(
  { ...aggregateStepSchema.shape, window: windowSchema.optional(), session: sessionSchema.optional() },
  'Group records and aggregate them, per event-time window or session when given; must be the last step (see docs/design/stateful.md).',
).check(
    z.superRefine((v, ctx) => {
      if (v.window !== undefined && v.session !== undefined) ctx.addIssue({ code: 'custom', path: ['session'], input: v.session, message: 'an aggregate step has either a window or a session, not both' })
    }, always),
  )

export { deduplicateStepSchema }

export type StatefulAggregateStep = z.output<typeof statefulAggregateStepSchema>
export type DeduplicateStep = z.output<typeof deduplicateStepSchema>

/** One cross-section problem of a stateful step, with its path from the pipeline root. */
export interface StatefulIssue {
  readonly path: (string | number)[]
  readonly message: string
}

/**
 * The rules that span sections (for the pipeline-level superRefine once wired), as Spark's:
 * append needs a watermark on the window's column; a session window cannot run in update mode; a
 * deduplicate step needs withinWatermark with a watermark, or a state timeout (its own or
 * streamingConfigJson.stateTimeout).
 */
export function statefulRules(step: StatefulAggregateStep | DeduplicateStep, at: number, outputMode: OutputMode, streaming: Pick<StreamingConfig, 'watermark' | 'stateTimeout'> | undefined): StatefulIssue[] {
  const issues: StatefulIssue[] = []
  const watermark = streaming?.watermark
  if (step.type === 'deduplicate') {
    if (step.withinWatermark === true && watermark === undefined) issues.push({ path: ['transform', at, 'withinWatermark'], message: 'withinWatermark needs streamingConfigJson.watermark (the key is kept for the watermark delay)' })
    if (step.withinWatermark !== true && step.stateTimeout === undefined && streaming?.stateTimeout === undefined) {
      issues.push({ path: ['transform', at], message: 'a deduplicate step needs withinWatermark: true or a stateTimeout (here or in streamingConfigJson): state without either grows forever' })
    }
    return issues
  }
  const windowed = step.window ?? step.session
  if (step.session !== undefined && outputMode === 'update') {
    issues.push({ path: ['streamingConfigJson', 'outputMode'], message: 'session windows support outputMode append or complete, not update (as in Spark)' })
  }
  if (outputMode === 'append' && (windowed === undefined || watermark === undefined)) {
    issues.push({ path: ['streamingConfigJson', 'outputMode'], message: 'outputMode append with an aggregate step needs a window or session and a watermark: a window is written once, when the watermark passes its end' })
  }
  if (windowed !== undefined && watermark !== undefined && windowed.column !== watermark.eventTimeColumn) {
    issues.push({ path: ['transform', at, step.window !== undefined ? 'window' : 'session', 'column'], message: `the window column must be the watermark's eventTimeColumn "${watermark.eventTimeColumn}": lateness and closing are judged on it` })
  }
  return issues
}

/** The engine's window spec of a parsed `window`. */
export function toWindowSpec(w: { duration: number; slide?: number | undefined; startTime?: number | undefined }): WindowSpec {
  return { durationMs: w.duration, ...(w.slide !== undefined ? { slideMs: w.slide } : {}), ...(w.startTime !== undefined ? { startTimeMs: w.startTime } : {}) }
}

/** The engine's gap check, for the lead's assembly (the schema already refuses a non-positive gap). */
export { sessionGapProblem }

/** The engine's aggregation list of a parsed aggregate step, in the file's order. */
export function toAggregationSpecs(aggregations: Extract<TransformStep, { type: 'aggregate' }>['aggregations']): AggregationSpec[] {
  return Object.entries(aggregations).map(([name, a]) => ({ name, fn: a.fn, ...(a.field !== undefined ? { field: a.field } : {}) }))
}

/** The engine's dedup spec of a parsed step (after statefulRules found no problem). */
export function toDedupSpec(step: DeduplicateStep, streaming: Pick<StreamingConfig, 'watermark' | 'stateTimeout'> | undefined): DedupSpec {
  if (step.withinWatermark === true) {
    if (streaming?.watermark === undefined) throw new SluiceError('INTERNAL', 'withinWatermark needs a watermark')
    return { keys: step.keys, withinWatermark: { delayMs: streaming.watermark.delayThreshold } }
  }
  const timeout = step.stateTimeout ?? streaming?.stateTimeout
  if (timeout === undefined) throw new SluiceError('INTERNAL', 'a deduplicate step needs withinWatermark or a stateTimeout')
  return { keys: step.keys, stateTimeoutMs: timeout }
}
