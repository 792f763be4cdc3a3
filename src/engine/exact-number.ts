/**
 * Lossless JSON numbers. `JSON.parse` turns every number into a double, which silently rounds
 * integers beyond 2^53 (9007199254740993 -> 9007199254740992), long decimals, and overflows to
 * Infinity (1e400). A number whose double does not have the same decimal value as its text is kept
 * as an ExactNumber instead: V8's raw-JSON object (`JSON.rawJSON`), which holds the number's text
 * as written and which `JSON.stringify` writes back verbatim. Every other number stays a plain JS
 * number, so ordinary values cost nothing extra.
 *
 * Fast path: the reviver (with `context.source`, Node >= 22) makes the decode about four times
 * slower, so it runs only when a cheap scan finds a run of 16+ digits/dots: a number with more than
 * 15 significant digits (up to 15, a double holds a literal exactly). The scan looks at every 16th
 * byte (about 30 ns for a 200-byte event, 2-3 % of decode + COPY encode: bench/decode-numbers.ts).
 * It may also hit a string (a long digit string in a field); that only costs the slower parse,
 * never a wrong value.
 * Not covered by the scan: a short literal whose exponent leaves a double's range (1e400 becomes
 * Infinity, 1e-400 becomes 0). Looking for those too (a regex for 3-digit exponents, or a walk of
 * the parsed value for 0/Infinity/subnormals) measured another 4-6 % on that path, past the budget
 * for ordinary events; a bounded column (numeric(p,s), integers) refuses the Infinity, so such a
 * record is still a dead letter there, and a literal written with all its digits is kept exact.
 */

/** A JSON number kept as its text (a frozen V8 raw-JSON object; `JSON.stringify` emits the text). */
export interface ExactNumber {
  readonly rawJSON: string
}

interface RawJsonApi {
  rawJSON(text: string): ExactNumber
  isRawJSON(value: unknown): value is ExactNumber
}
// ES2025 (TypeScript's es2024 lib does not declare them yet).
const rawJson = JSON as unknown as RawJsonApi

type Reviver = (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown
const parseWith = JSON.parse as (text: string, reviver?: Reviver) => unknown

/** An ExactNumber holding `text`, which must be a valid JSON number. */
export function exactNumber(text: string): ExactNumber {
  return rawJson.rawJSON(text)
}

/** True for a number kept as text by parseJson (or made by exactNumber). */
export function isExactNumber(value: unknown): value is ExactNumber {
  return typeof value === 'object' && value !== null && rawJson.isRawJSON(value)
}

/** [0-9.] by char code (a table lookup beats comparisons in the scan). */
const DIGIT_OR_DOT = new Uint8Array(256)
for (const c of '0123456789.') DIGIT_OR_DOT[c.charCodeAt(0)] = 1

const isDigitOrDot = (c: number): boolean => c < 128 && DIGIT_OR_DOT[c] === 1

/**
 * True when `text` has a run of 16 or more digits and dots. A run that long covers a position
 * i with i % 16 === 15, and one of i - 8 and i + 8 too, so only every 16th character is looked at,
 * and the run around it measured only when that and a neighbour 8 away are digits or dots: about
 * one look per 16 characters on ordinary text.
 */
export function hasLongDigitRun(text: string): boolean {
  const n = text.length
  let i = 15
  while (i < n) {
    if (!isDigitOrDot(text.charCodeAt(i)) || (!isDigitOrDot(text.charCodeAt(i - 8)) && !isDigitOrDot(text.charCodeAt(i + 8)))) {
      i += 16
      continue
    }
    let start = i
    while (start > 0 && isDigitOrDot(text.charCodeAt(start - 1))) start--
    let end = i + 1
    while (end < n && isDigitOrDot(text.charCodeAt(end))) end++
    if (end - start >= 16) return true
    // A later run of 16 starts after `end`, so it covers end + 16k for some k >= 1.
    i = end + 16
  }
  return false
}

/** hasLongDigitRun over UTF-8 bytes (the same characters: digits and dots are ASCII); cheaper than charCodeAt. */
export function bytesHaveLongDigitRun(bytes: Uint8Array): boolean {
  const n = bytes.length
  let i = 15
  while (i < n) {
    if (DIGIT_OR_DOT[bytes[i] as number] !== 1 || (DIGIT_OR_DOT[bytes[i - 8] as number] !== 1 && DIGIT_OR_DOT[bytes[i + 8] ?? 0] !== 1)) {
      i += 16
      continue
    }
    let start = i
    while (start > 0 && DIGIT_OR_DOT[bytes[start - 1] as number] === 1) start--
    let end = i + 1
    while (end < n && DIGIT_OR_DOT[bytes[end] as number] === 1) end++
    if (end - start >= 16) return true
    i = end + 16
  }
  return false
}

/** parseJson for `text` decoded from `bytes` (the scan reads the bytes). */
export function parseJsonBytes(text: string, bytes: Uint8Array): unknown {
  return bytesHaveLongDigitRun(bytes) ? parseWith(text, keepExact) : JSON.parse(text)
}

/**
 * JSON.parse, except that numbers a double would change come back as ExactNumbers (see the file
 * comment for when the lossless parse runs).
 */
export function parseJson(text: string): unknown {
  return hasLongDigitRun(text) ? parseWith(text, keepExact) : JSON.parse(text)
}

function keepExact(_key: string, value: unknown, context: { source?: string }): unknown {
  if (typeof value !== 'number') return value
  const source = context.source
  if (source === undefined) return value
  return doubleIsExact(source, value) ? value : rawJson.rawJSON(source)
}

/** True when `value` (the double JSON.parse made of `source`) has exactly the decimal value written. */
export function doubleIsExact(source: string, value: number): boolean {
  if (!Number.isFinite(value)) return false
  const shown = String(value)
  return shown === source || sameDecimal(shown, source)
}

/** A decimal literal reduced to sign, significant digits and the exponent of its last digit. */
function canonical(text: string): string | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text)
  if (m === null) return null
  const fraction = m[3] ?? ''
  let digits = (m[2] ?? '') + fraction
  let exponent = (m[4] === undefined ? 0 : Number(m[4])) - fraction.length
  digits = digits.replace(/^0+/, '')
  if (digits === '') return '0'
  const trimmed = digits.replace(/0+$/, '')
  exponent += digits.length - trimmed.length
  return `${m[1] === '-' ? '-' : ''}${trimmed}e${exponent}`
}

/** True when two decimal literals denote the same number (`1.50` and `1.5e0`; `-0` and `0`). */
export function sameDecimal(a: string, b: string): boolean {
  const x = canonical(a)
  return x !== null && x === canonical(b)
}
