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
import { always, strictObject } from '../../config/lenient.ts'
import type { DedupSpec } from '../../engine/state/dedup.ts'
import type { AggregationSpec } from '../../engine/state/group-state.ts'
import { sessionGapProblem } from '../../engine/state/session.ts'
import { sessionSchema, signedDuration, toWindowSpec, windowSchema } from './window-config.ts'
import type { OutputMode, StreamingConfig, TransformStep } from '../../config/types.ts'
import { aggregateStepSchema, deduplicateStepSchema } from './config.ts'

/** The aggregate step with stateful windows: `window` (tumbling/sliding) or `session`, not both. */
export const statefulAggregateStepSchema = strictObject(
  { ...aggregateStepSchema.shape, window: windowSchema.optional(), session: sessionSchema.optional() },
  'Group records and aggregate them, per event-time window or session when given; must be the last step (see docs/design/stateful.md).',
).check(
    z.superRefine((v, ctx) => {
      if (v.window !== undefined && v.session !== undefined) ctx.addIssue({ code: 'custom', path: ['session'], input: v.session, message: 'an aggregate step has either a window or a session, not both' })
    }, always),
  )

export { deduplicateStepSchema, sessionSchema, signedDuration, toWindowSpec, windowSchema }

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
