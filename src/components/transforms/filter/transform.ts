/**
 * `filter`: keeps the rows whose field satisfies a comparison; the others are counted as
 * filtered. Comparisons follow SQL for nulls: a null or absent field fails every comparison
 * (`ne` and `in` too) and only matches `isnull`. Values compare by type:
 * - numbers with numbers, and with strings that hold a number (CSV fields are strings); exactly, as
 *   decimals, when a side is too long for a double (an ExactNumber from the JSON, a bigint, or a
 *   numeric string of more than 15 characters), so 9007199254740993 > 9007199254740992 holds;
 * - strings with strings, by code point (ISO timestamps compare in time order);
 * - booleans with booleans (false < true), and with the strings "true"/"false";
 * - a Date (the record timestamp) with a Date, epoch milliseconds or a date string (UTC when
 *   it names no zone).
 * Anything else does not compare: `eq`, `gt`... fail and `ne` holds.
 */
import { fieldGetter } from '../../../api/field-path.ts'
import type { RowValues } from '../../../api/record.ts'
import { SluiceError } from '../../../errors.ts'
import type { TransformStep } from '../config.ts'
import { parseTimestampMs } from '../cast/transform.ts'
import { compareDecimal, toDecimal } from '../../../engine/decimal.ts'
import { isExactNumber } from '../../../engine/exact-number.ts'

export type FilterStep = Extract<TransformStep, { type: 'filter' }>

/** Compiles a filter step into a predicate (true = keep). */
export function filterTransform(step: FilterStep): (values: RowValues) => boolean {
  const { field, op, value } = step
  // A plain name reads as fieldOf; a path (`order.total`) is parsed once, here.
  const get = fieldGetter(field)
  const isNull = (v: unknown): boolean => v === null || v === undefined
  switch (op) {
    case 'isnull':
      return (values) => isNull(get(values))
    case 'notnull':
      return (values) => !isNull(get(values))
    case 'in': {
      if (!Array.isArray(value)) throw new SluiceError('CONFIG_INVALID', `filter on "${field}": op "in" needs a list value`)
      const list: unknown[] = value
      return (values) => {
        const v = get(values)
        return !isNull(v) && list.some((x) => compareValues(v, x) === 0)
      }
    }
    default: {
      const test = TESTS[op]
      return (values) => {
        const v = get(values)
        if (isNull(v) || isNull(value)) return false
        const c = compareValues(v, value)
        return c === null ? op === 'ne' : test(c)
      }
    }
  }
}

const TESTS: Record<'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte', (c: number) => boolean> = {
  eq: (c) => c === 0,
  ne: (c) => c !== 0,
  gt: (c) => c > 0,
  gte: (c) => c >= 0,
  lt: (c) => c < 0,
  lte: (c) => c <= 0,
}

/** Orders two non-null values (negative, zero, positive), or null when they do not compare. */
export function compareValues(a: unknown, b: unknown): number | null {
  if (a instanceof Date || b instanceof Date) {
    const x = toEpochMs(a)
    const y = toEpochMs(b)
    return x === null || y === null ? null : x - y
  }
  if (isLong(a) || isLong(b)) {
    const x = toDecimal(a)
    const y = toDecimal(b)
    return x === null || y === null ? null : Math.sign(compareDecimal(x, y))
  }
  if (typeof a === 'number' || typeof b === 'number') {
    const x = toNumber(a)
    const y = toNumber(b)
    return x === null || y === null ? null : x - y
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'boolean' || typeof b === 'boolean') {
    const x = toBoolean(a)
    const y = toBoolean(b)
    return x === null || y === null ? null : Number(x) - Number(y)
  }
  return null
}

/** A number a double may not hold exactly (and a numeric string that may hold one). */
function isLong(v: unknown): boolean {
  return isExactNumber(v) || typeof v === 'bigint' || (typeof v === 'string' && v.length > 15 && toDecimal(v) !== null)
}

function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isNaN(v) ? null : v
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v)
    return Number.isNaN(n) ? null : n
  }
  return null
}

function toBoolean(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v
  if (v === 'true') return true
  if (v === 'false') return false
  return null
}

function toEpochMs(v: unknown): number | null {
  return typeof v === 'string' || typeof v === 'number' || v instanceof Date ? parseTimestampMs(v) : null
}
