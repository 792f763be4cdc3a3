/**
 * Event-time windows of the aggregate step, as Spark's `window(column, duration, slide, startTime)`
 * and `session_window(column, gap)`; the engine's checks (state/windows.ts) run at parse time so a
 * file with an impossible window names the field.
 */
import * as z from 'zod'
import { durationHelp, durationPattern, parseDuration } from '../../config/duration.ts'
import { always, duration, fieldPathText, interpolationSchema, strictObject } from '../../config/lenient.ts'
import { type WindowSpec, windowSpecProblem } from '../../engine/state/windows.ts'

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
    column: fieldPathText('Event-time column (the watermark column when there is a watermark).'),
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
    column: fieldPathText('Event-time column (the watermark column when there is a watermark).'),
    gap: duration('Inactivity gap that closes a session, e.g. "10 minutes".', { positive: true }),
  },
  "Session window as Spark's session_window(column, gap): each event opens [t, t + gap); overlapping or touching sessions of a group merge. Adds window_start and window_end columns.",
)


/** The engine's window spec of a parsed `window`. */
export function toWindowSpec(w: { duration: number; slide?: number | undefined; startTime?: number | undefined }): WindowSpec {
  return { durationMs: w.duration, ...(w.slide !== undefined ? { slideMs: w.slide } : {}), ...(w.startTime !== undefined ? { startTimeMs: w.startTime } : {}) }
}
