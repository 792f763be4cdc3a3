/**
 * Trigger modes in the seed's spellings: "processingtime=5 seconds" (also "ProcessingTime=5s",
 * "processing_time=5 seconds"), "once", "availableNow"/"available-now", "continuous".
 */
import * as z from 'zod'
import { durationHelp, durationPattern, formatDuration, parseDuration } from './duration.ts'
import { interpolationSchema, lenientPattern, normalizeWord } from './lenient.ts'
import type { TriggerMode } from './types.ts'

const allowed = '"processingtime=<interval>" (e.g. "processingtime=5 seconds"), "once", "availablenow" or "continuous"'

/** Parses a trigger string, or returns an error message saying what is allowed. */
export function parseTrigger(input: string): { ok: true; trigger: TriggerMode } | { ok: false; message: string } {
  const eq = input.indexOf('=')
  const head = normalizeWord(eq === -1 ? input : input.slice(0, eq))
  if (eq !== -1) {
    if (head !== 'processingtime') return { ok: false, message: `must be ${allowed}` }
    const d = parseDuration(input.slice(eq + 1).trim())
    if (!d.ok) return { ok: false, message: `processingtime interval ${d.message}` }
    return { ok: true, trigger: { type: 'processingtime', intervalMs: d.ms } }
  }
  if (head === 'once' || head === 'availablenow' || head === 'continuous') return { ok: true, trigger: { type: head } }
  if (head === 'processingtime') return { ok: false, message: `processingtime needs an interval: "processingtime=5 seconds" (${durationHelp})` }
  return { ok: false, message: `must be ${allowed}` }
}

/** Canonical text of a trigger: "processingtime=5 seconds", "once", "availablenow", "continuous". */
export function formatTrigger(t: TriggerMode): string {
  return t.type === 'processingtime' ? `processingtime=${formatDuration(t.intervalMs)}` : t.type
}

const processingTimePattern = `^\\s*${lenientPattern(['processingtime']).slice(5, -5)}\\s*=${durationPattern.slice(1)}`

/** Zod schema of triggerMode. */
export const triggerModeSchema = z
  .string({ error: `must be a string: ${allowed}` })
  .meta({
    description:
      'When micro-batches start: "processingtime=<interval>" every interval, "once" one batch then exit, "availablenow" everything available then exit, "continuous" back to back.',
    anyOf: [
      { enum: ['processingtime=5 seconds', 'once', 'availablenow', 'continuous'] },
      { pattern: lenientPattern(['once', 'availablenow', 'continuous']) },
      { pattern: processingTimePattern },
      interpolationSchema,
    ],
  })
  .transform((v, ctx): TriggerMode => {
    const r = parseTrigger(v)
    if (r.ok) return r.trigger
    ctx.issues.push({ code: 'custom', input: v, message: r.message })
    return z.NEVER
  })
