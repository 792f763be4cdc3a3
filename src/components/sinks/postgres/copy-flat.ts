/**
 * COPY lines straight from a record's bytes (issue 13). A row the record path left unparsed
 * (Row.flat, src/engine/flat-json.ts) is written by copying each column's value bytes, when those
 * bytes are exactly what the column's value encoder (copy-encode.ts) would write for the parsed
 * value; for any other value the line is given up and the row is encoded from its values, which
 * are parsed then. Both ways give the same bytes (a differential test keeps it so), so which way a
 * row went is never visible in the table.
 *
 * Why the bytes are the same, per value kind:
 * - a string without a backslash holds no character COPY escapes (JSON has no raw control
 *   characters) and no character JSON.stringify escapes, and the scan checked it is UTF-8: its
 *   bytes are its text, and with its quotes its JSON;
 * - a number the scan calls plain is written by `String(n)` as it is written in the record;
 * - `true`, `false` are written as they are; `null`, and a field the record lacks, are `\N`;
 * - a plain integer into a timestamp or date column is epoch milliseconds, written as encodeTime
 *   writes it (its digits give the same double JSON.parse gives: at most 15 of them).
 */
import { ABSENT, ASK_VALUES, type FieldName, FieldKind, fieldKind, fieldName, findField, valueEnd, valueStart } from '../../../engine/flat-json.ts'
import type { FlatFields } from '../../../api/record.ts'
import { isoFromMs } from '../../../iso-time.ts'
import type { CopyChunk } from './copy-chunk.ts'

/** Which value kinds a column type takes as bytes. */
export const FlatPolicy = {
  /** text, numbers, booleans and other scalar types (encodeGeneric, encodeInteger). */
  TEXT: 0,
  /** json, jsonb (encodeJson): a string with its quotes. */
  JSON: 1,
  /** timestamp, timestamptz, date (encodeTime): an integer is epoch milliseconds (a fraction is parsed). */
  TIME: 2,
  /** bytea and arrays: only NULL (their encoders turn strings into hex or literals). */
  NONE: 3,
} as const
export type FlatPolicy = (typeof FlatPolicy)[keyof typeof FlatPolicy]

/** The policy for a column, from the same type name and category as encoderFor. */
export function flatPolicyFor(udt: string, category: string): FlatPolicy {
  if (category === 'A') return FlatPolicy.NONE
  switch (udt) {
    case 'json':
    case 'jsonb':
      return FlatPolicy.JSON
    case 'bytea':
      return FlatPolicy.NONE
    case 'timestamp':
    case 'timestamptz':
    case 'date':
      return FlatPolicy.TIME
    default:
      return FlatPolicy.TEXT
  }
}

/** What to do with a value of a kind under a policy (0, the default: encode the parsed values). */
const COPY = 1
const COPY_QUOTED = 2
const NULL = 3
const EPOCH_MS = 4
const KINDS = 9
const ACTIONS = new Uint8Array(4 * KINDS)
function allow(policy: FlatPolicy, kind: FieldKind, action: number): void {
  ACTIONS[policy * KINDS + kind] = action
}
for (const policy of [FlatPolicy.TEXT, FlatPolicy.JSON, FlatPolicy.TIME, FlatPolicy.NONE]) allow(policy, FieldKind.NULL, NULL)
for (const kind of [FieldKind.PLAIN_STRING, FieldKind.PLAIN_NUMBER, FieldKind.TRUE, FieldKind.FALSE]) allow(FlatPolicy.TEXT, kind, COPY)
for (const kind of [FieldKind.PLAIN_NUMBER, FieldKind.TRUE, FieldKind.FALSE]) allow(FlatPolicy.JSON, kind, COPY)
allow(FlatPolicy.JSON, FieldKind.PLAIN_STRING, COPY_QUOTED)
for (const kind of [FieldKind.PLAIN_STRING, FieldKind.TRUE, FieldKind.FALSE]) allow(FlatPolicy.TIME, kind, COPY)
allow(FlatPolicy.TIME, FieldKind.PLAIN_NUMBER, EPOCH_MS)

const TAB = 0x09
const MINUS = 0x2d
const ZERO = 0x30
const NINE = 0x39
const BACKSLASH = 0x5c
const UPPER_N = 0x4e

/** One COPY column as the flat writer reads it. */
export interface FlatColumn {
  readonly name: FieldName
  readonly policy: FlatPolicy
}

export function flatColumn(name: string, policy: FlatPolicy): FlatColumn {
  return { name: fieldName(name), policy }
}

/** The integer a plain number's bytes [start, end) write, or null when it has a fraction. */
function integer(b: Uint8Array, start: number, end: number): number | null {
  const negative = b[start] === MINUS
  let n = 0
  for (let p = negative ? start + 1 : start; p < end; p++) {
    const c = b[p] as number
    if (c < ZERO || c > NINE) return null
    n = n * 10 + (c - ZERO)
  }
  return negative ? -n : n
}

/** Bytes a column of a flat line takes beyond its value's span at most: a tab, and quotes, `\N` or an ISO time (27). */
const COLUMN_ROOM = 32

/** Bytes a flat line of `flat` may take at most over `columns` columns. */
export function flatLineBound(flat: FlatFields, columns: number): number {
  return flat.bytes.length + columns * COLUMN_ROOM
}

/**
 * Writes the line of `flat` (no newline) into `chunk`, which has room for flatLineBound; returns
 * false, with nothing written, when a value must be encoded from the parsed values. `hints` holds
 * per column the field index the previous row had it at (events of a topic share a field order).
 */
export function writeFlatLine(chunk: CopyChunk, flat: FlatFields, columns: readonly FlatColumn[], hints: Int32Array): boolean {
  const start = chunk.length
  const bytes = flat.bytes
  for (let c = 0; c < columns.length; c++) {
    const column = columns[c] as FlatColumn
    if (c > 0) chunk.byte(TAB)
    const i = findField(flat, column.name, hints[c] as number)
    if (i === ABSENT) {
      chunk.byte(BACKSLASH)
      chunk.byte(UPPER_N)
      continue
    }
    if (i === ASK_VALUES) return chunk.rewind(start)
    hints[c] = i
    switch (ACTIONS[column.policy * KINDS + fieldKind(flat, i)]) {
      case COPY:
        chunk.copy(bytes, valueStart(flat, i), valueEnd(flat, i))
        break
      case COPY_QUOTED:
        chunk.copy(bytes, valueStart(flat, i) - 1, valueEnd(flat, i) + 1)
        break
      case NULL:
        chunk.byte(BACKSLASH)
        chunk.byte(UPPER_N)
        break
      case EPOCH_MS: {
        const ms = integer(bytes, valueStart(flat, i), valueEnd(flat, i))
        if (ms === null) return chunk.rewind(start)
        chunk.ascii(isoFromMs(ms))
        break
      }
      default:
        return chunk.rewind(start)
    }
  }
  return true
}
