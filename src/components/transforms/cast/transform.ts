/**
 * `cast`: converts columns to a type, so that CSV strings or loosely typed JSON land in typed
 * columns. null stays null and an absent column stays absent. A value that cannot be converted
 * without losing information fails the row with RECORD_TRANSFORM (it goes to the DLQ):
 * - string: numbers and booleans as text, dates as ISO 8601, objects and arrays as JSON text;
 * - int: integral numbers, and strings of digits ("42", "-7", "3.0"); integers beyond 2^53 stay
 *   digit strings so that no digit is lost (PostgreSQL reads them into bigint or numeric), and a JSON
 *   number too long for a double (ExactNumber) stays exact when integral (12.0...0 -> 12), else fails;
 * - float: finite numbers and numeric strings (an ExactNumber becomes its nearest double);
 * - boolean: true/false, 1/0, and the strings true/false, t/f, yes/no, y/n, on/off, 1/0;
 * - timestamp: an ISO 8601 string (UTC); input is a Date, epoch milliseconds, or a date string,
 *   read as UTC when it names no zone (so the result does not depend on the machine's zone);
 * - json: a structured value; strings are parsed as JSON text, other values are kept.
 */
import { fieldGetter, fieldPath, setAtPath } from '../../../api/field-path.ts'
import type { RowValues } from '../../../api/record.ts'
import { SluiceError } from '../../../errors.ts'
import type { TransformStep } from '../config.ts'
import { decimalText, toDecimal } from '../../../engine/decimal.ts'
import { exactNumber, isExactNumber, parseJson } from '../../../engine/exact-number.ts'

export type CastStep = Extract<TransformStep, { type: 'cast' }>
export type CastType = CastStep['columns'][string]

/** Compiles a cast step. */
export function castTransform(step: CastStep): (values: RowValues) => RowValues {
  // A path (`order.total`) converts the nested value in place: the objects on the way are copied.
  const casts = Object.entries(step.columns).map(([column, type]) => {
    const path = fieldPath(column)
    return [column, type, CONVERTERS[type], fieldGetter(path), path] as const
  })
  return (values) => {
    const out: RowValues = { ...values }
    for (const [column, type, convert, get, path] of casts) {
      const v = get(out)
      if (v === null || v === undefined) continue
      const converted = convert(v)
      if (converted === FAIL) {
        throw new SluiceError('RECORD_TRANSFORM', `cast of column "${column}" to ${type} failed: ${preview(v)} is not a valid ${type}`, {
          details: { column, type },
        })
      }
      setAtPath(out, path, converted)
    }
    return out
  }
}

const FAIL: unique symbol = Symbol('cast failed')
type Converter = (v: unknown) => unknown

const CONVERTERS: Record<CastType, Converter> = {
  string: (v) => {
    if (typeof v === 'string') return v
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
    if (isExactNumber(v)) return v.rawJSON
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? FAIL : v.toISOString()
    return JSON.stringify(v)
  },
  int: (v) => {
    if (typeof v === 'number') return Number.isInteger(v) ? v : FAIL
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : String(v)
    if (isExactNumber(v)) return exactInteger(v.rawJSON)
    if (typeof v !== 'string') return FAIL
    const m = /^\s*([+-]?)0*(\d+)(?:\.0*)?\s*$/.exec(v)
    if (!m) return FAIL
    const digits = `${m[1] === '-' ? '-' : ''}${m[2]}`
    const n = Number(digits)
    return Number.isSafeInteger(n) ? n : digits
  },
  float: (v) => {
    if (typeof v === 'number') return Number.isFinite(v) ? v : FAIL
    if (isExactNumber(v)) {
      const n = Number(v.rawJSON)
      return Number.isFinite(n) ? n : FAIL
    }
    if (typeof v !== 'string' || v.trim() === '') return FAIL
    const n = Number(v)
    return Number.isFinite(n) ? n : FAIL
  },
  boolean: (v) => {
    if (typeof v === 'boolean') return v
    if (v === 1 || v === 0) return v === 1
    if (typeof v !== 'string') return FAIL
    const s = v.trim().toLowerCase()
    if (TRUE.has(s)) return true
    if (FALSE.has(s)) return false
    return FAIL
  },
  timestamp: (v) => {
    const ms = parseTimestampMs(v)
    return ms === null ? FAIL : new Date(ms).toISOString()
  },
  json: (v) => {
    if (typeof v !== 'string') return v
    try {
      return parseJson(v)
    } catch {
      return FAIL
    }
  },
}

/** The integer an exact number's text denotes (a number, or an ExactNumber past 2^53), or FAIL. */
function exactInteger(text: string): unknown {
  const d = toDecimal(text)
  if (d === null || d.digits % 10n ** BigInt(d.scale) !== 0n) return FAIL
  const digits = decimalText(d)
  const n = Number(digits)
  return Number.isSafeInteger(n) ? n : exactNumber(digits)
}

const TRUE = new Set(['true', 't', 'yes', 'y', 'on', '1'])
const FALSE = new Set(['false', 'f', 'no', 'n', 'off', '0'])

/** ISO date-time without a zone: `2026-01-02`, `2026-01-02T03:04`, `2026-01-02 03:04:05.678`. */
const NO_ZONE = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?$/

/** Epoch ms of a Date, epoch-ms number or date string (UTC when it names no zone), or null. */
export function parseTimestampMs(v: unknown): number | null {
  let ms: number
  if (v instanceof Date) ms = v.getTime()
  else if (typeof v === 'number') ms = v
  else if (isExactNumber(v)) ms = Number(v.rawJSON)
  else if (typeof v === 'string') {
    const s = v.trim()
    const m = NO_ZONE.exec(s)
    ms = Date.parse(m ? `${m[1]}T${m[2] ?? '00:00'}Z` : s)
  } else return null
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? ms : null
}

function preview(v: unknown): string {
  const text = typeof v === 'string' ? JSON.stringify(v) : isExactNumber(v) ? v.rawJSON : typeof v === 'object' ? (Array.isArray(v) ? 'an array' : 'an object') : String(v)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}
