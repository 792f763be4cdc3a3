/**
 * Values PostgreSQL would change rather than refuse. The server rounds a numeric input to the column's
 * scale (`1.005` into `numeric(10,2)` is stored as 1.01) and a JSON literal such as `1e400` reaches
 * Sluice as Infinity, which an unconstrained `numeric` or a `double precision` column would store.
 * Either way the row would land with another value than the record had, without a word. These rows
 * are refused before the COPY, as RECORD_COLUMN dead letters naming the column and the rule, like the
 * values the server itself refuses.
 *
 * Only number-typed columns are checked, and only values that can break the rule are looked at
 * closely (an integral JS number always fits a scale; short fractions are counted from their text).
 */
import type { FlatFields, Row } from '../../../api/record.ts'
import { toDecimal } from '../../../engine/decimal.ts'
import { isExactNumber } from '../../../engine/exact-number.ts'
import { ABSENT, ASK_VALUES, type FieldName, FieldKind, fieldKind, fieldName, findField, valueEnd, valueStart } from '../../../engine/flat-json.ts'
import { SluiceError } from '../../../errors.ts'
import type { TableColumn, TableInfo } from './columns.ts'
import { fieldReader } from './copy-encode.ts'

/** One column's rule: a scale to keep (numeric(p,s)) and, for every number type, finite values only. */
interface FitRule {
  readonly name: string
  readonly type: string
  /** Decimal places the column keeps; undefined when it keeps any (unconstrained numeric, floats, integers). */
  readonly scale: number | undefined
}

const NUMERIC_TYPMOD = /^numeric\(\d+(?:,(-?\d+))?\)$/

/** The rules for a table's number columns (category N), once per write. */
export function fitRules(columns: readonly TableColumn[]): FitRule[] {
  const out: FitRule[] = []
  for (const c of columns) {
    if (c.category !== 'N' || c.generated) continue
    const m = NUMERIC_TYPMOD.exec(c.type.replace(/\s+/g, ''))
    const scale = m === null ? undefined : Number(m[1] ?? 0)
    out.push({ name: c.name, type: c.type, scale })
  }
  return out
}

/** Decimal places of a value beyond `scale` that are not zero: the column would round them away. */
function losesDigits(v: unknown, scale: number): boolean {
  if (typeof v === 'number' && Number.isInteger(v) && scale >= 0) return false
  if (typeof v !== 'number' && typeof v !== 'string' && !isExactNumber(v)) return false
  const d = toDecimal(v)
  if (d === null || d.scale <= scale) return false
  return d.digits % 10n ** BigInt(d.scale - scale) !== 0n
}

/** Why `v` cannot go into the column as it is, or undefined when it can. */
function misfit(v: unknown, rule: FitRule): string | undefined {
  // NaN never comes out of JSON.parse, so a NaN was made on purpose (a source or a cast) and is kept,
  // as PostgreSQL's number types accept it. An Infinity is what an overflowing literal becomes.
  if (v === Infinity || v === -Infinity) {
    return `value of ${rule.name} is out of range for ${rule.type} (a JSON number beyond a double's range, read as ${v}); it is refused instead of being stored as ${v}`
  }
  if (rule.scale !== undefined && losesDigits(v, rule.scale)) {
    return `value of ${rule.name} has more decimal places than ${rule.type} keeps (scale ${rule.scale}); it is refused instead of being rounded`
  }
  return undefined
}

const DOT = 0x2e

/**
 * For a row left unparsed (Row.flat): true when its field `i` surely fits the rule, false when the
 * parsed value must say. A null, a boolean or a string never breaks a rule without a scale, nor
 * a plain number (finite, written as String(n) writes it: flat-json.ts) one with a scale it keeps.
 */
function flatFits(flat: FlatFields, i: number, rule: FitRule): boolean {
  const kind = fieldKind(flat, i)
  if (kind === FieldKind.NULL || kind === FieldKind.TRUE || kind === FieldKind.FALSE) return true
  if (rule.scale === undefined) return kind === FieldKind.PLAIN_NUMBER || kind === FieldKind.PLAIN_STRING
  if (kind !== FieldKind.PLAIN_NUMBER) return false
  const b = flat.bytes
  const end = valueEnd(flat, i)
  for (let p = valueStart(flat, i); p < end; p++) if (b[p] === DOT) return end - p - 1 <= rule.scale
  return rule.scale >= 0
}

/** Splits rows into those that fit and those refused, with their RECORD_COLUMN error. */
export function refuseMisfits(table: TableInfo, rows: readonly Row[], rules: readonly FitRule[]): { fit: readonly Row[]; refused: Array<{ row: Row; error: SluiceError }> } {
  // The usual batch has no misfit: `fit` is then `rows` itself, copied only from the first refusal on.
  let fit: Row[] | null = null
  const refused: Array<{ row: Row; error: SluiceError }> = []
  const readers = rules.map((rule) => fieldReader(rule.name))
  const names: FieldName[] = rules.map((rule) => fieldName(rule.name))
  const hints = new Int32Array(rules.length)
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Row
    let reason: string | undefined
    let column = ''
    for (let r = 0; r < rules.length; r++) {
      if (row.flat !== undefined) {
        const f = findField(row.flat, names[r] as FieldName, hints[r] as number)
        if (f === ABSENT) continue
        if (f !== ASK_VALUES) {
          hints[r] = f
          if (flatFits(row.flat, f, rules[r] as FitRule)) continue
        }
      }
      const v = (readers[r] as (values: Row['values']) => unknown)(row.values)
      if (v === null || v === undefined) continue
      const rule = rules[r] as FitRule
      reason = misfit(v, rule)
      if (reason !== undefined) {
        column = rule.name
        break
      }
    }
    if (reason === undefined) {
      fit?.push(row)
      continue
    }
    fit ??= rows.slice(0, i)
    const details = { table: `${table.schema}.${table.name}`, column, partition: row.source.partition, offset: row.source.offset }
    refused.push({ row, error: new SluiceError('RECORD_COLUMN', reason, { details }) })
  }
  return { fit: fit ?? rows, refused }
}
