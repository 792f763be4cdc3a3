/**
 * Encodes rows into PostgreSQL's COPY text format (one line per row, tab-separated, `\N` for NULL,
 * backslash escapes for `\`, tab, newline and carriage return). Both drivers load this format, so
 * there is one encoder. Output is yielded in chunks (rows and bytes bounded) so that a million-row
 * batch never becomes one giant string.
 *
 * Values are encoded by the target column's type: JSON columns get JSON text, bytea gets `\x` hex,
 * timestamp columns accept Dates and epoch milliseconds, array columns accept JS arrays. Anything the
 * server cannot parse is left to it: it refuses that row, and the loader isolates and rejects it.
 * A number too long for a double (an ExactNumber) is written as its JSON text, so PostgreSQL parses
 * the digits as written: exact into numeric and bigint, refused when out of the column's range (the
 * row becomes a RECORD_COLUMN dead letter, never a rounded value), rounded by the server into
 * double precision/real as any float input is.
 */
import { isoFromMs } from '../../../iso-time.ts'
import { decimalText, toDecimal } from '../../../engine/decimal.ts'
import { isExactNumber } from '../../../engine/exact-number.ts'
import { failpointSync } from '../../../failpoint.ts'
import type { FlatFields, Row, RowValues } from '../../../api/record.ts'
import { CopyChunk } from './copy-chunk.ts'
import { type FlatColumn, type FlatPolicy, flatColumn, flatLineBound, writeFlatLine } from './copy-flat.ts'

const NEWLINE = 0x0a

/** Turns one non-null value into COPY text (already escaped). */
export type ValueEncoder = (value: unknown) => string

/** One column of a COPY: where its value comes from and how it is encoded. */
export interface CopyColumn {
  /** Column name in the table (unquoted). */
  readonly name: string
  readonly encode: ValueEncoder
  /** Which values of a row left unparsed are copied as bytes (copy-flat.ts); absent: such rows are parsed. */
  readonly flat?: FlatPolicy
}

const NEEDS_ESCAPE = /[\\\n\r\t]/
const ESCAPES = /[\\\n\r\t]/g
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/** Escapes a string for COPY text format. */
export function escapeCopy(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(ESCAPES, (c) => ESCAPED[c] as string) : s
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array
}

function numberText(n: number): string {
  if (Number.isFinite(n)) return String(n)
  return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity'
}

function dateText(d: Date): string {
  return isoFromMs(d.getTime())
}

const bigintAsText = (_key: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v)

/** JSON text of a value; BigInts (which JSON.stringify refuses) become numbers' decimal strings. */
function json(v: unknown): string | undefined {
  try {
    return JSON.stringify(v)
  } catch (err) {
    // The replacer is slow, so it is only used when the fast path met a BigInt.
    if (err instanceof TypeError) return JSON.stringify(v, bigintAsText)
    throw err
  }
}

/** Default encoding for text, numeric, boolean and unknown column types. */
export const encodeGeneric: ValueEncoder = (v) => {
  switch (typeof v) {
    case 'string':
      return escapeCopy(v)
    case 'number':
      return numberText(v)
    case 'bigint':
    case 'boolean':
      return String(v)
    default:
      if (v instanceof Date) return dateText(v)
      if (isBytes(v)) return escapeCopy(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8'))
      return escapeCopy(json(v) ?? String(v))
  }
}

/**
 * smallint, integer, bigint: an ExactNumber with an integral value written with a fraction or an
 * exponent (`9007199254740993.0`, `9.007199254740993e15`) is written as its digits, which the
 * server's integer input accepts (as it accepted the double that JSON.parse made of `1.0`); a
 * fractional one stays as written, so the server refuses it rather than it being rounded.
 */
export const encodeInteger: ValueEncoder = (v) => {
  if (!isExactNumber(v)) return encodeGeneric(v)
  const d = toDecimal(v)
  if (d === null || d.scale === 0 || d.digits % 10n ** BigInt(d.scale) !== 0n) return v.rawJSON
  return decimalText(d)
}

/** json/jsonb: any JS value becomes its JSON text; raw bytes are taken as JSON text as they are. */
export const encodeJson: ValueEncoder = (v) => {
  if (isBytes(v)) return escapeCopy(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8'))
  if (typeof v === 'bigint') return String(v)
  return escapeCopy(json(v) ?? 'null')
}

/** bytea: bytes as `\x` hex (the backslash itself escaped for COPY); strings as their UTF-8 bytes. */
export const encodeBytea: ValueEncoder = (v) => {
  if (isBytes(v)) return '\\\\x' + Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')
  if (typeof v === 'string') return '\\\\x' + Buffer.from(v, 'utf8').toString('hex')
  return encodeGeneric(v)
}

/** timestamp, timestamptz, date: numbers are epoch milliseconds. */
export const encodeTime: ValueEncoder = (v) => {
  if (typeof v === 'number') return Number.isFinite(v) ? isoFromMs(v) : numberText(v)
  return encodeGeneric(v)
}

function arrayElement(v: unknown): string {
  if (v === null || v === undefined) return 'NULL'
  if (Array.isArray(v)) return arrayLiteral(v)
  let s: string
  if (typeof v === 'string') s = v
  else if (typeof v === 'number') s = numberText(v)
  else if (typeof v === 'bigint' || typeof v === 'boolean') s = String(v)
  else if (v instanceof Date) s = dateText(v)
  else s = json(v) ?? String(v)
  return '"' + s.replace(/[\\"]/g, '\\$&') + '"'
}

function arrayLiteral(values: readonly unknown[]): string {
  return '{' + values.map(arrayElement).join(',') + '}'
}

/** Array columns: JS arrays become array literals (`{"a","b"}`); other values pass as text. */
export const encodeArray: ValueEncoder = (v) => (Array.isArray(v) ? escapeCopy(arrayLiteral(v)) : encodeGeneric(v))

/** The encoder for a column, from its type name (pg_type.typname) and category (pg_type.typcategory). */
export function encoderFor(udt: string, category: string): ValueEncoder {
  if (category === 'A') return encodeArray
  switch (udt) {
    case 'json':
    case 'jsonb':
      return encodeJson
    case 'bytea':
      return encodeBytea
    case 'int2':
    case 'int4':
    case 'int8':
      return encodeInteger
    case 'timestamp':
    case 'timestamptz':
    case 'date':
      return encodeTime
    default:
      return encodeGeneric
  }
}

/** Reads a field for a column: exact name first, then a case-insensitive match. */
export function fieldValue(values: RowValues, name: string, lower: string): unknown {
  // Own properties only: a `__proto__` or `constructor` column the record lacks is NULL, not Object's.
  const v = Object.hasOwn(values, name) ? values[name] : undefined
  if (v !== undefined) return v
  for (const k in values) {
    if (k.length === lower.length && k.toLowerCase() === lower && Object.hasOwn(values, k)) return values[k]
  }
  return undefined
}

/**
 * fieldValue for one column name, decided once (per batch) instead of per value: a name no object
 * inherits (not `constructor`, `toString`, `__proto__`, ...) is read directly, which is the same as
 * fieldValue whenever the record has that exact name; otherwise, and when it has not, fieldValue's
 * rules apply (own properties only, then a case-insensitive match).
 */
export function fieldReader(name: string): (values: RowValues) => unknown {
  const lower = name.toLowerCase()
  if (name in Object.prototype) return (values) => fieldValue(values, name, lower)
  return (values) => {
    const v = values[name]
    return v === undefined ? fieldValue(values, name, lower) : v
  }
}

/** Chunking limits of the encoder. */
export interface ChunkLimits {
  /** Rows per chunk (the load's `batchsize`). */
  readonly rows: number
  /** Approximate bytes per chunk (UTF-8). */
  readonly chars: number
}

/** 1 MiB-ish chunks: large enough to amortise a write, small enough to stream. */
export const DEFAULT_CHUNK: ChunkLimits = { rows: 10_000, chars: 1 << 20 }

/** Bytes per row assumed when sizing a chunk's Buffer for a short range (grown when it is more). */
const ROW_BYTES_GUESS = 256

/**
 * Turns a row's values into its COPY line (no newline): the column encoders and the way each
 * field is read (fieldReader) are chosen once per batch.
 */
function lineEncoder(columns: readonly CopyColumn[]): (values: RowValues) => string {
  const n = columns.length
  const readers = columns.map((c) => fieldReader(c.name))
  const encoders = columns.map((c) => c.encode)
  const parts: string[] = new Array<string>(n).fill('')
  return (values) => {
    for (let c = 0; c < n; c++) {
      const v = (readers[c] as (values: RowValues) => unknown)(values)
      parts[c] = v === null || v === undefined ? '\\N' : (encoders[c] as ValueEncoder)(v)
    }
    return parts.join('\t')
  }
}

/** Room for an ordinal column: a tab and a row index, at 3 bytes a character as CopyChunk#write counts. */
const ORDINAL_ROOM = 3 * 17

/**
 * Yields COPY text for rows [lo, hi) of `rows`, in chunks of at most `limits.rows` rows and about
 * `limits.chars` bytes, each a Buffer of its own (copy-chunk.ts). With `ordinal`, a last column
 * holds the row's index in `rows` (upsert uses it so that the last duplicate of a key wins).
 */
export function encodeRows(rows: readonly RowValues[], columns: readonly CopyColumn[], lo: number, hi: number, limits: ChunkLimits = DEFAULT_CHUNK, ordinal = false): Generator<Buffer> {
  return encodeLines(rows, (r) => r, () => undefined, columns, lo, hi, limits, ordinal)
}

/** encodeRows for a table's rows: a row left unparsed is copied from its bytes where it can be (copy-flat.ts). */
export function encodeTableRows(rows: readonly Row[], columns: readonly CopyColumn[], lo: number, hi: number, limits: ChunkLimits = DEFAULT_CHUNK, ordinal = false): Generator<Buffer> {
  return encodeLines(rows, (r) => r.values, (r) => r.flat, columns, lo, hi, limits, ordinal)
}

function flatColumns(columns: readonly CopyColumn[]): FlatColumn[] | null {
  const out: FlatColumn[] = []
  for (const c of columns) {
    if (c.flat === undefined) return null
    out.push(flatColumn(c.name, c.flat))
  }
  return out
}

function* encodeLines<T>(
  rows: readonly T[],
  valuesOf: (row: T) => RowValues,
  flatOf: (row: T) => FlatFields | undefined,
  columns: readonly CopyColumn[],
  lo: number,
  hi: number,
  limits: ChunkLimits,
  ordinal: boolean,
): Generator<Buffer> {
  const encode = lineEncoder(columns)
  const flatCols = flatColumns(columns)
  const hints = new Int32Array(columns.length)
  const separator = columns.length === 0 ? '' : '\t'
  const chunk = new CopyChunk(Math.min(limits.chars, Math.max(4096, (hi - lo) * ROW_BYTES_GUESS)))
  let count = 0
  for (let i = lo; i < hi; i++) {
    const row = rows[i] as T
    const flat = flatCols === null ? undefined : flatOf(row)
    let copied = false
    if (flat !== undefined) {
      const room = flatLineBound(flat, columns.length) + ORDINAL_ROOM + 1
      if (chunk.length > 0 && chunk.lacks(room)) {
        yield chunk.take()
        failpointSync('mid-copy')
        count = 0
      }
      chunk.reserve(room)
      copied = writeFlatLine(chunk, flat, flatCols as FlatColumn[], hints)
      if (copied && ordinal) chunk.write(separator + i)
    }
    if (!copied) {
      let line = encode(valuesOf(row))
      if (ordinal) line += separator + i
      // A line that may not fit starts the next chunk (a longer one than a chunk gets a larger Buffer).
      if (chunk.length > 0 && chunk.full(line)) {
        yield chunk.take()
        failpointSync('mid-copy') // crash tests: the COPY is open, rows sent, nothing committed
        count = 0
      }
      chunk.write(line)
    }
    chunk.byte(NEWLINE)
    if (++count >= limits.rows || chunk.length >= limits.chars) {
      yield chunk.take()
      failpointSync('mid-copy')
      count = 0
    }
  }
  if (chunk.length > 0) {
    yield chunk.take()
    failpointSync('mid-copy')
  }
}
