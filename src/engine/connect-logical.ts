/**
 * Kafka Connect's and Debezium's logical types, turned into the values PostgreSQL takes. With
 * JsonConverter's schemas.enable=true a record carries its schema, and a field's logical type says
 * how its JSON encodes the value: a Decimal is base64 bytes of the unscaled two's-complement integer
 * (the scale is a schema parameter), a Date is days since 1970-01-01, a MicroTimestamp microseconds.
 * Written as they come, such a value would land as text of the encoding ("AeJA" in a numeric column
 * fails; 19723 in a date column too). The conversion is done where the envelope is decoded, since
 * only there is the schema at hand; the sink sees ordinary values (numeric text, ISO dates and
 * timestamps) and its checks (column-fit) apply to them as to any other record.
 *
 * - Decimal (`org.apache.kafka.connect.data.Decimal`, any scale, negative too) and Debezium's
 *   `io.debezium.data.VariableScaleDecimal` ({scale, value}): exact numeric text, however many digits.
 * - Date (Connect's, `io.debezium.time.Date`): days -> `YYYY-MM-DD` (`... BC` before year 1).
 * - Connect's Timestamp (ms, an instant) -> `YYYY-MM-DD HH:MM:SS.fff+00` (timestamptz).
 * - `io.debezium.time.Timestamp` / `MicroTimestamp` / `NanoTimestamp` (ms / µs / ns of a zone-less
 *   value) -> `YYYY-MM-DD HH:MM:SS.fff…` without a zone (timestamp).
 * - Connect's Time and `io.debezium.time.Time` (ms), `MicroTime` (µs), `NanoTime` (ns) of the day -> `HH:MM:SS.fff…`.
 * - `io.debezium.time.ZonedTimestamp` and every other type: as they are (already text PostgreSQL reads).
 * A JSON number already written as a number (JsonConverter's decimal.format=NUMERIC) is kept.
 * Without the schema (schemas.enable=false) nothing can be converted: see the README for the
 * Debezium settings that write plain values (decimal.handling.mode=string, time.precision.mode=connect
 * with a date as days still needing a step, or better: schemas.enable=true).
 */
import { type ConnectSchema, parseConnectSchema } from '../api/connect-schema.ts'
import type { RowValues } from '../api/record.ts'
import { isExactNumber } from './exact-number.ts'

type Convert = (value: unknown) => unknown

const MS_PER_DAY = 86_400_000n

/** Converters by logical name. */
const BY_NAME: Readonly<Record<string, (schema: ConnectSchema) => Convert>> = {
  'org.apache.kafka.connect.data.Decimal': (s) => {
    const scale = Number(s.parameters?.['scale'] ?? 0)
    if (!Number.isInteger(scale)) throw new Error(`Decimal schema has scale ${JSON.stringify(s.parameters?.['scale'])}, not an integer`)
    return (v) => (typeof v === 'string' ? decimalText(unscaled(v), scale) : v)
  },
  'io.debezium.data.VariableScaleDecimal': () => (v) => {
    if (v === null || typeof v !== 'object' || isExactNumber(v) || Array.isArray(v)) return v
    const o = v as Record<string, unknown>
    const scale = toBigInt(o['scale'], 'VariableScaleDecimal scale')
    if (typeof o['value'] !== 'string') throw new Error('VariableScaleDecimal has no "value" bytes (base64 text)')
    return decimalText(unscaled(o['value']), Number(scale))
  },
  'org.apache.kafka.connect.data.Date': () => (v) => dateText(toBigInt(v, 'Date days')),
  'io.debezium.time.Date': () => (v) => dateText(toBigInt(v, 'Date days')),
  'org.apache.kafka.connect.data.Timestamp': () => (v) => timestampText(toBigInt(v, 'Timestamp ms'), 3, '+00'),
  'io.debezium.time.Timestamp': () => (v) => timestampText(toBigInt(v, 'Timestamp ms'), 3),
  'io.debezium.time.MicroTimestamp': () => (v) => timestampText(toBigInt(v, 'MicroTimestamp µs'), 6),
  'io.debezium.time.NanoTimestamp': () => (v) => timestampText(toBigInt(v, 'NanoTimestamp ns'), 9),
  'org.apache.kafka.connect.data.Time': () => (v) => timeText(toBigInt(v, 'Time ms'), 3),
  'io.debezium.time.Time': () => (v) => timeText(toBigInt(v, 'Time ms'), 3),
  'io.debezium.time.MicroTime': () => (v) => timeText(toBigInt(v, 'MicroTime µs'), 6),
  'io.debezium.time.NanoTime': () => (v) => timeText(toBigInt(v, 'NanoTime ns'), 9),
}

/** Logical types whose values this module converts: what the sink sees is the PostgreSQL input of their column type. */
export const CONVERTED_LOGICAL_TYPES: ReadonlySet<string> = new Set(Object.keys(BY_NAME))

/** The converter of one field's schema (nulls pass), or null when its values stay as they are. */
export function fieldConverter(schema: ConnectSchema): Convert | null {
  const make = schema.name !== undefined && Object.hasOwn(BY_NAME, schema.name) ? BY_NAME[schema.name] : undefined
  if (make !== undefined) {
    const convert = make(schema)
    return (v) => (v === null || v === undefined ? v : convert(v))
  }
  if (schema.type === 'struct' && schema.fields !== undefined) {
    const row = structConverter(schema)
    return row === null ? null : (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && !isExactNumber(v) ? row(v as RowValues) : v)
  }
  return null
}

/** Converts a struct's fields in place (a fresh parsed object), or null when none has a logical type. */
export function structConverter(schema: ConnectSchema): ((row: RowValues) => RowValues) | null {
  const parts: [string, Convert][] = []
  for (const f of schema.fields ?? []) {
    const c = f.field === undefined ? null : fieldConverter(f)
    if (c !== null) parts.push([f.field as string, c])
  }
  if (parts.length === 0) return null
  return (row) => {
    for (const [name, convert] of parts) if (Object.hasOwn(row, name)) row[name] = convert(row[name])
    return row
  }
}

/**
 * The converter of a whole record's raw `schema` (as the envelope has it), or null when nothing
 * needs converting. Compiled once per distinct schema: every record of a topic repeats the same one.
 * `bytes`, the record's value, makes the lookup cheap: the schema's own text, sliced from the value
 * (`schemaText`), is the cache key; without it (or for a value not laid out as JsonConverter writes
 * it) the key is the schema serialized again, which costs about half a parse of the event.
 */
export function recordConverter(rawSchema: unknown, bytes?: Buffer): ((payload: unknown) => unknown) | null {
  if (rawSchema === null || typeof rawSchema !== 'object') return null
  const sliced = bytes === undefined ? null : schemaText(bytes)
  if (sliced !== null) {
    const hit = cache.get(sliced)
    if (hit !== undefined) return hit
    if (completeJson(sliced)) return remember(sliced, rawSchema)
  }
  const text = `=${JSON.stringify(rawSchema)}`
  const hit = cache.get(text)
  return hit !== undefined ? hit : remember(text, rawSchema)
}

function remember(key: string, rawSchema: unknown): ((payload: unknown) => unknown) | null {
  const parsed = parseConnectSchema(rawSchema)
  // A schema that does not parse converts nothing: the payload is read as it is, as before.
  const converter = 'error' in parsed ? null : fieldConverter(parsed)
  if (cache.size >= CACHE_MAX) cache.clear()
  cache.set(key, converter)
  return converter
}

const CACHE_MAX = 256
const cache = new Map<string, ((payload: unknown) => unknown) | null>()

const SCHEMA_OPEN = Buffer.from('{"schema":{')
const PAYLOAD_NEXT = Buffer.from('},"payload":')

/**
 * The text of the schema object of a value JsonConverter wrote (`{"schema":{...},"payload":...}`,
 * compact, schema first), up to the first `},"payload":`; null when the value does not start so.
 * The cut may fall inside the schema (a struct default whose nested object is followed by a field
 * named payload; a string cannot hold the separator, its quotes are escaped): then the slice is no
 * complete JSON value, which `completeJson` tells before it becomes a key. A slice that
 * is complete JSON is the whole schema: an object's text has no proper prefix that is a complete
 * object, so two different schemas never share a key.
 */
export function schemaText(bytes: Buffer): string | null {
  if (bytes.length < SCHEMA_OPEN.length + PAYLOAD_NEXT.length || bytes.compare(SCHEMA_OPEN, 0, SCHEMA_OPEN.length, 0, SCHEMA_OPEN.length) !== 0) return null
  const end = bytes.indexOf(PAYLOAD_NEXT, SCHEMA_OPEN.length - 1)
  // latin1: one char per byte, no decoding; the key only has to tell byte sequences apart.
  return end < 0 ? null : bytes.toString('latin1', SCHEMA_OPEN.length - 1, end + 1)
}

function completeJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** The unscaled integer of a Decimal: big-endian two's complement, base64. */
export function unscaled(base64: string): bigint {
  const bytes = Buffer.from(base64, 'base64')
  if (bytes.length === 0) throw new Error(`Decimal bytes ${JSON.stringify(base64.slice(0, 40))} are empty or not base64`)
  let n = 0n
  for (const b of bytes) n = (n << 8n) | BigInt(b)
  // The sign bit of the first byte: subtract 2^(8*length).
  if ((bytes[0] as number) & 0x80) n -= 1n << BigInt(8 * bytes.length)
  return n
}

/** `unscaled * 10^-scale` as exact decimal text (a negative scale multiplies). */
export function decimalText(unscaledValue: bigint, scale: number): string {
  if (scale <= 0) return (unscaledValue * 10n ** BigInt(-scale)).toString()
  const negative = unscaledValue < 0n
  const digits = (negative ? -unscaledValue : unscaledValue).toString().padStart(scale + 1, '0')
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`
}

/** An integer field value (a JS number or an exact-number literal) as a bigint. */
function toBigInt(v: unknown, what: string): bigint {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v)
  if (typeof v === 'bigint') return v
  if (isExactNumber(v) && /^-?\d+$/.test(v.rawJSON)) return BigInt(v.rawJSON)
  throw new Error(`${what} is ${typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : typeof v}, not an integer`)
}

/** Floor division (toward minus infinity), so that instants before 1970 get a positive remainder. */
function floorDiv(a: bigint, b: bigint): [bigint, bigint] {
  const q = a / b
  const r = a % b
  return r < 0n ? [q - 1n, r + b] : [q, r]
}

/** The calendar date of a day number (days since 1970-01-01), ISO, `BC` before year 1. */
export function dateText(days: bigint): string {
  return dayText(new Date(Number(days * MS_PER_DAY)), days)
}

function dayText(d: Date, days: bigint): string {
  if (Number.isNaN(d.getTime())) throw new Error(`day ${days} is outside the dates a timestamp can hold`)
  const y = d.getUTCFullYear()
  const md = `${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`
  // ISO year 0 is 1 BC: PostgreSQL reads the BC form, not a signed year.
  return y > 0 ? `${pad(y, 4)}-${md}` : `${pad(1 - y, 4)}-${md} BC`
}

/** A timestamp of `units` (10^-digits seconds) since the epoch, ISO text, zone-less unless `zone` (`+00` for an instant). */
export function timestampText(units: bigint, digits: number, zone = ''): string {
  const perDay = MS_PER_DAY * 10n ** BigInt(digits - 3)
  const [days, inDay] = floorDiv(units, perDay)
  const date = dayText(new Date(Number(days * MS_PER_DAY)), days)
  const time = timeText(inDay, digits) + zone
  // The BC suffix goes after the time (and zone).
  return date.endsWith(' BC') ? `${date.slice(0, -3)} ${time} BC` : `${date} ${time}`
}

/** A time of day from `units` (10^-digits seconds) since midnight: HH:MM:SS.fff… */
export function timeText(units: bigint, digits: number): string {
  const perSecond = 10n ** BigInt(digits)
  const [seconds, fraction] = floorDiv(units, perSecond)
  const s = Number(seconds)
  return `${pad(Math.floor(s / 3600), 2)}:${pad(Math.floor(s / 60) % 60, 2)}:${pad(s % 60, 2)}.${fraction.toString().padStart(digits, '0')}`
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}
