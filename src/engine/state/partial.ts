/**
 * Partial aggregate state of one (group key, window): one partial per aggregation, folded from
 * input values and merged with other partials. The merge is commutative and associative (and an
 * empty partial is its identity), so the partials two workers computed for the same key merge to
 * the same result in any order and grouping. Serialized to JSON without losing a digit: sums are
 * exact decimals written as decimal text (decimal.ts), min/max keep their value's type.
 *
 * SQL semantics as the aggregate step (aggregate.ts): count without a field counts rows, with a
 * field its non-null values; sum, min, max and avg ignore nulls and are null when every value is.
 * min/max compare numbers (and numeric text, and times) numerically, anything else as text; two
 * values that compare equal but are written differently (1 and 1.0) are tie-broken by their
 * serialized text, so the merge does not depend on the order the values arrived in.
 */
import { SluiceError } from '../../errors.ts'
import type { AggregateFn } from '../../config/types.ts'
import { type Decimal, addDecimal, compareDecimal, decimalText, toDecimal } from '../decimal.ts'
import { exactNumber, isExactNumber } from '../exact-number.ts'

export type { AggregateFn }

/** The running state of one aggregation. */
export type Partial =
  | { readonly fn: 'count'; readonly n: number }
  | { readonly fn: 'sum' | 'avg'; readonly sum: Decimal | null; readonly n: number }
  | { readonly fn: 'min' | 'max'; readonly best: unknown }

/** The identity of mergePartial for `fn`. */
export function emptyPartial(fn: AggregateFn): Partial {
  if (fn === 'count') return { fn, n: 0 }
  if (fn === 'sum' || fn === 'avg') return { fn, sum: null, n: 0 }
  return { fn, best: null }
}

/** An orderable view of a min/max value: numbers, numeric text and times as decimals, the rest as text. */
function orderKey(v: unknown): Decimal | string {
  if (v instanceof Date) return { digits: BigInt(v.getTime()), scale: 0 }
  return toDecimal(v) ?? textOf(v)
}

function textOf(v: unknown): string {
  if (v instanceof Date) return v.toISOString()
  if (isExactNumber(v)) return v.rawJSON
  return String(v)
}

/** Negative, zero, positive as a sorts before, with, after b (a total order: ties broken by encoding). */
export function compareValues(a: unknown, b: unknown): number {
  const x = orderKey(a)
  const y = orderKey(b)
  const primary = typeof x !== 'string' && typeof y !== 'string' ? compareDecimal(x, y) : textOf(a) < textOf(b) ? -1 : textOf(a) > textOf(b) ? 1 : 0
  if (primary !== 0) return primary
  const ea = JSON.stringify(encodeValue(a))
  const eb = JSON.stringify(encodeValue(b))
  return ea < eb ? -1 : ea > eb ? 1 : 0
}

/** True for a value min/max can hold. */
export function isOrderable(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string' || typeof v === 'boolean' || v instanceof Date || isExactNumber(v)
}

/**
 * Folds one input value into a partial. `value` is the aggregation's field value (undefined for a
 * count without a field, which counts the row). A value sum/avg cannot read as a number, or min/max
 * cannot order, is the caller's to refuse first (aggregate.ts dead-letters such a row); here it is
 * an INTERNAL error.
 */
export function foldValue(p: Partial, value: unknown, countsRow: boolean): Partial {
  const missing = value === undefined || value === null
  switch (p.fn) {
    case 'count':
      return countsRow ? { fn: 'count', n: p.n + 1 } : p
    case 'sum':
    case 'avg': {
      if (missing) return p
      const d = toDecimal(value)
      if (d === null) throw new SluiceError('INTERNAL', `${p.fn} needs a number`)
      return { fn: p.fn, sum: p.sum === null ? d : addDecimal(p.sum, d), n: p.n + 1 }
    }
    default:
      if (missing) return p
      if (!isOrderable(value)) throw new SluiceError('INTERNAL', `${p.fn} needs a number, text or time`)
      return mergePartial(p, { fn: p.fn, best: value })
  }
}

/** Merges two partials of the same aggregation (commutative, associative, emptyPartial is the identity). */
export function mergePartial(a: Partial, b: Partial): Partial {
  if (a.fn !== b.fn) throw new SluiceError('INTERNAL', `cannot merge a ${a.fn} partial with a ${b.fn} partial`)
  if (a.fn === 'count' && b.fn === 'count') return { fn: 'count', n: a.n + b.n }
  if ((a.fn === 'sum' || a.fn === 'avg') && (b.fn === 'sum' || b.fn === 'avg')) {
    const sum = a.sum === null ? b.sum : b.sum === null ? a.sum : addDecimal(a.sum, b.sum)
    return { fn: a.fn, sum, n: a.n + b.n }
  }
  if ((a.fn === 'min' || a.fn === 'max') && (b.fn === 'min' || b.fn === 'max')) {
    if (a.best === null) return b
    if (b.best === null) return a
    const c = compareValues(a.best, b.best)
    return (a.fn === 'min' ? c <= 0 : c >= 0) ? a : b
  }
  throw new SluiceError('INTERNAL', 'unreachable')
}

/** The output value of a partial: count a number, sum exact decimal text, avg a double, min/max the value. */
export function partialResult(p: Partial): unknown {
  switch (p.fn) {
    case 'count':
      return p.n
    case 'sum':
      return p.sum === null ? null : decimalText(p.sum)
    case 'avg':
      return p.sum === null ? null : Number(decimalText(p.sum)) / p.n
    default:
      return p.best
  }
}

/** A min/max value as JSON with its type, so it reads back as the same value. */
export type EncodedValue =
  | { readonly t: 'number'; readonly v: string }
  | { readonly t: 'bigint'; readonly v: string }
  | { readonly t: 'string'; readonly v: string }
  | { readonly t: 'boolean'; readonly v: boolean }
  | { readonly t: 'time'; readonly v: string }

function encodeValue(v: unknown): EncodedValue {
  if (typeof v === 'number') return { t: 'number', v: String(v) }
  if (isExactNumber(v)) return { t: 'number', v: v.rawJSON }
  if (typeof v === 'bigint') return { t: 'bigint', v: v.toString() }
  if (typeof v === 'boolean') return { t: 'boolean', v }
  if (v instanceof Date) return { t: 'time', v: v.toISOString() }
  return { t: 'string', v: String(v) }
}

function decodeValue(e: EncodedValue): unknown {
  switch (e.t) {
    case 'number': {
      // A double whose shortest text is the text written is a plain number; anything else stays exact.
      const n = Number(e.v)
      return Number.isFinite(n) && String(n) === e.v ? n : exactNumber(e.v)
    }
    case 'bigint':
      return BigInt(e.v)
    case 'time':
      return new Date(e.v)
    default:
      return e.v
  }
}

/** JSON form of a partial (sums as decimal text: exact). */
export type PartialJson =
  | { readonly fn: 'count'; readonly n: number }
  | { readonly fn: 'sum' | 'avg'; readonly sum: string | null; readonly n: number }
  | { readonly fn: 'min' | 'max'; readonly best: EncodedValue | null }

export function partialToJson(p: Partial): PartialJson {
  switch (p.fn) {
    case 'count':
      return { fn: 'count', n: p.n }
    case 'sum':
    case 'avg':
      return { fn: p.fn, sum: p.sum === null ? null : decimalText(p.sum), n: p.n }
    default:
      return { fn: p.fn, best: p.best === null ? null : encodeValue(p.best) }
  }
}

/** Reads partialToJson's output back; throws SluiceError INTERNAL on anything else (state is written only by Sluice). */
export function partialFromJson(json: unknown): Partial {
  if (typeof json !== 'object' || json === null) throw new SluiceError('INTERNAL', 'partial state must be an object')
  const o = json as Record<string, unknown>
  const n = o['n']
  switch (o['fn']) {
    case 'count':
      if (!Number.isSafeInteger(n) || (n as number) < 0) throw new SluiceError('INTERNAL', 'count partial needs a count n')
      return { fn: 'count', n: n as number }
    case 'sum':
    case 'avg': {
      if (!Number.isSafeInteger(n) || (n as number) < 0) throw new SluiceError('INTERNAL', `${String(o['fn'])} partial needs a count n`)
      const sum = o['sum'] === null ? null : toDecimal(o['sum'])
      if (sum === null && o['sum'] !== null) throw new SluiceError('INTERNAL', `${String(o['fn'])} partial has a sum that is not decimal text`)
      if ((sum === null) !== (n === 0)) throw new SluiceError('INTERNAL', `${String(o['fn'])} partial: the sum is null exactly when n is 0`)
      return { fn: o['fn'], sum, n: n as number }
    }
    case 'min':
    case 'max': {
      const best = o['best']
      if (best === null) return { fn: o['fn'], best: null }
      if (!isEncodedValue(best)) throw new SluiceError('INTERNAL', `${o['fn']} partial has an unreadable value`)
      return { fn: o['fn'], best: decodeValue(best) }
    }
    default:
      throw new SluiceError('INTERNAL', `unknown partial fn ${JSON.stringify(o['fn'])}`)
  }
}

function isEncodedValue(v: unknown): v is EncodedValue {
  if (typeof v !== 'object' || v === null) return false
  const e = v as Record<string, unknown>
  if (e['t'] === 'boolean') return typeof e['v'] === 'boolean'
  if (e['t'] === 'number') return typeof e['v'] === 'string' && toDecimal(e['v']) !== null
  if (e['t'] === 'bigint') return typeof e['v'] === 'string' && /^-?\d+$/.test(e['v'])
  if (e['t'] === 'time') return typeof e['v'] === 'string' && !Number.isNaN(Date.parse(e['v']))
  return e['t'] === 'string' && typeof e['v'] === 'string'
}
