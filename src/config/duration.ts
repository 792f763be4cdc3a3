/**
 * Interval strings as the seed writes them ("5 seconds", "10 minutes", "1 hour", "500 ms"), parsed to
 * milliseconds. A bare number (JSON number or numeric string) means milliseconds. The canonical form
 * written back by toJson uses the largest unit that divides the value exactly ("90 seconds" stays
 * seconds, "1500 milliseconds" stays milliseconds) so a round trip is exact.
 */

const unitMs: Record<string, number> = {}
const unitNames: [number, string[]][] = [
  [1, ['ms', 'msec', 'msecs', 'milli', 'millis', 'millisecond', 'milliseconds']],
  [1000, ['s', 'sec', 'secs', 'second', 'seconds']],
  [60_000, ['m', 'min', 'mins', 'minute', 'minutes']],
  [3_600_000, ['h', 'hr', 'hrs', 'hour', 'hours']],
  [86_400_000, ['d', 'day', 'days']],
]
for (const [ms, names] of unitNames) for (const n of names) unitMs[n] = ms

const durationRegex = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]+)?\s*$/

/** JSON Schema pattern for interval strings (units in any letter case). */
export const durationPattern =
  '^\\s*(\\d+(\\.\\d+)?|\\.\\d+)\\s*(' +
  unitNames
    .flatMap(([, names]) => names)
    .sort((a, b) => b.length - a.length)
    .map((n) => [...n].map((ch) => `[${ch}${ch.toUpperCase()}]`).join(''))
    .join('|') +
  ')?\\s*$'

/** Human description of the accepted forms, used in error messages. */
export const durationHelp =
  'an interval such as "5 seconds", "500 ms", "10 minutes", "1 hour", "2m", "1.5 s", or a number of milliseconds'

/** Parses an interval to whole milliseconds, or returns an error message saying what is allowed. */
export function parseDuration(input: string | number): { ok: true; ms: number } | { ok: false; message: string } {
  let ms: number
  if (typeof input === 'number') {
    ms = input
  } else {
    const m = durationRegex.exec(input)
    if (m === null) return { ok: false, message: `must be ${durationHelp}` }
    const unit = m[2] === undefined ? 'ms' : m[2].toLowerCase()
    const factor = unitMs[unit]
    if (factor === undefined) {
      return { ok: false, message: `unknown unit "${m[2] ?? ''}"; use ms, seconds, minutes, hours or days` }
    }
    ms = Number(m[1]) * factor
  }
  if (!Number.isFinite(ms) || ms < 0) return { ok: false, message: `must be ${durationHelp}, not negative` }
  // Floating point: 1.1 * 1000 is 1100.0000000000002; accept values within a micro-rounding of a whole ms.
  const rounded = Math.round(ms)
  if (Math.abs(rounded - ms) > 1e-6) return { ok: false, message: 'must be a whole number of milliseconds' }
  return { ok: true, ms: rounded }
}

const canonicalUnits: [number, string][] = [
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
  [1000, 'second'],
  [1, 'millisecond'],
]

/** Canonical text of a duration: "5 seconds", "1 hour", "500 milliseconds", "0 seconds". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0 seconds'
  for (const [factor, name] of canonicalUnits) {
    if (ms % factor === 0) {
      const n = ms / factor
      return `${n} ${name}${n === 1 ? '' : 's'}`
    }
  }
  return `${ms} milliseconds`
}
