/**
 * Event-time window assignment with Spark's boundaries (`window(col, duration, slide, startTime)`,
 * TimeWindowing / TimeWindowResolution in Spark's analyzer). All times are epoch milliseconds.
 *
 * A window is `[start, end)`: start inclusive, end exclusive. Windows are aligned to the epoch
 * shifted by `startTime`: every window start s satisfies (s - startTime) mod slide = 0, with a
 * floored modulo, so negative event times (before 1970) land in the window that covers them
 * (Spark's formula: remainder = (t - startTime) % slide; lastStart = t - (remainder < 0 ?
 * remainder + slide : remainder)). A tumbling window is the case slide = duration. With a slide
 * shorter than the duration a record belongs to every window that covers it: ceil(duration /
 * slide) candidates counted back from the last start, of which those with start <= t < end are
 * kept (all of them when slide divides duration).
 */

/** One window, `[start, end)` in epoch ms. */
export interface TimeWindow {
  readonly start: number
  readonly end: number
}

/** A tumbling (slideMs absent or equal to durationMs) or sliding window, in ms. */
export interface WindowSpec {
  readonly durationMs: number
  /** Distance between window starts; default durationMs (tumbling). */
  readonly slideMs?: number
  /** Offset of the window starts from the epoch; may be negative; |startTimeMs| < slide. */
  readonly startTimeMs?: number
}

/** The most windows one record may fall in (ceil(duration / slide)). */
export const MAX_WINDOWS_PER_RECORD = 1000

/** Why a window spec is invalid (Spark's checks on window()), or null when it is valid. */
export function windowSpecProblem(spec: WindowSpec): string | null {
  const slide = spec.slideMs ?? spec.durationMs
  const startTime = spec.startTimeMs ?? 0
  if (!Number.isSafeInteger(spec.durationMs) || spec.durationMs <= 0) return `the window duration (${spec.durationMs} ms) must be a whole number of milliseconds greater than 0`
  if (!Number.isSafeInteger(slide) || slide <= 0) return `the slide (${slide} ms) must be a whole number of milliseconds greater than 0`
  if (slide > spec.durationMs) return `the slide (${slide} ms) must be at most the window duration (${spec.durationMs} ms)`
  if (!Number.isSafeInteger(startTime) || Math.abs(startTime) >= slide) return `the absolute value of startTime (${startTime} ms) must be less than the slide (${slide} ms)`
  // Spark has no such bound; a 1-day window sliding by 1 second would put every record in 86,400
  // windows (and as many state rows), which is a configuration mistake rather than a use.
  const perRecord = Math.ceil(spec.durationMs / slide)
  if (perRecord > MAX_WINDOWS_PER_RECORD) return `a record would be in ${perRecord} windows (duration / slide); at most ${MAX_WINDOWS_PER_RECORD} are allowed: use a longer slide`
  return null
}

/** The last window start at or before `eventTimeMs` (floored modulo: right for negative times too). */
export function lastWindowStart(eventTimeMs: number, slideMs: number, startTimeMs = 0): number {
  const remainder = (eventTimeMs - startTimeMs) % slideMs
  return eventTimeMs - (remainder < 0 ? remainder + slideMs : remainder)
}

/**
 * Every window that covers `eventTimeMs`, earliest start first. The spec must be valid
 * (windowSpecProblem returns null); a tumbling spec gives exactly one window.
 */
export function assignWindows(eventTimeMs: number, spec: WindowSpec): TimeWindow[] {
  const slide = spec.slideMs ?? spec.durationMs
  const last = lastWindowStart(eventTimeMs, slide, spec.startTimeMs ?? 0)
  const candidates = Math.ceil(spec.durationMs / slide)
  const windows: TimeWindow[] = []
  for (let i = candidates - 1; i >= 0; i--) {
    const start = last - i * slide
    const end = start + spec.durationMs
    // start <= t holds by construction; only the oldest candidates can end at or before t.
    if (eventTimeMs < end) windows.push({ start, end })
  }
  return windows
}

/** Canonical text of a window, part of a state key: "<start>/<end>" in epoch ms. */
export function windowKey(window: TimeWindow): string {
  return `${window.start}/${window.end}`
}

/** Parses windowKey's text back; null when it is not one. */
export function parseWindowKey(text: string): TimeWindow | null {
  const m = /^(-?\d+)\/(-?\d+)$/.exec(text)
  if (m === null) return null
  const start = Number(m[1])
  const end = Number(m[2])
  return Number.isSafeInteger(start) && Number.isSafeInteger(end) && start < end ? { start, end } : null
}
